"""What a word typed without a Vietnamese keyboard meant: Telex (`dangr` → `đảng`, `nuwowcs` → `nước`)
and VNI (`dang3` → `đảng`, `d9a6t` → `đất`).

People on a borrowed computer or a phone without the input method type the keys the method would have
read. The search index has no marks at all (archive.search), so what a search needs is each word's
readings: the word as typed, and what Telex or VNI would have made of it when that is a Vietnamese
syllable. Both are searched, so a word that only looks like Telex (`bus`, `sex`) keeps its literal
reading.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from archive.text import fold

ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TELEX_TONES = {"s": ACUTE, "f": GRAVE, "r": HOOK, "x": TILDE, "j": DOT}
VNI_TONES = {"1": ACUTE, "2": GRAVE, "3": HOOK, "4": TILDE, "5": DOT}
CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
HORN = {"o": "ơ", "u": "ư"}
BREVE = {"a": "ă"}
VOWELS = set("aăâeêioôơuưy")
MODIFIED = set("ăâêôơư")

# A syllable, marks folded: an initial, a nucleus Vietnamese writes, a final.
_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|b|c|d|g|h|k|l|m|n|p|q|r|s|t|v|x"
_NUCLEI = ("uye|uya|uyu|ieu|yeu|oai|oao|oay|oeo|uay|uoi|uou|ai|ao|au|ay|eo|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo"
           "|uu|uy|ye|a|e|i|o|u|y")
_SYLLABLE = re.compile(rf"(?:{_INITIALS})?(?:{_NUCLEI})(?:ch|ng|nh|c|m|n|p|t)?")


def _modify(out: list[str], table: dict[str, str]) -> bool:
    """Put the mark of ``table`` on the nearest letter before it that takes it (`uo` + horn is `ươ`)."""
    for i in range(len(out) - 1, -1, -1):
        if out[i] in table:
            out[i] = table[out[i]]
            if out[i] == "ơ" and i > 0 and out[i - 1] == "u":
                out[i - 1] = "ư"
            return True
    return False


def _place(letters: list[str], tone: str | None) -> str:
    """The syllable with its tone mark on the vowel Vietnamese puts it on."""
    word = "".join(letters)
    if not tone:
        return unicodedata.normalize("NFC", word)
    start = 2 if word[:2] in ("qu", "gi") and len(word) > 2 and word[2] in VOWELS else 0
    vowels = [i for i in range(start, len(word)) if word[i] in VOWELS]
    if not vowels:
        return unicodedata.normalize("NFC", word)
    run = [i for i in vowels if i <= vowels[0] + 2 and all(word[j] in VOWELS for j in range(vowels[0], i + 1))]
    modified = [i for i in run if word[i] in MODIFIED]
    if modified:
        at = modified[-1]
    elif run[-1] + 1 < len(word) or len(run) == 3 or word[run[0]:run[-1] + 1] in ("oa", "oe", "uy"):
        at = run[-1] if len(run) < 3 else run[1]
    else:
        at = run[0]
    return unicodedata.normalize("NFC", word[:at + 1] + tone + word[at + 1:])


def telex(word: str) -> str | None:
    """``word`` read as Telex keys, or None when they spell no Vietnamese syllable or change nothing."""
    out: list[str] = []
    tone, used = None, False
    for key in word.lower():
        if key in TELEX_TONES and any(c in VOWELS for c in out):  # no tone key is a letter after a vowel
            tone, used = TELEX_TONES[key], True
        elif key == "z" and out:
            tone, used = None, True
        elif key == "d" and out and out[-1] == "d":
            out[-1], used = "đ", True
        elif key in CIRCUMFLEX and out and out[-1] == key:
            out[-1], used = CIRCUMFLEX[key], True
        elif key == "w":  # on the nearest a, o or u: ă, ơ (ươ after u), ư; alone, ư
            if not _modify(out, {**HORN, **BREVE}):
                out.append("ư")
            used = True
        else:
            out.append(key)
    return _checked(out, tone) if used else None


def vni(word: str) -> str | None:
    """``word`` read as VNI keys (digits after the letters), or None."""
    out: list[str] = []
    tone, used = None, False
    for key in word.lower():
        if not key.isdigit() or not out:
            out.append(key)
            continue
        used = True
        if key in VNI_TONES:
            tone = VNI_TONES[key]
        elif key == "0":
            tone = None
        elif key == "9":
            at = max((i for i, c in enumerate(out) if c == "d"), default=None)
            if at is None:
                return None
            out[at] = "đ"
        elif not _modify(out, {"6": CIRCUMFLEX, "7": HORN, "8": BREVE}[key]):
            return None
    return _checked(out, tone) if used else None


def _checked(letters: list[str], tone: str | None) -> str | None:
    if not _SYLLABLE.fullmatch(fold("".join(letters))):
        return None
    if tone and not any(c in VOWELS for c in letters):
        return None
    return _place(letters, tone)


@functools.lru_cache(maxsize=4096)
def readings(word: str) -> tuple[str, ...]:
    """The word as typed, then what Telex and VNI make of it where that is a syllable: each once, folded
    as the index folds (no marks, `đ` as `d`, lower case). `dangr` → (`dangr`, `dang`)."""
    found = [fold(word).lower()]
    for reading in (telex(word), vni(word)):
        if reading and (folded := fold(reading).lower()) not in found:
            found.append(folded)
    return tuple(found)


def spelled(word: str) -> str | None:
    """The accented word a Telex or VNI ``word`` stands for (`nuwowcs` → `nước`), to show to the reader."""
    found = telex(word) or vni(word)
    return found[0].upper() + found[1:] if found and word[:1].isupper() else found

"""Vietnamese text helpers shared by extraction, storage and the sample portals.

Everything the archive stores passes through :func:`clean`, so that text is NFC whatever the page
used, and whitespace (including non-breaking and zero-width spaces) is folded the same way everywhere.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
# Combining marks (of the Basic Multilingual Plane), stripped from decomposed text: a regex, because
# ``str.translate`` with a table of them is five times slower on Vietnamese text.
_MARKS = re.compile("[" + "".join(re.escape(chr(c)) for c in range(0x10000) if unicodedata.combining(chr(c))) + "]")


# Vietnamese's own marks (the five tones, circumflex, breve, horn): removed with str.replace, which is
# far faster than a regex that matches every mark on its own.
_VIETNAMESE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b")
_ASCII_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())
_NOT_ALNUM = re.compile(r"[\W_]+")


def clean(text: str) -> str:
    """NFC-normalise and fold runs of whitespace (SPACES: str.split's, and zero-width ones) into single
    spaces."""
    return " ".join(unicodedata.normalize("NFC", text).replace("\u200b", " ").replace("\ufeff", " ").split())


def fold(text: str) -> str:
    """Lower-case and strip every tone and vowel mark, `đ` included: `Đảng ủy` → `dang uy`."""
    return _fold_decomposed(_decomposed(text))


def _decomposed(text: str) -> str:
    # đ/Đ are letters of their own: Unicode decomposition does not turn them into d/D.
    return unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))


def _fold_decomposed(decomposed: str) -> str:
    if decomposed.isascii():
        return decomposed.lower()
    for mark in _VIETNAMESE_MARKS:
        decomposed = decomposed.replace(mark, "")
    if not _without_signs(decomposed).isascii():  # other scripts' marks; the regex finds few left to remove
        decomposed = _MARKS.sub("", decomposed)
    return decomposed.lower()


def letters(text: str) -> str:
    """Its letters and digits alone, case and marks folded: `Cổng TTĐT Móng Cái` → `congttdtmongcai`."""
    decomposed = _decomposed(text)
    if _LATIN_OR_SIGNS.fullmatch(decomposed):
        # all it has besides ASCII is marks and common signs, which go anyway: encoding drops them in
        # one pass, where fold's replace per mark and the sign-stripping pass cost it twice as long
        return decomposed.encode("ascii", "ignore").lower().translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    # ASCII punctuation and spaces go byte-wise (UTF-8 never puts an ASCII byte inside another
    # character), so that the regex only meets the few non-ASCII signs left, like “ ” and –.
    kept = _fold_decomposed(decomposed).encode("utf-8", "surrogatepass").translate(None, _ASCII_NOT_ALNUM)
    folded = _without_signs(kept.decode("utf-8", "surrogatepass"))
    return folded if folded.isascii() else _NOT_ALNUM.sub("", folded)


# The signs besides ASCII that most text has, and nothing else: neither marks nor letters. With them
# gone (a str.replace each, a fast scan), most text is ASCII, and needs no regex's slower scan.
_SIGNS = ("“", "”", "‘", "’", "–", "—", "…", "«", "»", "•", "·", "\u00a0")


# Text that is ASCII, combining marks and the signs above only: nothing in it that letters() keeps
# but ASCII letters and digits.
_LATIN_OR_SIGNS = re.compile("[\x00-\x7f" + "".join(
    re.escape(chr(c)) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "".join(_SIGNS) + "]*")


def _without_signs(text: str) -> str:
    for sign in _SIGNS:
        text = text.replace(sign, "")
    return text


def story_key(text: str) -> str | None:
    """Equal for two bodies that differ only in case, marks, spacing and punctuation."""
    folded = letters(text)
    return hashlib.sha256(folded.encode()).hexdigest()[:20] if folded else None


def slugify(text: str) -> str:
    """The URL slug Vietnamese CMSes make from a headline: `Móng Cái` → `mong-cai`."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def not_html(body: bytes) -> str | None:
    """Why ``body`` cannot be an article page (empty, a PDF, binary data), or None when it may be one."""
    head = body[:1024]
    if not head.strip() and not body.strip():
        return "the page is empty"
    if head.lstrip().startswith(b"%PDF"):
        return "a PDF, not an HTML page"
    if b"\x00" in head:
        return "binary data, not an HTML page"
    return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page's text, NFC: UTF-8 when the bytes are valid UTF-8, whatever the page claims.

    Portals often declare a charset they do not use. Bytes that decode as UTF-8 (and are not plain
    ASCII) are UTF-8 beyond reasonable doubt; otherwise the HTTP header, BOM or <meta> charset
    decides (Windows-1258 included), and charset-normalizer guesses when nothing is declared.
    """
    from charset_normalizer import from_bytes
    from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
        candidates = [html_to_unicode(content_type, body, default_encoding=declared)[1]] if declared else []
        # Old portals send Windows-1258 whatever they declare: keep the reading that looks most Vietnamese.
        candidates.append(body.decode("cp1258", errors="replace"))
        best = from_bytes(body).best()
        if best:
            candidates.append(str(best))
        text = max(candidates, key=_vietnamese)
    return unicodedata.normalize("NFC", text)


# Letters only Vietnamese writes, and the replacement character of a wrong guess.
_VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ]|[\u0300\u0301\u0303\u0309\u0323]|[\u1ea0-\u1ef9]")


def _vietnamese(text: str) -> int:
    return len(_VIETNAMESE.findall(text)) - 10 * text.count("\ufffd")

"""The text helpers everything stored passes through: whitespace, marks and letters, in every script."""

from __future__ import annotations

import re
import unicodedata

import pytest

from archive.text import _MARKS, SPACES, clean, fold, letters, slugify, story_key


def _reference_fold(text: str) -> str:
    # The definition: NFD, every combining mark dropped, đ read as d, lower case.
    return _MARKS.sub("", unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))).lower()


SAMPLES = [
    "Đảng ủy thành phố Móng Cái",
    "ĐẢNG ỦY “Hải Sơn” – nước sạch…",
    "\u200b a\ufeffb\u00a0c\u3000d\x1c e\u2028f\u0085g\u202fh\u205fi",
    "İstanbul ß ﬁ Ǆ ǅ Ⅻ ①",
    "Ὀδυσσεύς, Москва, عربي, 中文, हिन्दी, ภาษาไทย",
    "e\u0301\u0327\u0338 a\u0308 n\u0303",  # marks Vietnamese does not use, decomposed
    "plain ascii, with_underscores and   spaces!",
    "«Ὀδυσσεύς» — a\u0308 ‘x’ • y · z\u00a0…",  # the common signs beside marks they do not hide
    # marks and signs of many kinds
    "x" + "".join(map(chr, range(0x0340, 0x0370))) + " ←" + "".join(map(chr, range(0x2190, 0x21C0))) + "y",
    # Vietnamese with only the common signs (letters' quick path), and beside one letter that leaves it
    "Hà Nội\u00a0–\u00a0“Đà Nẵng” • 2025…",
    "Hà Nội ß Đà Nẵng",
    "Hà Nội x\u034fy",  # the grapheme joiner: among the combining marks' code points, yet no mark
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_clean_folds_every_kind_of_space(text: str) -> None:
    assert clean(text) == SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    assert clean(text) == unicodedata.normalize("NFC", clean(text))


@pytest.mark.parametrize("text", SAMPLES)
def test_fold_and_letters_drop_every_mark_in_every_script(text: str) -> None:
    assert fold(text) == _reference_fold(text)
    assert letters(text) == re.sub(r"[\W_]+", "", _reference_fold(text))


def test_vietnamese_folds_to_plain_letters() -> None:
    assert fold("Đảng ủy Móng Cái") == "dang uy mong cai"
    assert letters("Cổng TTĐT “Móng Cái” – 2025") == "congttdtmongcai2025"
    assert slugify("Nước sạch Hải Sơn!") == "nuoc-sach-hai-son"


def test_a_story_key_ignores_case_marks_spacing_and_punctuation() -> None:
    assert story_key("Đảng ủy, Móng Cái.") == story_key("dang  UY – mong cai") is not None
    assert story_key("Đảng ủy") != story_key("Đảng ủy Móng Cái")
    assert story_key("… – “ ”") is None


def test_a_lone_surrogate_from_json_does_not_break_letters() -> None:
    assert letters("ab\ud800cd") == "abcd"

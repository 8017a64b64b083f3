"""Words typed without a Vietnamese keyboard: Telex and VNI keys read as the syllables they spell."""

from __future__ import annotations

import pytest

from archive.keyboard import readings, spelled
from archive.search import fts_query, snippet

MEANT = [  # typed, meant
    ("dangr", "dảng"), ("dang3", "dảng"), ("ddangr", "đảng"), ("d9ang3", "đảng"),
    ("nuwowcs", "nước"), ("nuwocws", "nước"), ("nu7o7c1", "nước"), ("sachj", "sạch"), ("sach5", "sạch"),
    ("hoawcj", "hoặc"), ("hoa85c", "hoặc"), ("ddaatj", "đật"), ("d9a6t5", "đật"), ("vieetj", "việt"),
    ("Thuowngf", "Thường"), ("truwcj", "trực"), ("quyeets", "quyết"), ("nguowif", "người"), ("mu7a", "mưa"),
    ("tinhr", "tỉnh"), ("giaos", "giáo"),
]


@pytest.mark.parametrize(("typed", "meant"), MEANT)
def test_telex_and_vni_spell_the_syllable(typed: str, meant: str) -> None:
    assert spelled(typed) == meant
    assert readings(typed)[0] == typed.lower()  # the literal reading first, always kept
    assert len(readings(typed)) == 2


@pytest.mark.parametrize("typed", ["Mong", "cai", "uy", "2024", "covid19", "www", "nuoc", "Quảng"])
def test_words_that_are_no_keys_keep_their_one_reading(typed: str) -> None:
    assert len(readings(typed)) == 1


def test_a_query_searches_each_word_as_typed_or_as_meant() -> None:
    assert fts_query("dangr uy") == '("dangr" OR "dang") AND "uy"'
    assert fts_query("nuwowcs*") == '("nuwowcs"* OR "nuoc"*)'
    assert fts_query('"dangr uy"') == '"dangr uy"'  # a quoted phrase is taken as it is


def test_the_snippet_marks_the_words_meant() -> None:
    assert snippet("Bảo đảm nước sạch cho người dân", "nuwowcs sach5") == (
        "Bảo đảm <mark>nước</mark> <mark>sạch</mark> cho người dân")

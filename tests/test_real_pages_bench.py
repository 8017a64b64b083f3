"""bench/real_pages.py: its scores are the ones its docstring and ../shared/benchmarks/README.md define,
and without the data it says where to get it. The data itself is never needed here."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.real_pages import Case, Output, Tally, load_cases, score, shingle_counts, shingle_f1, token_scores
from tests.conftest import ROOT


def test_without_the_data_it_says_where_to_get_it_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "bench/real_pages.py", "--cases", str(tmp_path), "--no-write"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no benchmark pages under" in result.stderr and "article-extraction-benchmark" in result.stderr


@pytest.mark.parametrize(("gold", "got", "f1"), [
    ("Một hai ba bốn", "một hai ba bốn", 1.0),  # lower-cased
    ("Một hai ba bốn", "", 0.0),  # nothing returned scores 0
    ("a b c d", "a b", 2 * 1.0 * 0.5 / 1.5),
    ("東京都", "東京", 2 * 1.0 * (2 / 3) / (1 + 2 / 3)),  # CJK split into characters
])
def test_token_f1_is_over_multisets_of_tokens(gold: str, got: str, f1: float) -> None:
    assert token_scores(gold, got)[2] == pytest.approx(f1)


def test_the_shingle_f1_is_the_scrapinghub_benchmark_s() -> None:
    exact = shingle_counts("one two three four five", "one two three four five")
    assert exact == (1.0, 0.0, 0.0) and shingle_f1([exact]) == 1.0
    half = shingle_counts("one two three four five six", "one two three four")  # 1 of 3 shingles found
    assert half == pytest.approx((1 / 3, 0.0, 2 / 3))
    assert shingle_f1([exact, half]) == pytest.approx(2 * 1.0 * (2 / 3) / (1 + 2 / 3))


def test_the_gold_s_subheadings_are_set_aside_from_the_output() -> None:
    case = Case("fundus-other", "x", "https://example.org/a", b"", "first part\nsecond part",
                headlines=["A heading"])
    tally = Tally()
    assert score(case, Output("first part\nA heading\nsecond part"), tally) == 1.0
    assert score(case, Output("first part\nAnother heading\nsecond part"), tally) < 1.0


def test_a_day_without_its_time_is_compared_as_a_calendar_day() -> None:
    case = Case("fundus-other", "x", "https://example.org/a", b"", "a b", published="2024-08-22T12:00:00+02:00")
    tally = Tally()
    score(case, Output("a b", published="2024-08-22T00:00:00+07:00"), tally)  # 21 Aug 19:00 in +02:00
    score(case, Output("a b", published="2024-08-22T16:00:00+07:00"), tally)  # 11:00 in +02:00: same day
    assert (tally.timed, tally.dates, tally.minutes) == (2, 2, 0)


def test_cases_are_read_from_both_corpora(tmp_path: Path) -> None:
    hub = tmp_path / "scrapinghub"
    (hub / "html").mkdir(parents=True)
    (hub / "html" / "p1.html.gz").write_bytes(gzip.compress(b"<html></html>"))
    (hub / "ground-truth.json").write_text(json.dumps({"p1": {"url": "https://a/1", "articleBody": "x y"}}))
    fundus = tmp_path / "fundus"
    fundus.mkdir()
    (fundus / "vn__VnExpress_2025.html.gz").write_bytes(gzip.compress(b"<html></html>"))
    (fundus / "vn__VnExpress_2025.json").write_text(json.dumps({
        "url": "https://vnexpress.net/a", "corpus": "fundus-vn", "paragraphs": ["Sapo.", "Đoạn một."],
        "title": "Tiêu đề", "publishing_date": "2025-10-22T07:00:00+07:00"}))
    cases = load_cases(tmp_path)
    assert [(c.corpus, c.body) for c in cases] == [("scrapinghub", "x y"), ("fundus-vn", "Sapo.\nĐoạn một.")]

"""Every date form of shared/portals.md parses to the minute, in UTC+7."""

from __future__ import annotations

import pytest

from archive.dates import isoformat, parse_date, parse_iso


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("11/07/2024 16:58", "2024-07-11T16:58:00+07:00"),
        ("Thứ Năm, 12/03/2020, 13:42 [GMT+7]", "2020-03-12T13:42:00+07:00"),
        ("Cập nhật lúc 08:30 ngày 20/10/2021", "2021-10-20T08:30:00+07:00"),
        ("Ngày đăng: 21/3/2023 - 15h20", "2023-03-21T15:20:00+07:00"),
        ("09/03/2021 19:10", "2021-03-09T19:10:00+07:00"),  # day first: 9 March
        ("(30/06/2025 14:30)", "2025-06-30T14:30:00+07:00"),
    ],
)
def test_vietnamese_date_lines(text: str, iso: str) -> None:
    assert isoformat(parse_date(text)) == iso


@pytest.mark.parametrize("text", ["Sáng 20/10", "Loading...", "", "31/02/2024 10:00"])
def test_lines_without_a_full_date_give_none(text: str) -> None:
    assert parse_date(text) is None


def test_iso_stamps_are_shown_in_vietnam_time() -> None:
    assert isoformat(parse_iso("2020-03-12T06:42:00Z")) == "2020-03-12T13:42:00+07:00"
    assert isoformat(parse_iso("2020-03-12T13:42:00")) == "2020-03-12T13:42:00+07:00"

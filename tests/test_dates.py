"""Every date form of shared/portals.md parses to the minute, at the page's own offset or else UTC+7."""

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


@pytest.mark.parametrize("text", ["Sáng 20/10", "Loading...", "", "31/02/2024 10:00", "2 giờ trước", "hôm qua"])
def test_lines_without_a_full_date_give_none(text: str) -> None:
    assert parse_date(text) is None


def test_iso_stamps_keep_their_own_offset_and_only_a_bare_one_is_vietnam_time() -> None:
    assert isoformat(parse_iso("2020-03-12T06:42:00Z")) == "2020-03-12T06:42:00+00:00"
    assert isoformat(parse_iso("2020-03-12T08:42:00+02:00")) == "2020-03-12T08:42:00+02:00"
    assert isoformat(parse_iso("2020-03-12T13:42:00")) == "2020-03-12T13:42:00+07:00"


@pytest.mark.parametrize(("text", "iso"), [
    ("12.03.2020 08:42 (GMT+2)", "2020-03-12T08:42:00+02:00"),
    ("12/03/2020 08:42 UTC-05:00", "2020-03-12T08:42:00-05:00"),
    ("12/03/2020 08:42 UTC+05:30", "2020-03-12T08:42:00+05:30"),
])
def test_a_printed_offset_is_kept(text: str, iso: str) -> None:
    assert isoformat(parse_date(text)) == iso


def test_a_page_s_own_offset_reaches_the_article() -> None:
    from archive.extract import extract

    body = "<p>" + "Một đoạn văn đủ dài để là thân bài của bài báo, không phải trình đơn hay chú thích. " * 3 + "</p>"
    stamped = ('<html><head><meta property="article:published_time" content="2024-07-11T11:58:00+02:00">'
               f"</head><body><article><h1>Tiêu đề của bài viết này</h1>{body}</article></body></html>")
    bare = stamped.replace("+02:00", "")
    assert extract(stamped, "https://example.org/a").published == "2024-07-11T11:58:00+02:00"
    assert extract(bare, "https://example.org/a").published == "2024-07-11T11:58:00+07:00"


@pytest.mark.parametrize(("head", "line", "published"), [
    ('<meta property="article:published:time" content="2024-10-23T15:48:15+00:00">', "", "2024-10-23T15:48:15+00:00"),
    ('<meta name="date" content="2025-10-20">', "", "2025-10-20T00:00:00+07:00"),
    # A stamp with the day alone yields to the page's own line with the time.
    ('<meta name="date" content="2025-10-20">', "<p class='ngay'>20/10/2025 14:30</p>", "2025-10-20T14:30:00+07:00"),
])
def test_more_metadata_stamps_are_read(head: str, line: str, published: str) -> None:
    from archive.extract import extract

    body = "<p>" + "Một đoạn văn đủ dài để là thân bài của bài báo, không phải trình đơn hay chú thích. " * 3 + "</p>"
    page = f"<html><head>{head}</head><body><article><h1>Tiêu đề bài viết</h1>{line}{body}</article></body></html>"
    assert extract(page, "https://example.org/a").published == published


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", "2999-12-31T08:00:00+07:00"])
def test_a_placeholder_stamp_yields_to_the_pages_own_date_line(stamp: str) -> None:
    from archive.extract import extract

    body = "<p>" + "Một đoạn văn đủ dài để là thân bài của bài báo, không phải trình đơn hay chú thích. " * 3 + "</p>"
    head = f'<meta property="article:published_time" content="{stamp}">'
    line = "<p class='ngay'>20/10/2025 14:30</p>"
    page = f"<html><head>{head}</head><body><article><h1>Tiêu đề bài viết</h1>{line}{body}</article></body></html>"
    assert extract(page, "https://example.org/a").published == "2025-10-20T14:30:00+07:00"
    alone = page.replace(line, "")
    assert extract(alone, "https://example.org/a").published is None

"""End to end: crawl the sample portals over HTTP and compare the archive with the expected articles."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from archive.samples.server import SampleSite
from crawler.profile import load_profile
from tests.conftest import cli, crawl_args, rows

# Lines of page furniture that the seed pages show and a clean article never holds.
JUNK = [
    r"^Loading\.*$", r"^\.$", r"Đang online", r"Thống kê truy cập", r"Lượt truy cập", r"^Thời tiết",
    r"Hôm nay:", r"In bài viết", r"Chia sẻ", r"Tin cùng chuyên mục", r"Các tin khác", r"Tin liên quan",
    r"Về đầu trang", r"Gửi bình luận", r"Từ khóa", r"Trang chủ", r"Bản quyền", r"Cơ quan chủ quản",
]


@pytest.fixture(scope="module")
def archived(crawled: Path) -> dict[str, dict]:
    return {r["url"]: dict(r) for r in rows(crawled, "select * from articles")}


def test_every_expected_article_is_archived_once(sample_site: SampleSite, archived: dict) -> None:
    expected = sample_site.expected()
    assert expected and len({e["url"] for e in expected}) == len(expected)
    assert sorted(archived) == sorted(e["url"] for e in expected)


def test_archived_articles_match_the_expected_ones(sample_site: SampleSite, archived: dict) -> None:
    for want in sample_site.expected():
        got = archived[want["url"]]
        assert got["portal"] == want["portal"]
        assert got["title"] == want["title"], want["url"]
        assert got["published"] == want["published"], want["url"]
        assert got["text"].split("\n") == want["paragraphs"], want["url"]
        assert got["text"] == want["text"]
        assert json.loads(got["captions"]) == want["captions"], want["url"]
        assert (got["author"], got["unit"]) == (want["author"], want["unit"]), want["url"]
        assert got["extractor"] == "profile"


def test_seed_articles_are_intact(sample_site: SampleSite, archived: dict) -> None:
    seeds = [e for e in sample_site.expected() if e["title"] in {
        "Giao ban Thường trực Thành ủy", "Giao ban Thường trực Thành ủy thường kỳ",
    }]
    assert len(seeds) == 2
    by_title = {archived[s["url"]]["title"]: archived[s["url"]] for s in seeds}
    first = by_title["Giao ban Thường trực Thành ủy"]
    assert first["published"] == "2024-07-11T16:58:00+07:00"
    assert first["text"].startswith("Sáng 11/7, Thành ủy Móng Cái tổ chức hội nghị giao ban")
    assert first["text"].endswith("việc thành lập các Tiểu ban chuẩn bị Đại hội.")
    assert (first["author"], first["unit"]) == ("Vi Thu", "Trung tâm TT&VH Móng Cái")
    # The seed page prints no date: the time comes from the listing that links to it.
    assert by_title["Giao ban Thường trực Thành ủy thường kỳ"]["published"] == "2021-10-20T08:30:00+07:00"


def test_no_junk_line_reaches_the_archive(archived: dict) -> None:
    for article in archived.values():
        lines = article["text"].split("\n") + json.loads(article["captions"])
        for line in lines:
            for pattern in JUNK:
                assert not re.search(pattern, line), f"{pattern!r} in {article['url']}: {line[:80]}"


def test_newspaper_captions_are_kept_once_and_out_of_the_body(archived: dict) -> None:
    article = next(a for a in archived.values() if a["title"].startswith('"Đông Triều'))
    captions = json.loads(article["captions"])
    assert captions == [
        "Đồng chí Nguyễn Xuân Ký, Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh, kết luận buổi làm việc.",
        "Ban Thường vụ Tỉnh ủy làm việc với Ban Thường vụ Thị ủy Đông Triều qua truyền hình trực tuyến.",
    ]
    assert not any(c in article["text"] for c in captions)
    assert article["author"] == "Thu Chung"


def test_raw_html_is_kept_compressed(crawled: Path) -> None:
    import zlib

    row = rows(crawled, "select raw_html, raw_size from pages join articles using (url) where portal = 'mongcai'")[0]
    html = zlib.decompress(row["raw_html"]).decode("utf-8")
    assert len(html.encode()) == row["raw_size"] > len(row["raw_html"])
    assert "Thống kê truy cập" in html  # the page as fetched, junk and all


def test_portals_table_names_each_portal(crawled: Path, sample_site: SampleSite) -> None:
    portals = {r["name"]: dict(r) for r in rows(crawled, "select * from portals")}
    assert set(portals) == set(sample_site.origins)
    assert portals["mongcai"]["base_url"] == "https://mongcai.gov.vn"
    assert portals["mongcai"]["crawled_from"] == sample_site.origins["mongcai"]


def test_second_crawl_adds_no_rows(sample_site: SampleSite, crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    shutil.copy(crawled, db)
    before = rows(db, "select url, content_hash, first_seen from articles join pages using (url) order by url")
    result = cli(*crawl_args(sample_site, db))
    after = rows(db, "select url, content_hash, first_seen from articles join pages using (url) order by url")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert re.search(r"mongcai\s+\d+\s+0\s+0\s+0", result.stdout), result.stdout


def test_scrapy_crawl_command_works_from_the_project(sample_site: SampleSite, tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "scrapy.db"
    subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", "portal=baoquangninh",
         "-a", f"origin={sample_site.origins['baoquangninh']}", "-s", f"ARCHIVE_DB={db}",
         "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING"],
        check=True, cwd=Path(__file__).resolve().parent.parent, timeout=300,
    )
    count = rows(db, "select count(*) from articles where portal = 'baoquangninh'")[0][0]
    assert count == sum(e["portal"] == "baoquangninh" for e in sample_site.expected())


def test_reextract_rewrites_rows_from_the_stored_pages(crawled: Path, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old-rules.db"
    shutil.copy(crawled, db)
    good = {r["url"]: dict(r) for r in rows(db, "select url, title, text, captions, author from articles")}
    conn = sqlite3.connect(db)
    with conn:  # what an older, worse extractor might have stored
        conn.execute("update articles set text = text || char(10) || 'Loading...', captions = '[]', "
                     "author = null")
    conn.close()
    mongcai = sum(row["portal"] == "mongcai" for row in rows(db, "select portal from articles"))
    result = cli("reextract", "--db", str(db), "--portal", "mongcai")
    assert f"{mongcai} articles re-extracted, {mongcai} changed" in result.stdout
    assert "Re-extracting" in result.stderr  # the progress bar
    after = {r["url"]: dict(r) for r in rows(db, "select url, portal, title, text, captions, author from articles")}
    for url, row in after.items():
        if row.pop("portal") == "mongcai":
            assert row == good[url]
        else:
            assert row["text"].endswith("Loading...") and row["author"] is None
    again = cli("reextract", "--db", str(db))
    assert f"{len(after)} articles re-extracted, {len(after) - mongcai} changed" in again.stdout


def test_no_delay_still_keeps_each_portals_concurrency(tmp_path: Path) -> None:
    # Answers take 30 ms and `--delay 0` asks for no pause at all: only the profile's concurrency
    # (which Scrapy's downloader does not enforce by itself with no delay) stops requests piling up.
    with SampleSite(count=40, latency=0.03) as site:
        cli(*crawl_args(site, tmp_path / "archive.db"))
        busiest = {name: running.most_at_once() for name, running in site.running.items()}
    for name, most in busiest.items():
        assert 1 < most <= load_profile(name).politeness.concurrency, (name, most)


def test_past_portals_at_once_the_next_portal_starts_as_one_ends(tmp_path: Path) -> None:
    import itertools
    import subprocess
    import sys

    from tests.conftest import ROOT

    db = tmp_path / "archive.db"
    with SampleSite(count=5) as site:
        live = [name for name in site.origins if not load_profile(name).retired]
        script = ("import json, sys; from crawler.runner import run_crawl; "
                  "r = run_crawl(*json.loads(sys.argv[1])); print(json.dumps([x.new for x in r]))")
        job = [live, str(db), site.origins, {"PORTALS_AT_ONCE": 1, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING",
                                             "AUTOTHROTTLE_ENABLED": False}]
        done = subprocess.run([sys.executable, "-c", script, json.dumps(job)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, check=True)
        spans = sorted((min(h.began for h in site.running[n].hits), max(h.ended for h in site.running[n].hits))
                       for n in live)
    assert json.loads(done.stdout.splitlines()[-1]) == [
        len(site.twins[n].articles()) for n in live]  # every portal crawled whole, results in order
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))  # one at a time
    assert rows(db, "select count(distinct portal) from crawl_runs")[0][0] == len(live)

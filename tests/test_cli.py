"""The command line: extract a saved page, serve the archive, and clear errors on bad input."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

from archive.samples.server import SampleSite
from tests.conftest import cli, rows
from tests.support.servers import free_port, serving


def test_extract_prints_the_clean_article(sample_site: SampleSite, tmp_path: Path) -> None:
    want = next(e for e in sample_site.expected() if e["title"] == "Giao ban Thường trực Thành ủy")
    page = tmp_path / "page.html"
    page.write_bytes(urllib.request.urlopen(want["fetched_from"]).read())
    assert want["url"].startswith("https://mongcai.gov.vn/")  # the portal's own address, whichever twin served it
    got = json.loads(cli("extract", str(page), "--url", want["url"]).stdout)
    assert got["portal"] == "mongcai" and got["extractor"] == "profile"
    for key in ("title", "published", "paragraphs", "text", "captions", "author"):
        assert got[key] == want[key], key
    assert len(got["content_hash"]) == 64


def test_serve_answers_the_json_api(crawled: Path, sample_site: SampleSite) -> None:
    with serving(crawled) as base:
        url = base + "/archive/articles.json?_shape=array&_size=max&_col=title&_col=published&_col=text"
        articles = json.load(urllib.request.urlopen(url))
        assert len(articles) == len(sample_site.expected())
        assert all(a["title"] and a["published"].endswith("+07:00") and a["text"] for a in articles)
        assert articles[0]["published"] == max(a["published"] for a in articles)  # newest first
        meta = json.load(urllib.request.urlopen(base + "/-/metadata.json"))
        assert meta["title"] == "Quảng Ninh portals news archive"


def test_unknown_portal_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = cli("crawl", "nowhere", "--db", str(tmp_path / "x.db"), check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "unknown portal 'nowhere'" in lines[0]
    assert not (tmp_path / "x.db").exists()


def test_bad_origin_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("crawl", "mongcai", "--origin", "mongcai", "--db", str(tmp_path / "x.db"), check=False)
    assert result.returncode == 2 and "PORTAL=http://host:port" in result.stderr


def test_serving_a_file_that_is_not_a_database_fails_cleanly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    result = cli("serve", "--db", str(bogus), check=False)
    assert result.returncode == 1 and "cannot open the archive" in result.stderr
    assert bogus.read_bytes() == b"this is not sqlite" * 100


def test_dead_portal_fails_the_crawl_without_touching_the_archive(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    shutil.copy(crawled, db)
    before = rows(db, "select count(*) from articles")[0][0]
    port = free_port()  # nothing listens there
    result = cli("crawl", "mongcai", "--db", str(db), "--delay", "0", "--log-level", "ERROR",
                 f"--origin=mongcai=http://127.0.0.1:{port}", check=False)
    assert result.returncode == 1 and "failed" in result.stderr
    assert rows(db, "select count(*) from articles")[0][0] == before


def test_search_finds_the_same_articles_with_or_without_accents_and_filters(crawled: Path) -> None:
    def hits(*args: str) -> list[dict]:
        return [json.loads(line) for line in cli("search", *args, "--db", str(crawled), "--json").stdout.splitlines()]

    plain, accented = hits("dang uy", "--limit", "10000"), hits("Đảng ủy", "--limit", "10000")
    assert plain and [h["url"] for h in plain] == [h["url"] for h in accented]
    assert all("<mark>" in h["snippet"] for h in plain)
    stored = {r["url"]: r for r in rows(crawled, "select url, portal, published, copy_of from articles")}
    assert all(stored[h["url"]]["copy_of"] is None for h in plain)  # one hit per story
    quangninh = hits("dang uy", "--portal", "quangninh", "--limit", "10000")
    assert quangninh and {h["portal"] for h in quangninh} == {"quangninh"}
    assert {h["url"] for h in quangninh} == {h["url"] for h in plain if h["portal"] == "quangninh"}
    recent = hits("dang uy", "--since", "2025-06-01", "--limit", "10000")
    assert recent and all(h["published"] >= "2025-06-01" for h in recent)
    assert {h["url"] for h in recent} == {h["url"] for h in plain if (h["published"] or "") >= "2025-06-01"}
    assert len(hits("dang uy", "--limit", "3")) == 3

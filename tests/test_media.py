"""The photos and documents of each article: fetched over HTTP from the twins, stored once by SHA-256 in
the media file beside the archive, linked to their articles with their captions; a missing photo and a
50 MB scan are logged and left, and a second run fetches nothing again."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path

import pytest

from archive.migrate import on_portal
from archive.samples.server import SampleSite
from tests.conftest import ROOT, cli, crawl_args, rows

PORTALS = ("mongcai", "quangninh")


def _media_hits(site: SampleSite) -> list[str]:
    return [hit.path for name in PORTALS for hit in site.running[name].hits
            if hit.path.endswith((".jpg", ".pdf"))]


@pytest.fixture(scope="module")
def media_crawl(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("media") / "archive.db"
    with SampleSite(count=12) as site:
        first = cli(*crawl_args(site, db, *PORTALS), "--log-level", "INFO")
        fetched_first = _media_hits(site)
        cli(*crawl_args(site, db, *PORTALS), "--full")
        fetched_again = _media_hits(site)[len(fetched_first):]
        yield site, db, first, fetched_first, fetched_again


def test_every_photo_is_linked_to_its_article_with_its_caption(media_crawl) -> None:
    site, db, _, _, _ = media_crawl
    for want in (e for e in site.expected() if e["portal"] in PORTALS):
        links = rows(db, "select * from article_media where url = ? order by position", (want["url"],))
        photos = [link for link in links if link["kind"] == "image"]
        assert [p["caption"] for p in photos] == want["captions"], want["url"]  # each caption to its photo
        assert all(p["source_url"].startswith(want["url"].split("/", 3)[0] + "//") for p in photos)


def test_media_are_stored_once_by_their_digest_with_the_bytes_served(media_crawl) -> None:
    site, db, _, _, _ = media_crawl
    media = {r["sha256"]: r for r in rows(db.with_name("archive-media.db"), "select * from media")}
    links = rows(db, "select a.portal, m.* from article_media m join articles a using (url) where m.sha256 is not null")
    assert links and {link["sha256"] for link in links} == set(media)
    for digest, row in media.items():
        assert hashlib.sha256(row["bytes"]).hexdigest() == digest and row["size"] == len(row["bytes"])
    for link in links[:10]:  # the bytes are what the twin serves at that address
        served = urllib.request.urlopen(on_portal(link["source_url"], site.origins[link["portal"]])).read()
        assert hashlib.sha256(served).hexdigest() == link["sha256"]
    jpeg = next(r for r in media.values() if r["content_type"] == "image/jpeg")
    assert jpeg["bytes"][:2] == b"\xff\xd8" and json.loads(jpeg["http"])["status"] == 200
    assert any(r["content_type"] == "application/pdf" and r["bytes"].startswith(b"%PDF") for r in media.values())


def test_a_story_reposted_on_another_portal_keeps_its_photos_once(media_crawl) -> None:
    _, db, _, _, _ = media_crawl
    reposts = rows(db, "select url, copy_of from articles where copy_of is not null")
    assert reposts
    for repost in reposts:
        mine = [r["sha256"] for r in rows(db, "select sha256 from article_media where url = ? and kind = 'image' "
                                          "order by position", (repost["url"],))]
        theirs = [r["sha256"] for r in rows(db, "select sha256 from article_media where url = ? and kind = 'image' "
                                            "order by position", (repost["copy_of"],))]
        assert mine == theirs and any(mine)  # two portals' addresses, one stored file each
    sources = rows(db.with_name("archive-media.db"), "select count(*) from media_sources")[0][0]
    assert sources > rows(db.with_name("archive-media.db"), "select count(*) from media")[0][0]


def test_a_missing_photo_and_a_50_mb_scan_are_logged_and_left(media_crawl) -> None:
    _, db, first, _, _ = media_crawl
    assert "File (code: 404)" in first.stderr and "larger than download max size" in first.stderr
    left = rows(db, "select m.url, m.kind, m.source_url from article_media m where m.sha256 is null")
    assert {link["kind"] for link in left} == {"image", "document"}
    assert all(link["kind"] == "image" or link["source_url"].endswith("-ban-scan.pdf") for link in left)
    archived = {r["url"] for r in rows(db, "select url from articles")}
    assert {link["url"] for link in left} <= archived  # their articles are archived all the same
    runs = rows(db, "select status, errors from crawl_runs order by id limit 2")
    assert [tuple(r) for r in runs] == [("finished", 0)] * 2  # a lost photo is not an error of the crawl


def test_a_second_run_fetches_no_media_again(media_crawl) -> None:
    _, _, _, fetched_first, fetched_again = media_crawl
    assert fetched_first and fetched_again == []


def test_no_media_fetches_none(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with SampleSite(count=4) as site:
        cli(*crawl_args(site, db, "mongcai"), "--no-media")
        assert not _media_hits(site)
    assert rows(db, "select count(*) from articles")[0][0] > 0
    assert not db.with_name("archive-media.db").exists() or not rows(
        db.with_name("archive-media.db"), "select count(*) from media")[0][0]


def test_merged_shards_keep_their_media_once(tmp_path: Path) -> None:
    shards = [tmp_path / "a" / "archive.db", tmp_path / "b" / "archive.db"]
    for shard in shards:
        shard.parent.mkdir()
    with SampleSite(count=6) as site:
        for shard, portal in zip(shards, PORTALS, strict=True):
            cli(*crawl_args(site, shard, portal))
    into = tmp_path / "merged.db"
    cli("merge", *map(str, shards), "--into", str(into))
    links = sum(rows(shard, "select count(*) from article_media")[0][0] for shard in shards)
    assert rows(into, "select count(*) from article_media")[0][0] == links
    shard_media = set().union(*({r["sha256"] for r in rows(s.with_name("archive-media.db"), "select sha256 from media")}
                                for s in shards))
    merged = {r["sha256"] for r in rows(into.with_name("merged-media.db"), "select sha256 from media")}
    assert merged == shard_media and merged  # the repost's photos, in both shards, are one file each
    linked = {r["sha256"] for r in rows(into, "select sha256 from article_media where sha256 is not null")}
    assert linked <= merged
    assert json.loads(cli("verify", "--db", str(into), "--json").stdout)["failed"] == []


def test_a_profile_limits_its_media_and_the_command_line_wins(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (ROOT / "crawler" / "profiles" / "mongcai.yaml").read_text("utf-8")
    (profiles / "mongcai.yaml").write_text(text + "\nmedia: {types: [pdf]}\n", "utf-8")
    env = {**os.environ, "PORTAL_ARCHIVE_PROFILES": str(profiles)}
    with SampleSite(count=12) as site:  # one in four articles links a document
        cli(*crawl_args(site, tmp_path / "a.db", "mongcai"), env=env)
        only_documents = _media_hits(site)
        cli(*crawl_args(site, tmp_path / "b.db", "mongcai"), "--media-types", "jpg", env=env)
        photos = _media_hits(site)[len(only_documents):]
    assert only_documents and all(path.endswith(".pdf") for path in only_documents)
    assert photos and all(path.endswith(".jpg") for path in photos)
    (profiles / "mongcai.yaml").write_text(text + "\nmedia: {max_bytes: lots}\n", "utf-8")
    broken = cli("crawl", "mongcai", "--db", str(tmp_path / "c.db"), env=env, check=False)
    assert broken.returncode == 1 and "field 'media'" in broken.stderr.strip().splitlines()[-1]


def _holding_by_definition(root, snippet: str):
    """The element media.py looks for, found the slow way the docstring defines it: down from the root,
    into the last child whose ``text_content()`` holds the snippet."""
    import re

    from lxml import etree

    from archive.text import SPACES

    pattern = SPACES.pattern.join(map(re.escape, snippet.split()))
    if not re.search(pattern, root.text_content()):
        return None
    node = root
    while holding := [c for c in node.iterchildren(etree.Element) if re.search(pattern, c.text_content())]:
        node = holding[-1]
    return node


def test_the_block_of_an_article_is_the_deepest_holding_its_first_and_last_paragraph() -> None:
    import dataclasses

    from lxml import html

    from archive import media
    from archive.extract import extract
    from archive.text import decode_html
    from bench.extraction_quality import load_cases

    tricky = ("<html><body><div><p>Mở đầu <!-- quảng cáo -->bài <b>viết</b>\u00a0ở đây.</p>"
              "<div><p>Giữa bài</p><img src='/a.jpg'></div><p>Cuối <i>bài</i> viết.</p></div>"
              "<aside><p>Cuối <i>bài</i></p></aside><template>Cuối bài viết.</template>"
              "<script>{\"articleBody\": \"Mở đầu bài viết ở đây. Cuối bài viết.\"}</script></body></html>")
    pages = [(decode_html(case.html), None) for case in load_cases()]
    assert pages
    for text, paragraphs in [*pages, (tricky, ["Mở đầu bài viết ở đây.", "Cuối bài viết."])]:
        root = html.fromstring(text)
        for unprinted in root.iter("script", "style", "template"):
            unprinted.text = None
        article = extract(text, "https://mongcai.gov.vn/bai/1.html")
        article = dataclasses.replace(article, paragraphs=paragraphs or article.paragraphs)
        index = media._Text(root)
        assert index.text == root.text_content()
        first, last = (_holding_by_definition(root, p[:60]) for p in (article.paragraphs[0], article.paragraphs[-1]))
        assert media._deepest_holding(index, root, article.paragraphs[0][:60]) is first is not None
        assert media._deepest_holding(index, root, article.paragraphs[-1][:60]) is last is not None
        common = next(a for a in [last, *last.iterancestors()] if a is first or first in a.iterdescendants())
        assert media._container(root, article) is common
    # The JSON a script repeats the article in, or a <template>, is not where the article is printed.
    root = html.fromstring(tricky)
    block = media._container(root, article)
    assert block is not None and block.tag == "div" and block.getparent().tag == "body"


def test_the_tree_extraction_hands_on_finds_what_the_page_does() -> None:
    """Extraction changes its own tree (captions taken out, junk dropped): the workers hand media the
    page as parsed, so that its photos keep their captions."""
    from archive.extract import extract
    from archive.media import find_media
    from archive.model import Hints
    from archive.text import decode_html
    from archive.workers import extract_page
    from bench.extraction_quality import load_cases

    found = 0
    for case in load_cases():
        url = "https://mongcai.gov.vn/bai/1.html"
        expected = find_media(decode_html(case.html), extract(case.html, url))
        assert extract_page(case.html, url, None, None, Hints(), None).media == expected
        found += sum(1 for ref in expected if ref.caption)
    assert found  # photos with captions were compared, not empty lists


def test_a_paragraph_s_places_are_where_a_regex_of_its_words_finds_it() -> None:
    import re

    from archive.media import _places
    from archive.text import SPACES

    text = ("Tin: Đảng ủy xã họp.\u00a0Đảng  ủy\nxã họp. Đảng ủy xã họp.Đảng ủy xã\u3000họp, "
            "Đảng ủyxã họp. Đảng ủy xã họ Đảng Đảng ủy xã họp")
    for snippet in ["Đảng ủy xã họp", "Đảng", "xã họp. Đảng", "họp", "không có"]:
        words = snippet.split()
        pattern = re.compile(SPACES.pattern.join(map(re.escape, words)))
        expected, found = [], pattern.search(text)
        while found:
            expected.append(found.span())
            found = pattern.search(text, found.start() + 1)
        assert list(_places(text, words)) == expected
    assert len(list(_places(text, ["Đảng", "ủy", "xã", "họp"]))) == 5


@pytest.mark.parametrize("page_url", ["https://mongcai.gov.vn/bai/1.html", "https://mongcai.gov.vn/van-ban.pdf/xem"])
def test_links_are_joined_only_where_one_can_be_a_document(monkeypatch: pytest.MonkeyPatch, page_url: str) -> None:
    """A link naming no document type, on a page whose URL names none, is passed over unjoined: the
    documents found are those joining every link finds."""
    import dataclasses
    import re

    from archive import media
    from archive.extract import extract

    hrefs = ["/files/qd-12.pdf", "QD-13.PDF", "../up/ke-hoach.docx?v=2", "https://www.mongcai.gov.vn/a/bao-cao.xlsx",
             "https://other.vn/x.pdf", "?file=a.pdf", "#b.pdf", "", ".", "..", "/tin-tuc/1.html", "bang.ods#p=2",
             "javascript:void(0)", "/a.pdf/b", "  /dau-cach.zip  "]
    links = "".join(f"<a href='{href}'>Tệp {n}</a>" for n, href in enumerate(hrefs))
    root_html = (f"<html><body><div><p>Đoạn mở đầu của bài viết.</p>{links}<p>Đoạn cuối của bài viết.</p></div>"
                 "</body></html>")
    article = dataclasses.replace(extract(root_html, page_url),
                                  paragraphs=["Đoạn mở đầu của bài viết.", "Đoạn cuối của bài viết."])
    found = media.find_media(root_html, article)
    monkeypatch.setattr(media, "_NAMES_DOCUMENT", re.compile(""))  # every link joined
    assert found == media.find_media(root_html, article)
    assert [ref.url.rsplit("/", 1)[-1] for ref in found if ref.kind == "document"][:3] == \
        ["qd-12.pdf", "QD-13.PDF", "ke-hoach.docx?v=2"]

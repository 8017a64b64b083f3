"""The archive file: atomic writes, the full-text index kept exact, reposts linked to the original."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from archive.db import Archive
from archive.search import search
from archive.text import story_key
from bench.extraction_quality import load_cases
from tests.conftest import rows

CASE = next(c for c in load_cases() if c.name == "city/000_51e18d3c6b6234b7")


def article(url: str, published: str, text: str | None = None):
    from archive.extract import extract

    base = extract(CASE.html, url)
    return replace(base, url=url, published=published, text=text or base.text, story=story_key(text or base.text),
                   content_hash=f"{url}{published}{text}")


def fts_ok(archive: Archive) -> None:
    archive.db.execute("insert into articles_fts(articles_fts) values('integrity-check')")


def test_a_failed_save_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = Archive(tmp_path / "a.db")
    archive.save(article("https://mongcai.gov.vn/a", "2024-07-11T16:58:00+07:00"), CASE.html)

    def disk_full(*args: object, **kwargs: object) -> None:  # the page's row, after the article's
        raise OSError("database or disk is full")

    monkeypatch.setattr(archive, "_upsert", disk_full)
    with pytest.raises(OSError):
        archive.save(article("https://mongcai.gov.vn/b", "2024-07-12T08:00:00+07:00"), CASE.html)
    assert [r[0] for r in archive.db.execute("select url from articles")] == ["https://mongcai.gov.vn/a"]
    fts_ok(archive)


def test_reposts_point_at_the_first_publication_and_are_indexed_once(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    later = article("https://www.quangninh.gov.vn/Trang/ChiTietTinTuc.aspx?nid=7", "2024-07-11T19:00:00+07:00")
    archive.save(later, CASE.html)
    hits = search(archive.db.conn, "dang uy mong cai")
    assert [h.url for h in hits] == [later.url]
    # The city portal's own copy, published earlier, arrives on the next night: it becomes the original.
    first = article("https://mongcai.gov.vn/vi-vn/tin/giao-ban-n1", "2024-07-11T16:58:00+07:00")
    archive.save(first, CASE.html)
    links = dict(archive.db.execute("select url, copy_of from articles").fetchall())
    assert links == {first.url: None, later.url: first.url}
    hits = search(archive.db.conn, "dang uy mong cai")
    assert [(h.url, h.copies) for h in hits] == [(first.url, 1)]
    fts_ok(archive)
    # The original is edited into a different story: the repost stands alone again.
    edited = first.text + "\nĐoạn mới."
    archive.save(replace(first, text=edited, story=story_key(edited), content_hash="edited"), CASE.html)
    links = dict(archive.db.execute("select url, copy_of from articles").fetchall())
    assert links == {first.url: None, later.url: None}
    assert {h.url for h in search(archive.db.conn, "dang uy mong cai")} == {first.url, later.url}
    fts_ok(archive)


def test_an_archive_from_an_early_layout_is_refused_clearly(tmp_path: Path) -> None:
    import sqlite3

    from archive.db import ArchiveError

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("create table articles (url text primary key, title text)")
    conn.commit()
    conn.close()
    with pytest.raises(ArchiveError, match="cannot be upgraded"):
        Archive(path)
    assert rows(path, "select count(*) from articles")[0][0] == 0


@pytest.mark.parametrize("published", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00+07:00"])
def test_a_time_past_the_search_keys_range_is_stored_and_found(tmp_path: Path, published: str) -> None:
    # Extraction passes such placeholders over; the archive must not refuse an article that has one.
    archive = Archive(tmp_path / "a.db")
    usual = article("https://mongcai.gov.vn/a", "2024-07-11T16:58:00+07:00", "Tin thường về nước sạch.")
    odd = article("https://mongcai.gov.vn/b", published, "Tin lạ về nước sạch.")
    archive.save(usual, CASE.html)
    archive.save(odd, CASE.html)
    assert {r["url"]: r["published"] for r in rows(tmp_path / "a.db", "select url, published from articles")} == {
        usual.url: usual.published, odd.url: published}
    assert {h.url for h in search(archive.db.conn, "nuoc sach")} == {usual.url, odd.url}
    fts_ok(archive)


def test_a_batch_indexes_its_articles_at_its_end_in_rowid_order(tmp_path: Path) -> None:
    """A crawl archives newest first; FTS5 starts a new segment for every rowid lower than the one before."""
    import re

    archive = Archive(tmp_path / "a.db")
    archive.save(article("https://mongcai.gov.vn/old", "2024-06-01T08:00:00+07:00", "Bài cũ về cầu cảng."), CASE.html)
    newest_first = [article(f"https://mongcai.gov.vn/{day}", f"2024-07-{day:02d}T08:00:00+07:00",
                            f"Tin số {day} về lễ hội biên giới.") for day in range(20, 10, -1)]
    repost = replace(newest_first[0], url="https://www.quangninh.gov.vn/repost",
                     published="2024-07-21T08:00:00+07:00", content_hash="repost")
    edited_old = article("https://mongcai.gov.vn/old", "2024-06-01T08:00:00+07:00", "Bài cũ về bến phà.")
    edited_new = replace(newest_first[3], text="Tin sửa về chợ đêm.", story=story_key("Tin sửa về chợ đêm."),
                         content_hash="edited")
    written: list[int] = []

    def trace(sql: str) -> None:
        if found := re.match(r"insert into articles_fts\(rowid, [^)]*\) values \((-?\d+),", sql):
            written.append(int(found[1]))

    archive.db.conn.set_trace_callback(trace)
    with archive.batch():
        for item in [*newest_first, repost, edited_old, edited_new]:
            archive.save(item, CASE.html)
        assert written == []  # nothing indexed before the batch ends
    archive.db.conn.set_trace_callback(None)
    originals = rows(tmp_path / "a.db", "select search_key from articles where copy_of is null order by 1")
    assert written == [key for (key,) in originals]  # each original once, in rowid order; the old one again
    archive.db.execute("insert into articles_fts(articles_fts, rank) values('integrity-check', 1)")
    assert {h.url for h in search(archive.db.conn, "le hoi bien gioi")} == {a.url for a in newest_first} - {
        edited_new.url}
    assert [h.url for h in search(archive.db.conn, "cho dem")] == [edited_new.url]
    assert [h.url for h in search(archive.db.conn, "ben pha")] == [edited_old.url]
    assert search(archive.db.conn, "cau cang") == []


def test_stored_pages_are_plain_zlib_streams() -> None:
    """Packed by zlib-ng for speed, read back by anything that reads zlib (Python's own, WARC tools)."""
    import zlib

    from archive.db import pack

    pages = [case.html for case in load_cases()]
    assert pages and all(zlib.decompress(pack(page)) == page for page in pages)


def test_a_batch_that_fails_halfway_leaves_what_was_archived_before_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a batch an article has no savepoint of its own: the batch is all or nothing."""
    archive = Archive(tmp_path / "a.db")
    kept = article("https://mongcai.gov.vn/kept", "2024-07-01T08:00:00+07:00", "Tin đã lưu về cửa khẩu.")
    archive.save(kept, CASE.html)
    calls = 0

    def full_on_second(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second article's page row, after its article row
            raise OSError("database or disk is full")
        return upsert(*args, **kwargs)

    upsert = archive._upsert
    monkeypatch.setattr(archive, "_upsert", full_on_second)
    with pytest.raises(OSError), archive.batch():
        for n in (1, 2):
            archive.save(article(f"https://mongcai.gov.vn/{n}", f"2024-07-1{n}T08:00:00+07:00", f"Tin {n} về chợ."),
                         CASE.html)
    assert [r[0] for r in archive.db.execute("select url from articles")] == [kept.url]
    assert [h.url for h in search(archive.db.conn, "cua khau")] == [kept.url] and search(archive.db.conn, "cho") == []
    archive.db.execute("insert into articles_fts(articles_fts, rank) values('integrity-check', 1)")

"""Merge shard archives (one per crawl worker) into the served archive, idempotently.

Articles meet on their canonical URL. For an article both files hold, the texts each has seen (its
current one and its earlier versions) are put on one timeline: the text of the latest fetch is
current, the others are versions in the order they were first seen. The page row is the one of the
latest fetch, `gone_at` follows the latest check, `first_seen` is the earlier one. Crawl runs and
portals are copied once. Merging a shard a second time finds nothing to change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.db import ARTICLE_COLUMNS, RUN_COLUMNS, VERSION_COLUMNS, Archive, ArchiveError, writing
from archive.mediastore import MediaStore, media_path

BATCH = 200  # articles per transaction: a merge cut short keeps what it wrote, and starts again cleanly
# What extraction gives an article, as opposed to what the archive keeps about it (ids, times, links).
_SOURCE = ("fetched_from", "captured_at")
_TEXT = [c for c in VERSION_COLUMNS
         if c not in ("url", "version", "content_hash", "fetched_at", "replaced_at", *_SOURCE)]
_EXTRACTED = [c for c in ARTICLE_COLUMNS if c not in (
    "id", "url", "version", "first_seen", "updated_at", "gone_at", "copy_of", "search_key")]


@dataclass
class MergeResult:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    runs: int = 0
    media: int = 0  # photos and documents new to the target's media file


@dataclass
class _Text:
    """One text an article had: its fields, its hash, and when it was first seen."""

    fields: dict
    content_hash: str | None
    since: str
    source: dict = field(default_factory=dict)  # its provenance: fetched_from, captured_at


def _rows(conn: sqlite3.Connection, sql: str, args: list | tuple = ()) -> Iterator[dict]:
    cursor = conn.execute(sql, args)
    names = [c[0] for c in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def _open_shard(path: Path) -> sqlite3.Connection:
    """The shard, read-only; ArchiveError in one line when it is not an archive."""
    if not path.is_file():
        raise ArchiveError(f"{path}: no such shard")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise ArchiveError(f"{path}: cannot read the shard: {err}") from err
    if not {"articles", "pages", "article_versions", "crawl_runs", "portals"} <= tables:
        conn.close()
        raise ArchiveError(f"{path}: not a portal-archive shard")
    return conn


def _timeline(current: dict, page: dict, versions: list[dict]) -> tuple[list[_Text], str]:
    """An article's texts in one file, and when its current text was last fetched."""
    texts = [_Text({c: v[c] for c in _TEXT}, v["content_hash"], v["fetched_at"], {c: v.get(c) for c in _SOURCE})
             for v in versions]
    texts.append(_Text({c: current[c] for c in _EXTRACTED}, page["content_hash"], current["updated_at"],
                       {c: page.get(c) for c in _SOURCE}))
    return texts, page["last_fetched"] or ""


def _merged(ours: tuple[list[_Text], str], theirs: tuple[list[_Text], str]) -> list[_Text]:
    """Both files' texts, one per hash (first seen wins), oldest first, the latest fetch's text last."""
    (our_texts, our_fetch), (their_texts, their_fetch) = ours, theirs
    latest = their_texts[-1] if their_fetch > our_fetch else our_texts[-1]
    by_hash: dict[str | None, _Text] = {}
    for text in our_texts + their_texts:
        seen = by_hash.get(text.content_hash)
        if seen is None or text.since < seen.since:
            source = text.source or (seen.source if seen else {})
            by_hash[text.content_hash] = _Text({**(seen.fields if seen else {}), **text.fields},
                                               text.content_hash, text.since, source)
    current = by_hash.pop(latest.content_hash)
    current = _Text({**current.fields, **latest.fields}, latest.content_hash, current.since, current.source)
    return [*sorted(by_hash.values(), key=lambda t: t.since), current]


def _merge_article(target: Archive, shard: sqlite3.Connection, theirs: dict) -> str:
    url = theirs["url"]
    their_page = next(_rows(shard, "select * from pages where url = ?", [url]))
    their_versions = list(_rows(shard, "select * from article_versions where url = ? order by version", [url]))
    outcome = merge_copy(target, theirs, their_page, their_versions)
    _merge_links(target, shard, url, their_page)
    return outcome


def _merge_links(target: Archive, shard: sqlite3.Connection, url: str, their_page: dict) -> None:
    """The shard's photo and document links of the article, when its fetch is the one the target kept."""
    if not _has(shard, "article_media"):
        return
    links = [{k: v for k, v in link.items() if k != "url"}
             for link in _rows(shard, "select * from article_media where url = ? order by position", [url])]
    kept = target.db.execute("select last_fetched from pages where url = ?", [url]).fetchone()
    mine = target.db.execute("select count(*) from article_media where url = ?", [url]).fetchone()[0]
    if links and (not mine or (kept and kept[0] == their_page["last_fetched"])):
        target.link_media(url, links)


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("select 1 from sqlite_master where type = 'table' and name = ?", [table]).fetchone() is not None


def _merge_media(target: Archive, shard_path: Path) -> int:
    """The shard's media file into the target's: each file once by its digest; returns how many were new."""
    source = media_path(shard_path)
    if not source.is_file():
        return 0
    store, added = MediaStore(media_path(target.path)), 0
    try:
        theirs = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            with store.db.conn:
                for row in _rows(theirs, "select * from media"):
                    cursor = store.db.execute(
                        "insert or ignore into media (sha256, bytes, content_type, size, source_url, fetched_from, "
                        "first_fetched, http) values (:sha256, :bytes, :content_type, :size, :source_url, "
                        ":fetched_from, :first_fetched, :http)", row)
                    added += cursor.rowcount
                for row in _rows(theirs, "select * from media_sources"):
                    store.db.execute("insert or ignore into media_sources (url, sha256, fetched_at) "
                                     "values (:url, :sha256, :fetched_at)", row)
        finally:
            theirs.close()
    finally:
        store.close()
    return added


def merge_copy(target: Archive, theirs: dict, their_page: dict, their_versions: list[dict]) -> str:
    """Put another copy of an article (its row, page and versions, all under ``theirs["url"]``) on one
    timeline with the copy ``target`` holds, if any; returns "new", "changed" or "unchanged"."""
    url = theirs["url"]
    mine = next(_rows(target.db.conn, "select * from articles where url = ?", [url]), None)
    if mine is None:
        target._write_article({c: theirs[c] for c in ARTICLE_COLUMNS if c not in ("id", "copy_of", "search_key")},
                              None)
        for version in their_versions:
            target.db["article_versions"].insert(version, pk=("url", "version"))
        target.db["pages"].insert(their_page, pk="url")
        return "new"
    my_page = next(_rows(target.db.conn, "select * from pages where url = ?", [url]))
    my_versions = list(_rows(target.db.conn, "select * from article_versions where url = ? order by version", [url]))
    texts = _merged(_timeline(mine, my_page, my_versions), _timeline(theirs, their_page, their_versions))
    newer_fetch = (their_page["last_fetched"] or "") > (my_page["last_fetched"] or "")
    newer_check = (their_page["last_checked"] or "") > (my_page["last_checked"] or "")
    article = {
        **texts[-1].fields, "version": len(texts), "updated_at": texts[-1].since,
        "first_seen": min(mine["first_seen"] or "~", theirs["first_seen"] or "~"),
        "gone_at": theirs["gone_at"] if newer_check else mine["gone_at"],
    }
    page = {**(their_page if newer_fetch else my_page),
            "last_checked": max(my_page["last_checked"] or "", their_page["last_checked"] or "") or None}
    if newer_check:
        page["http_status"] = their_page["http_status"]
    versions = [
        {"url": url, "version": n, **{c: t.fields.get(c) for c in _TEXT}, "content_hash": t.content_hash,
         "fetched_at": t.since, "replaced_at": texts[n].since, **{c: t.source.get(c) for c in _SOURCE}}
        for n, t in enumerate(texts[:-1], start=1)
    ]
    same_article = all(mine.get(c) == v for c, v in article.items())
    same_page = all(my_page.get(c) == v for c, v in page.items())
    if same_article and same_page and versions == my_versions:
        return "unchanged"
    if not same_article:
        target._write_article({"url": url, **article}, mine)
    if not same_page:
        target.db["pages"].upsert(page, pk="url")
    if versions != my_versions:
        target.db.execute("delete from article_versions where url = ?", [url])
        target.db["article_versions"].insert_all(versions, pk=("url", "version"))
    return "changed"


def _merge_runs(target: Archive, shard: sqlite3.Connection) -> int:
    """Copy the shard's crawl runs the target lacks (one run: the same portal, start and process)."""
    copied = 0
    for run in _rows(shard, "select * from crawl_runs where started is not null order by id"):
        exists = target.db.execute(
            "select 1 from crawl_runs where portal is ? and started = ? and pid is ?",
            [run["portal"], run["started"], run["pid"]],
        ).fetchone()
        if not exists:
            target.db["crawl_runs"].insert({c: run.get(c) for c in RUN_COLUMNS if c != "id"})
            copied += 1
    for portal in _rows(shard, "select * from portals"):
        row = target.db.execute("select last_crawled from portals where name = ?", [portal["name"]]).fetchone()
        if row is None or (portal["last_crawled"] or "") > (row[0] or ""):
            target.db["portals"].upsert(portal, pk="name")
    return copied


def merge(target: Archive, shard_path: str | Path) -> MergeResult:
    """Merge one shard into ``target``; safe to repeat, and to interrupt."""
    shard = _open_shard(Path(shard_path))
    result = MergeResult()
    try:
        rows = _rows(shard, "select * from articles order by id")
        while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
            with target.batch():
                for row in batch:
                    outcome = _merge_article(target, shard, row)
                    setattr(result, outcome, getattr(result, outcome) + 1)
        with target.db.atomic():
            result.runs = _merge_runs(target, shard)
        result.media = _merge_media(target, Path(shard_path))
    except sqlite3.DatabaseError as err:
        raise ArchiveError(f"{shard_path}: cannot read the shard: {err}") from err
    finally:
        shard.close()
    return result


def merge_all(into: str | Path, shards: list[str]) -> Iterator[tuple[str, MergeResult | ArchiveError]]:
    """`portal-archive merge`: each shard into the archive ``into`` (created if missing), under its
    write lock; yields each shard with what it gave, or the error that kept it out (the others are
    merged all the same)."""
    if any(Path(shard).resolve() == Path(into).resolve() for shard in shards):
        raise ArchiveError(f"{into} is the archive merged into, not a shard")
    with writing(into) as archive:
        for shard in shards:
            try:
                yield shard, merge(archive, shard)
            except ArchiveError as err:
                yield shard, err

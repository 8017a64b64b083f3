"""The archive: one SQLite file written with sqlite-utils.

- ``articles``: what a reader wants, one row per article, keyed by canonical URL (a re-crawl updates
  the row, never adds one). ``id`` is an explicit INTEGER PRIMARY KEY so that rowids, which the
  full-text index refers to, survive VACUUM.
- ``pages``: the page as fetched (its bytes, zlib-compressed) and the HTTP facts a re-check needs, so
  extraction can be re-run when rules improve.
- ``article_versions``: earlier texts of articles their portal edited.
- ``crawl_runs``, ``portals``: what was crawled when.
- ``articles_fts``: FTS5 over ``articles_search``, a view of the articles with `đ` folded to `d`
  (SQLite's ``remove_diacritics 2`` folds every other mark), holding one copy of each story. Its
  rowids are ``articles.search_key``, which sorts as the table's newest-first order does (publication
  time, then id): the index hands out the newest matches first, without gathering all of them.

The database runs in WAL mode, so Datasette reads while a crawl writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import sqlite_utils
from zlib_ng import zlib_ng

from archive import lock
from archive.model import Article, Known, StoredPage

Outcome = Literal["new", "changed", "unchanged"]
# The layout's version, kept in the file (PRAGMA user_version): an older archive is migrated when opened
# for writing, a newer one refused. 0 is every archive written before versions were kept.
# 2: articles keyed by their address on the portal (base_url), not the one they were fetched from.
# 3: article_media, the photos and documents of each article (their bytes: archive.mediastore).
SCHEMA_VERSION = 3
TABLES = ("articles", "pages", "article_versions", "crawl_runs", "portals", "retries", "captures", "article_media")

ARTICLE_COLUMNS = {
    "id": int, "url": str, "portal": str, "title": str, "published": str, "year": int, "month": str,
    "author": str, "unit": str, "text": str, "captions": str, "published_from": str, "extractor": str,
    "version": int, "first_seen": str, "updated_at": str, "gone_at": str,
    "story": str,  # the normalised body's hash: the same story on several portals shares it
    "copy_of": str,  # the URL of the story's first publication when this is a repost, else null
    "search_key": int,  # the table's newest-first order, and the article's rowid in articles_fts (SEARCH_KEY)
}
PAGE_COLUMNS = {
    "url": str, "raw_html": bytes, "raw_size": int, "content_type": str, "http_status": int, "etag": str,
    "last_modified": str, "listing_date": str, "last_fetched": str, "last_checked": str,
    "content_hash": str,
    # Provenance: the URL actually fetched (a twin, a mirror, a Wayback memento, a WARC record), and for
    # a recovered copy the moment it was captured.
    "fetched_from": str, "captured_at": str,
    "sha256": str,  # of the page's bytes as fetched, taken then: what `portal-archive verify` checks
    # The HTTP exchange as JSON: the request (method, URL, headers sent), the protocol, status and headers
    # received, the server's IP. The bytes are stored decoded (no Content-Encoding), the headers as received.
    "http": str,
}
# An earlier text of an article, kept when the portal changed it.
VERSION_COLUMNS = {
    "url": str, "version": int, "title": str, "published": str, "author": str, "unit": str,
    "text": str, "captions": str, "content_hash": str, "fetched_at": str, "replaced_at": str,
    "fetched_from": str, "captured_at": str,
}
RUN_COLUMNS = {
    "id": int, "portal": str, "started": str, "finished": str, "status": str, "full": int,
    "pages": int, "new": int, "changed": int, "unchanged": int, "not_modified": int, "gone": int,
    "errors": int, "links_seen": int, "fallbacks": int, "pid": int, "log_file": str,
    "retrying": int,  # article URLs on the retry schedule when the run ended
    "listing_fallbacks": int,  # listing pages the profile's listing selectors did not fit
    "source": str,  # where the pages came from: null for the live portal, "wayback" or "warc" for recovered ones
    "through": str,  # a recovery: the newest capture it listed (the next one asks only for newer ones)
    "missing": int,  # a recovery: captures listed or linked that could not be had (no memento, not HTML)
}
# The photos and documents an article shows, in order; ``sha256`` names the bytes in the media file
# (archive.mediastore), null when they could not be had (a 404, too large, a type not kept).
MEDIA_LINK_COLUMNS = {
    "url": str, "position": int, "kind": str, "source_url": str, "sha256": str, "caption": str, "alt": str,
}
# The captures a recovery has dealt with (a Wayback memento, a WARC record), so that one cut short goes
# on where it stopped and a second one skips them.
CAPTURE_COLUMNS = {
    "source": str, "url": str, "timestamp": str, "portal": str, "outcome": str, "fetched_from": str,
    "done_at": str,
}
# Article URLs that could not be fetched or archived, retried on a schedule of their own (see
# Archive.record_failure) instead of keeping their portal's every run incomplete.
RETRY_COLUMNS = {
    "url": str, "portal": str, "failures": int, "first_failed": str, "last_failed": str, "next_try": str,
    "error": str, "listing_date": str,
}
RETRY_FIRST = timedelta(hours=20)  # the next nightly run tries again; each failure doubles the wait
RETRY_LONGEST = timedelta(days=30)
PORTAL_COLUMNS = {
    "name": str, "title": str, "base_url": str, "crawled_from": str, "last_crawled": str,
    "retired": str,  # the day the portal was retired (its profile's `retired:`): reached through `recover` only
}
SEARCHED = ("title", "text", "captions")
# The index holds each article's portal too, so that a search within one portal reads that portal's
# entries only; a query's words never match it (archive.search keeps them to SEARCHED).
INDEXED = (*SEARCHED, "portal")
_FOLD_D = "replace(replace({0}, 'đ', 'd'), 'Đ', 'D')"
# Seconds since 1970 of the publication time (0 when unknown), then the id: unique, and ordered by the
# true moment even where pages gave other offsets than +07:00.
# A time past what the key can hold (a page's placeholder `0001-01-01`, say) sorts at the bound instead of
# overflowing the rowid: years 1834 to 2106 keep their order.
KEY_SHIFT = 2**31
KEY_SECONDS = 2**32 - 2


def key_seconds(seconds: int) -> int:
    return max(-KEY_SECONDS, min(seconds, KEY_SECONDS))


SEARCH_KEY = (f"max(-{KEY_SECONDS}, min(coalesce(cast(strftime('%s', published) as integer), 0), {KEY_SECONDS}))"
              f" * {KEY_SHIFT} + id")
SEARCH_VIEW = (
    "create view articles_search as select search_key as rowid, id, "
    + ", ".join(f"{_FOLD_D.format(c)} as {c}" for c in SEARCHED)
    + ", portal from articles where copy_of is null"
)


# The statements saving an article runs, made once per table and set of columns rather than for every
# row: the crawl's writer thread should spend its time in SQLite, not in building SQL.
@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"insert into [{table}] ({', '.join(f'[{c}]' for c in columns)}) values ({', '.join('?' * len(columns))})"


@lru_cache(maxsize=64)
def _upsert_sql(table: str, columns: tuple[str, ...], pk: str) -> str:
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != pk)
    return f"{_insert_sql(table, columns)} on conflict([{pk}]) do update set {updates}"


def pack(raw: bytes) -> bytes:
    """A fetched page as ``pages.raw_html`` stores it: a zlib stream (read back by Python's own zlib,
    or any other) at zlib's default level, which packs pages within a percent of level 9. zlib-ng
    writes it in half the time of Python's zlib, for a stream about one percent longer."""
    return zlib_ng.compress(raw, 6)


def _extracted(article: Article) -> dict:
    """The article columns extraction fills."""
    published = article.published or ""
    return {
        "url": article.url, "portal": article.portal, "title": article.title,
        "published": article.published, "year": int(published[:4]) if published else None,
        "month": published[:7] or None, "published_from": article.published_from,
        "author": article.author, "unit": article.unit, "text": article.text,
        "captions": json.dumps(article.captions, ensure_ascii=False), "extractor": article.extractor,
        "story": article.story,
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class _RollbackError(Exception):
    """Undoes a write made only to see whether writing works."""


class ArchiveError(RuntimeError):
    """The archive file cannot be opened or written; the message says why in one line."""


def writable(path: str | Path) -> bool:
    """Whether anyone here may change the file: it and its folder are writable. A copy nobody may write
    (read-only media, a bind mount, another user's file) cannot change, and is read as immutable."""
    path = Path(path).resolve()
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def read_only_uri(path: str | Path) -> str:
    """The URI that reads ``path`` without ever writing: ``mode=ro`` where SQLite can keep its WAL index
    beside the file, ``immutable=1`` where it cannot (see :func:`writable`)."""
    resolved = Path(path).resolve()
    return f"file:{quote(str(resolved))}?{'mode=ro' if writable(resolved) else 'immutable=1'}"


class Archive:
    """One archive file. ``readonly`` (for the commands that only read) never writes, not even the
    schema: a read-only copy is an archive too."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._tables: dict[str, sqlite_utils.db.Table] = {}
        self._to_index: set[int] | None = None  # inside batch(): articles to index when it ends
        try:
            if readonly:
                if not self.path.is_file():
                    raise ArchiveError(f"{self.path}: no such archive")
                self.db = sqlite_utils.Database(sqlite3.connect(read_only_uri(self.path), uri=True))
                self._check_version(set(self.db.table_names()))
                return
            self.db = sqlite_utils.Database(self.path)
            self.db.execute("PRAGMA busy_timeout = 10000")
            if self.db.journal_mode != "wal":
                self.db.enable_wal()
            # With WAL, NORMAL never corrupts the file; a power cut may undo the last commits, which the
            # next crawl fetches again (the cut run never counts as complete). FULL syncs every commit.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.ensure_schema()
        except sqlite3.DatabaseError as err:
            raise ArchiveError(f"{self.path}: cannot open the archive: {err}") from err

    def _check_version(self, existing: set[str]) -> int:
        """The file's schema version; ArchiveError for a newer release's archive, or for one whose tables
        were dropped (nothing recreates them behind the user's back)."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"{self.path}: written by a newer portal-archive (archive schema {version}, this "
                               f"one knows {SCHEMA_VERSION}): upgrade portal-archive to use it")
        missing = [name for name in TABLES if name not in existing]
        if missing and version == SCHEMA_VERSION:
            raise ArchiveError(f"{self.path}: table {', '.join(missing)} missing (dropped?); portal-archive will "
                               "not recreate it: restore the file from a backup, or use a new file")
        if self.readonly and "articles" not in existing:  # an older archive may lack later tables, not this
            raise ArchiveError(f"{self.path}: not a portal-archive archive (no articles table)")
        return version

    def table(self, name: str) -> sqlite_utils.db.Table:
        """The table ``name``, looked up once: ``db[name]`` asks SQLite for the list of views every time,
        and saving an article touches three tables."""
        if name not in self._tables:
            self._tables[name] = self.db.table(name)
        return self._tables[name]

    def _insert(self, table: str, row: dict) -> int:
        """Insert one row, its columns named by the dict; its rowid. Plain SQL: sqlite-utils reads the
        table's columns and types again for every insert, a third of what saving an article costs."""
        return self.db.execute(_insert_sql(table, tuple(row)), list(row.values())).lastrowid

    def _upsert(self, table: str, row: dict, pk: str) -> None:
        """Insert one row, or update the columns the dict names where its ``pk`` is there already."""
        self.db.execute(_upsert_sql(table, tuple(row), pk), list(row.values()))

    def ensure_schema(self) -> None:
        """Create the tables, or add the columns a newer version needs to an older archive."""
        tables = {
            "articles": (ARTICLE_COLUMNS, "id"),
            "pages": (PAGE_COLUMNS, "url"),
            "article_versions": (VERSION_COLUMNS, ("url", "version")),
            "crawl_runs": (RUN_COLUMNS, "id"),
            "portals": (PORTAL_COLUMNS, "name"),
            "retries": (RETRY_COLUMNS, "url"),
            "captures": (CAPTURE_COLUMNS, ("source", "url", "timestamp")),
            "article_media": (MEDIA_LINK_COLUMNS, ("url", "position")),
        }
        existing = set(self.db.table_names())
        version = self._check_version(existing)  # an archive of this schema is complete, or it is refused
        if "articles" in existing and "id" not in self.db["articles"].columns_dict:
            raise ArchiveError(f"{self.path}: made by an early portal-archive whose layout cannot be upgraded; "
                               "crawl into a new file")
        with self.db.atomic():
            for name, (columns, pk) in tables.items():
                table = self.db[name]
                if name not in existing:
                    table.create(columns, pk=pk)
                    continue
                for column, kind in columns.items():
                    if column not in table.columns_dict:
                        table.add_column(column, kind)
            articles = self.db["articles"]
            articles.create_index(["url"], unique=True, if_not_exists=True)
            for index in (["portal", "published"], ["published"], ["month"], ["gone_at"], ["story"], ["copy_of"]):
                articles.create_index(index, if_not_exists=True)
            articles.create_index(["search_key"], unique=True, if_not_exists=True)
            self.db["crawl_runs"].create_index(["portal", "started"], if_not_exists=True)
            self.db["retries"].create_index(["portal", "next_try"], if_not_exists=True)
            self.db["captures"].create_index(["portal", "source"], if_not_exists=True)
            view = self.db.execute("select sql from sqlite_master where name = 'articles_search'").fetchone()
            if not view or view[0].lower() != SEARCH_VIEW.lower():  # none yet, or keyed by an older rule
                self.db.execute("drop view if exists articles_search")
                self.db.execute("drop table if exists articles_fts")
                self.db.execute(SEARCH_VIEW)
            if "articles_fts" not in self.db.table_names():  # (re)built from the articles
                self.db.execute(f"update articles set search_key = {SEARCH_KEY}")
                self.db.execute(
                    f"create virtual table articles_fts using fts5({', '.join(INDEXED)}, "
                    "content='articles_search', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
                )
                self.db.execute("insert into articles_fts(articles_fts) values('rebuild')")
            if "articles" in existing and version < 2:
                from archive import migrate  # it builds on this module

                migrate.rebase(self)
            if version != SCHEMA_VERSION:  # migrated, or made
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # The full-text index: kept by hand, because only one copy of each story is in it.
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction, the articles they index written to the full-text index at
        its end, in rowid order. FTS5 writes its pending terms out as a new segment (to be merged
        later) whenever a rowid is lower than the one before; a crawl archives newest first, and rowids
        follow publication time, so indexing as it went wrote a segment per article."""
        if self._to_index is not None:  # inside another: that one indexes
            yield
            return
        self._to_index = set()
        try:
            with self.db.atomic():
                yield
                self._index_now(list(self._to_index))  # in rowid order, which is not id order
        finally:
            self._to_index = None

    def _atomic(self) -> AbstractContextManager[object]:
        """A savepoint for one article's writes, but not inside a batch: that is all or nothing already."""
        return self.db.atomic() if self._to_index is None else nullcontext()

    def _index_now(self, article_ids: list[int]) -> None:
        columns = ", ".join(INDEXED)
        found: list[tuple] = []
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start:start + 500]
            found += self.db.execute(f"select rowid, {columns} from articles_search where id in "
                                     f"({', '.join('?' * len(chunk))})", chunk).fetchall()
        found.sort(key=lambda row: row[0])
        self.db.conn.executemany(
            f"insert into articles_fts(rowid, {columns}) values ({', '.join('?' * (len(INDEXED) + 1))})", found)

    def _unindex(self, article_id: int) -> None:
        if self._to_index is not None and article_id in self._to_index:  # not in the index yet
            self._to_index.discard(article_id)
            return
        columns = ", ".join(INDEXED)
        self.db.execute(
            f"insert into articles_fts(articles_fts, rowid, {columns}) "
            f"select 'delete', rowid, {columns} from articles_search where id = ?", [article_id],
        )

    def _index(self, article_id: int) -> None:
        self.db.execute(f"update articles set search_key = {SEARCH_KEY} where id = ?", [article_id])
        if self._to_index is not None:
            self._to_index.add(article_id)
        else:
            self._index_now([article_id])

    def _set(self, article_id: int, values: dict) -> None:
        """Update an article, taking it out of the index and back in (if it is an original)."""
        (copy_of,) = self.db.execute("select copy_of from articles where id = ?", [article_id]).fetchone()
        if copy_of is None:
            self._unindex(article_id)
        self.table("articles").update(article_id, values)
        (copy_of,) = self.db.execute("select copy_of from articles where id = ?", [article_id]).fetchone()
        if copy_of is None:
            self._index(article_id)

    def _write_article(self, fields: dict, current: dict | None) -> None:
        """Insert or update the article row, keeping the index and the story's copies right; ``current``
        is the row as the caller read it (None: no such row)."""
        if current:
            article_id, old_story = current["id"], current["story"]
            self._set(article_id, fields)
        else:
            article_id, old_story = self._insert("articles", {**fields, "copy_of": None}), None
            self._index(article_id)
        for story in {old_story, fields["story"]} - {None}:
            self._relink(story)
        if fields["story"] is None:  # no text: nothing to be a copy of
            self._set(article_id, {"copy_of": None})

    def remove(self, url: str) -> None:
        """Delete an article with its page and versions (a copy folded into another, see archive.migrate)."""
        row = self.db.execute("select id, story, copy_of from articles where url = ?", [url]).fetchone()
        if row is None:
            return
        article_id, story, copy_of = row
        if copy_of is None:
            self._unindex(article_id)
        for table in ("articles", "pages", "article_versions", "retries", "article_media"):
            self.db.execute(f"delete from {table} where url = ?", [url])
        if story:
            self._relink(story)

    def _relink(self, story: str) -> None:
        """The earliest publication of a story is its original; the others are copies of it."""
        rows = self.db.execute(
            "select id, url, copy_of from articles where story = ? order by published is null, published, id",
            [story],
        ).fetchall()
        for article_id, url, copy_of in rows:
            original = None if url == rows[0][1] else rows[0][1]
            if copy_of != original:
                self._set(article_id, {"copy_of": original})

    def check_writable(self) -> None:
        """Raise ArchiveError now, rather than mid-crawl, when the file cannot be written."""
        try:
            with self.db.atomic():
                self.db.execute("insert into crawl_runs (status) values ('write check')")
                raise _RollbackError
        except _RollbackError:
            pass
        except sqlite3.OperationalError as err:
            raise ArchiveError(f"{self.path}: cannot write the archive: {err}") from err

    def upsert_portal(self, name: str, title: str, base_url: str, crawled_from: str,
                      retired: str | None = None) -> None:
        self.db["portals"].upsert({"name": name, "title": title, "base_url": base_url, "crawled_from": crawled_from,
                                   "retired": retired, "last_crawled": now()}, pk="name")

    def save(
        self, article: Article, raw: bytes, *, packed: bytes | None = None, status: int = 200,
        content_type: str | None = None, listing_date: str | None = None, etag: str | None = None,
        last_modified: str | None = None, fetched_from: str | None = None, captured_at: str | None = None,
        raw_size: int | None = None, sha256: str | None = None, http: dict | None = None,
    ) -> Outcome:
        """Insert or update one article with the page it came from; returns what happened to it.

        ``article.url`` is the article's address on its portal; ``fetched_from`` the URL actually fetched
        (the same, when it came from the portal itself), ``captured_at`` when a recovered copy (Wayback,
        WARC) was captured. When the text changed, the text it replaces is kept in ``article_versions``. A
        copy captured before the current text was is history, not news: it becomes an earlier version
        (see :meth:`_save_past`). ``packed`` is ``raw`` already compressed (by an extraction worker).
        """
        stamp = now()
        current = self._current(article.url)
        if current and captured_at and captured_at < (current["captured_at"] or current["last_fetched"] or ""):
            return self._save_past(article, current, fetched_from, captured_at, stamp)
        outcome: Outcome = "new" if not current else (
            "unchanged" if current["content_hash"] == article.content_hash else "changed"
        )
        fields = {
            **_extracted(article),
            "first_seen": current["first_seen"] if current else stamp, "gone_at": None,
            "updated_at": current["updated_at"] if outcome == "unchanged" else stamp,
            "version": (current["version"] or 1) + (outcome == "changed") if current else 1,
        }
        page = {
            "url": article.url, "raw_html": packed or pack(raw), "raw_size": len(raw) if raw_size is None else raw_size,
            "content_type": content_type, "http_status": status, "etag": etag, "last_modified": last_modified,
            "listing_date": listing_date, "last_fetched": stamp, "last_checked": stamp,
            "content_hash": article.content_hash, "fetched_from": fetched_from or article.url,
            "captured_at": captured_at, "sha256": sha256 or hashlib.sha256(raw).hexdigest(),
            "http": json.dumps(http, ensure_ascii=False) if http else None,
        }
        if outcome == "unchanged" and current["captured_at"] and captured_at:
            page["captured_at"] = current["captured_at"]  # a later capture of the same text: dated by the first
        with self._atomic():
            if outcome == "changed":
                self.table("article_versions").upsert({
                    **{k: current[k] for k in VERSION_COLUMNS if k in current},
                    "version": current["version"] or 1, "fetched_at": current["updated_at"], "replaced_at": stamp,
                }, pk=("url", "version"))
            self._write_article(fields, current)
            self._upsert("pages", page, "url")
            self.db.execute("delete from retries where url = ?", [article.url])
        return outcome

    def _save_past(self, article: Article, current: dict, fetched_from: str | None, captured_at: str,
                   stamp: str) -> Outcome:
        """A copy captured before the archive's current text (a WARC or a Wayback capture of an article
        crawled since): a text not seen yet becomes a version in capture order; the current text stays."""
        versions = list(self.table("article_versions").rows_where("url = ?", [article.url]))
        if article.content_hash in {current["content_hash"], *(v["content_hash"] for v in versions)}:
            return "unchanged"
        versions.append({
            **{k: v for k, v in _extracted(article).items() if k in VERSION_COLUMNS},
            "content_hash": article.content_hash, "fetched_at": stamp, "replaced_at": None,
            "fetched_from": fetched_from or article.url, "captured_at": captured_at,
        })
        versions.sort(key=lambda v: v["captured_at"] or v["fetched_at"] or "")
        for number, version in enumerate(versions, start=1):
            version["version"] = number
        with self.db.atomic():
            self.db.execute("delete from article_versions where url = ?", [article.url])
            self.table("article_versions").insert_all(versions, pk=("url", "version"))
            self.db.execute("update articles set version = ? where url = ?", [len(versions) + 1, article.url])
        return "changed"

    def _current(self, url: str) -> dict | None:
        cursor = self.db.execute(
            "select a.*, p.content_hash, p.fetched_from, p.captured_at, p.last_fetched "
            "from articles a left join pages p on p.url = a.url where a.url = ?", [url]
        )
        values = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], values, strict=True)) if values else None

    def update_extraction(self, article: Article) -> bool:
        """Replace what extraction produced for a stored article; True when anything changed."""
        fields = _extracted(article)
        current = self._current(article.url)
        if current and all(current.get(k) == v for k, v in fields.items()) and \
                current["content_hash"] == article.content_hash:
            return False
        with self._atomic():
            self._write_article({**fields, "updated_at": now()}, current)
            self.db.execute("update pages set content_hash = ? where url = ?", [article.content_hash, article.url])
        return True

    def not_modified(self, url: str) -> None:
        """The portal answered 304: the article is as archived."""
        with self.db.atomic():
            self.db.execute("update pages set last_checked = ? where url = ?", [now(), url])
            self.db.execute("update articles set gone_at = null where url = ?", [url])

    def mark_gone(self, url: str, status: int) -> bool:
        """The page now answers 404/410: keep the article, note since when it is gone."""
        stamp = now()
        with self.db.atomic():
            self.db.execute("update pages set http_status = ?, last_checked = ? where url = ?", [status, stamp, url])
            cursor = self.db.execute("update articles set gone_at = ? where url = ? and gone_at is null", [stamp, url])
            self.db.execute("delete from retries where url = ?", [url])  # gone for good: nothing to retry
        return cursor.rowcount > 0

    # The retry schedule ------------------------------------------------------------------------
    def record_failure(self, url: str, portal: str, error: str, at: datetime,
                       listing_date: str | None = None) -> str:
        """The article at ``url`` failed again (a lasting 500, a timeout, a page too large, no text): put
        it on the schedule, waiting RETRY_FIRST, then twice as long after each failure (RETRY_LONGEST at
        most). Returns when it is tried next."""
        row = self.db.execute("select failures, first_failed from retries where url = ?", [url]).fetchone()
        failures, first = (row[0] + 1, row[1]) if row else (1, at.isoformat())
        wait = min(RETRY_FIRST * 2 ** min(failures - 1, 16), RETRY_LONGEST)
        next_try = (at + wait).isoformat()
        with self.db.atomic():
            self.table("retries").upsert({
                "url": url, "portal": portal, "failures": failures, "first_failed": first,
                "last_failed": at.isoformat(), "next_try": next_try, "error": error[:500],
                "listing_date": listing_date,
            }, pk="url")
        return next_try

    def retries(self, portal: str) -> dict[str, tuple[str, str | None]]:
        """The portal's article URLs on the schedule: when each is tried next, and its listing date."""
        query = "select url, next_try, listing_date from retries where portal = ?"
        return {url: (next_try, date) for url, next_try, date in self.db.execute(query, [portal])}

    def known(self, portal: str) -> dict[str, Known]:
        """Every archived article of a portal, by URL."""
        query = ("select a.url, a.first_seen, a.published, p.etag, p.last_modified, p.last_fetched, a.gone_at "
                 "from articles a join pages p on p.url = a.url where a.portal = ?")
        return {
            url: Known(first_seen, published, etag, last_modified, fetched, gone is not None)
            for url, first_seen, published, etag, last_modified, fetched, gone in self.db.execute(query, [portal])
        }

    def stored_pages(self, portal: str | None = None) -> Iterator[StoredPage]:
        """Every stored page as fetched, for re-extraction."""
        where, args = ("where a.portal = ?", [portal]) if portal else ("", [])
        query = ("select a.url, a.portal, p.raw_html, p.content_type, p.listing_date, p.last_fetched "
                 f"from articles a join pages p on p.url = a.url {where} order by a.id")
        for url, name, blob, content_type, listing_date, fetched in self.db.execute(query, args):
            yield StoredPage(url, name, zlib.decompress(blob), content_type, listing_date,
                             datetime.fromisoformat(fetched) if fetched else None)

    def link_media(self, url: str, media: list[dict]) -> None:
        """The article's photos and documents, replacing what was linked before."""
        self.db.execute("delete from article_media where url = ?", [url])
        for link in media:
            self._insert("article_media", {**link, "url": url})

    # Recoveries -----------------------------------------------------------------------------
    def record_capture(self, source: str, url: str, timestamp: str, portal: str, outcome: str,
                       fetched_from: str | None = None) -> None:
        self.table("captures").upsert({"source": source, "url": url, "timestamp": timestamp, "portal": portal,
                                       "outcome": outcome, "fetched_from": fetched_from, "done_at": now()},
                                      pk=("source", "url", "timestamp"))

    def captures_done(self, portal: str, source: str) -> set[tuple[str, str]]:
        """The (url, timestamp) of every capture of the portal a recovery from ``source`` dealt with."""
        query = "select url, timestamp from captures where portal = ? and source = ?"
        return {(url, timestamp) for url, timestamp in self.db.execute(query, [portal, source])}

    def recovered_through(self, portal: str, source: str) -> str | None:
        """The newest capture a complete recovery of the portal from ``source`` listed."""
        row = self.db.execute("select max(through) from crawl_runs where portal = ? and source = ? and "
                              "status = 'finished'", [portal, source]).fetchone()
        return row[0] if row else None

    # Crawl runs -----------------------------------------------------------------------------
    def start_run(self, portal: str, full: bool, pid: int, log_file: str | None = None,
                  source: str | None = None) -> int:
        with self.db.atomic():
            # Only one crawl writes at a time (see archive.lock): a run still marked running died.
            self.db.execute(
                "update crawl_runs set status = 'interrupted' where portal = ? and status = 'running'", [portal]
            )
            return self.db["crawl_runs"].insert({"portal": portal, "started": now(), "status": "running",
                                                 "full": int(full), "pid": pid, "log_file": log_file,
                                                 "source": source}).last_pk

    def finish_run(self, run_id: int, status: str, counts: dict[str, int]) -> None:
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {"finished": now(), "status": status, **counts})

    def complete_through(self, portal: str) -> str | None:
        """When the last complete walk of the portal ended: everything archived by then is whole."""
        row = self.db.execute(
            "select max(finished) from crawl_runs where portal = ? and status = 'finished' and source is null", [portal]
        ).fetchone()
        return row[0] if row else None

    def runs(self, portal: str | None = None, limit: int = 20) -> list[dict]:
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        cursor = self.db.execute(f"select * from crawl_runs {where} order by id desc limit ?", [*args, limit])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count(self, portal: str | None = None) -> int:
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        return self.db.execute(f"select count(*) from articles {where}", args).fetchone()[0]

    def close(self) -> None:
        self.db.close()


@contextmanager
def reading(path: str | Path) -> Iterator[Archive]:
    """The archive opened by a command that only reads it (status, search, serve): never written."""
    archive = Archive(path, readonly=True)
    try:
        yield archive
    finally:
        archive.close()


@contextmanager
def writing(path: str | Path) -> Iterator[Archive]:
    """The archive opened by a writing command that is not a crawl (merge, reextract), under the same write
    lock a crawl holds: ArchiveLockedError (exit 75) while another process writes it."""
    lock.acquire(path)
    try:
        archive = Archive(path)
        try:
            yield archive
        finally:
            archive.close()
    finally:
        lock.release(path)

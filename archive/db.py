"""The archive: one SQLite file written with sqlite-utils.

``articles`` is keyed by canonical URL, so a re-crawl updates rows instead of adding them; the page as
fetched (its bytes, in the page's own encoding) is kept zlib-compressed in ``raw_html`` so extraction
can be re-run when rules improve.
The database runs in WAL mode so Datasette can read while a crawl writes.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlite_utils

from archive.extract import Article

Outcome = Literal["new", "changed", "unchanged"]
RUN_STATUSES = ("running", "finished", "partial", "failed", "interrupted")

ARTICLE_COLUMNS = {
    "url": str,
    "portal": str,
    "title": str,
    "published": str,
    "author": str,
    "unit": str,
    "text": str,
    "captions": str,
    "paragraphs": str,
    "published_from": str,
    "extractor": str,
    "content_hash": str,
    "listing_date": str,
    "content_type": str,
    "first_seen": str,
    "last_fetched": str,
    "updated_at": str,
    "http_status": int,
    "etag": str,
    "last_modified": str,
    "last_checked": str,
    "gone_at": str,
    "version": int,
    "raw_size": int,
    "raw_html": bytes,
}
# An earlier text of an article, kept when the portal changed it.
VERSION_COLUMNS = {
    "url": str, "version": int, "title": str, "published": str, "author": str, "unit": str,
    "text": str, "paragraphs": str, "captions": str, "content_hash": str, "fetched_at": str,
    "replaced_at": str,
}
RUN_COLUMNS = {
    "id": int, "portal": str, "started": str, "finished": str, "status": str, "full": int,
    "pages": int, "new": int, "changed": int, "unchanged": int, "not_modified": int, "gone": int,
    "errors": int, "links_seen": int, "fallbacks": int, "pid": int, "log_file": str,
}


@dataclass(frozen=True)
class Known:
    """What the crawl needs to know of an archived article to decide whether to fetch it again."""

    first_seen: str
    published: str | None
    etag: str | None
    last_modified: str | None
    last_fetched: str | None
    gone: bool


@dataclass
class StoredPage:
    url: str
    portal: str
    raw: bytes
    content_type: str | None
    listing_date: str | None
    fetched_at: datetime | None


def _extracted(article: Article) -> dict:
    """The columns extraction fills."""
    return {
        "url": article.url, "portal": article.portal, "title": article.title,
        "published": article.published, "published_from": article.published_from,
        "author": article.author, "unit": article.unit, "text": article.text,
        "captions": json.dumps(article.captions, ensure_ascii=False),
        "paragraphs": json.dumps(article.paragraphs, ensure_ascii=False),
        "extractor": article.extractor, "content_hash": article.content_hash,
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ArchiveError(RuntimeError):
    """The archive file cannot be opened or written; the message says why in one line."""


class Archive:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite_utils.Database(self.path)
            self.db.execute("PRAGMA busy_timeout = 10000")
            if self.db.journal_mode != "wal":
                self.db.enable_wal()
            self.ensure_schema()
        except sqlite3.DatabaseError as err:
            raise ArchiveError(f"{self.path}: cannot open the archive: {err}") from err

    def ensure_schema(self) -> None:
        """Create the tables, or add the columns a newer version needs to an older archive."""
        tables = {
            "articles": (ARTICLE_COLUMNS, "url"),
            "article_versions": (VERSION_COLUMNS, ("url", "version")),
            "crawl_runs": (RUN_COLUMNS, "id"),
            "portals": ({"name": str, "title": str, "base_url": str, "crawled_from": str,
                         "last_crawled": str}, "name"),
        }
        existing = set(self.db.table_names())
        for name, (columns, pk) in tables.items():
            table = self.db[name]
            if name not in existing:
                table.create(columns, pk=pk)
                continue
            for column, kind in columns.items():
                if column not in table.columns_dict:
                    table.add_column(column, kind)
        for index in (["portal", "published"], ["published"], ["gone_at"]):
            self.db["articles"].create_index(index, if_not_exists=True)
        self.db["crawl_runs"].create_index(["portal", "started"], if_not_exists=True)

    def upsert_portal(self, name: str, title: str, base_url: str, crawled_from: str) -> None:
        self.db["portals"].upsert(
            {"name": name, "title": title, "base_url": base_url, "crawled_from": crawled_from,
             "last_crawled": now()},
            pk="name",
        )

    def save(
        self, article: Article, raw: bytes, *, status: int = 200, content_type: str | None = None,
        listing_date: str | None = None, etag: str | None = None, last_modified: str | None = None,
    ) -> Outcome:
        """Insert or update one article with the page it came from; returns what happened to it.

        When the text changed, the text it replaces is kept in ``article_versions``.
        """
        stamp = now()
        current = self._row(article.url)
        outcome: Outcome = "new" if not current else (
            "unchanged" if current["content_hash"] == article.content_hash else "changed"
        )
        row = {
            **_extracted(article),
            "first_seen": current["first_seen"] if current else stamp, "last_fetched": stamp,
            "last_checked": stamp, "gone_at": None,
            "updated_at": current["updated_at"] if outcome == "unchanged" else stamp,
            "version": (current["version"] or 1) + (outcome == "changed") if current else 1,
            "http_status": status, "content_type": content_type, "listing_date": listing_date,
            "etag": etag, "last_modified": last_modified,
            "raw_size": len(raw), "raw_html": zlib.compress(raw, 9),
        }
        with self.db.conn:
            if outcome == "changed":
                self.db["article_versions"].insert(
                    {**{k: current[k] for k in VERSION_COLUMNS if k in current},
                     "version": current["version"] or 1, "fetched_at": current["updated_at"],
                     "replaced_at": stamp},
                    pk=("url", "version"), replace=True,
                )
            self.db["articles"].upsert(row, pk="url")
        return outcome

    def _row(self, url: str) -> dict | None:
        cursor = self.db.execute("select * from articles where url = ?", [url])
        values = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], values, strict=True)) if values else None

    def not_modified(self, url: str) -> None:
        """The portal answered 304: the article is as archived."""
        with self.db.conn:
            self.db.execute("update articles set last_checked = ?, gone_at = null where url = ?", [now(), url])

    def mark_gone(self, url: str, status: int) -> bool:
        """The page now answers 404/410: keep the article, note since when it is gone."""
        with self.db.conn:
            cursor = self.db.execute(
                "update articles set gone_at = ?, http_status = ?, last_checked = ? "
                "where url = ? and gone_at is null", [now(), status, now(), url],
            )
        return cursor.rowcount > 0

    def known(self, portal: str) -> dict[str, Known]:
        """Every archived article of a portal, by URL."""
        query = ("select url, first_seen, published, etag, last_modified, last_fetched, gone_at "
                 "from articles where portal = ?")
        return {
            url: Known(first_seen, published, etag, last_modified, fetched, gone is not None)
            for url, first_seen, published, etag, last_modified, fetched, gone in self.db.execute(query, [portal])
        }

    # Crawl runs -----------------------------------------------------------------------------
    def start_run(self, portal: str, full: bool, pid: int, log_file: str | None = None) -> int:
        with self.db.conn:
            # Only one crawl writes at a time (see archive.lock): a run still marked running died.
            self.db.execute("update crawl_runs set status = 'interrupted' where portal = ? and status = 'running'",
                            [portal])
            return self.db["crawl_runs"].insert(
                {"portal": portal, "started": now(), "status": "running", "full": int(full), "pid": pid,
                 "log_file": log_file}
            ).last_pk

    def finish_run(self, run_id: int, status: str, counts: dict[str, int]) -> None:
        with self.db.conn:
            self.db["crawl_runs"].update(run_id, {"finished": now(), "status": status, **counts})

    def complete_through(self, portal: str) -> str | None:
        """When the last complete walk of the portal ended: everything archived by then is whole."""
        row = self.db.execute(
            "select max(finished) from crawl_runs where portal = ? and status = 'finished'", [portal]
        ).fetchone()
        return row[0] if row else None

    def runs(self, portal: str | None = None, limit: int = 20) -> list[dict]:
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        cursor = self.db.execute(f"select * from crawl_runs {where} order by id desc limit ?", [*args, limit])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def update_extraction(self, article: Article) -> bool:
        """Replace what extraction produced for a stored article; True when anything changed."""
        fields = _extracted(article)
        current = self.db["articles"].get(article.url)
        if all(current.get(k) == v for k, v in fields.items()):
            return False
        with self.db.conn:
            self.db["articles"].update(article.url, {**fields, "updated_at": now()})
        return True

    def stored_pages(self, portal: str | None = None) -> Iterator[StoredPage]:
        """Every stored page as fetched, for re-extraction."""
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        query = ("select url, portal, raw_html, content_type, listing_date, last_fetched "
                 f"from articles {where} order by url")
        for url, name, blob, content_type, listing_date, fetched in self.db.execute(query, args):
            yield StoredPage(url, name, zlib.decompress(blob), content_type, listing_date,
                             datetime.fromisoformat(fetched) if fetched else None)

    def count(self, portal: str | None = None) -> int:
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        return self.db.execute(f"select count(*) from articles {where}", args).fetchone()[0]

    def close(self) -> None:
        self.db.close()

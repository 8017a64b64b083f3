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
    "raw_size": int,
    "raw_html": bytes,
}


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
    return datetime.now(UTC).isoformat(timespec="seconds")


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
        if "articles" not in self.db.table_names():
            self.db["articles"].create(ARTICLE_COLUMNS, pk="url", not_null={"portal"})
            self.db["articles"].create_index(["portal", "published"])
            self.db["articles"].create_index(["published"])
        if "portals" not in self.db.table_names():
            self.db["portals"].create(
                {"name": str, "title": str, "base_url": str, "crawled_from": str, "last_crawled": str},
                pk="name",
            )

    def upsert_portal(self, name: str, title: str, base_url: str, crawled_from: str) -> None:
        self.db["portals"].upsert(
            {"name": name, "title": title, "base_url": base_url, "crawled_from": crawled_from,
             "last_crawled": now()},
            pk="name",
        )

    def save(
        self, article: Article, raw: bytes, *, status: int = 200, content_type: str | None = None,
        listing_date: str | None = None,
    ) -> Outcome:
        """Insert or update one article with the page it came from; returns what happened to it."""
        stamp = now()
        existing = self.db.execute(
            "select content_hash, first_seen, updated_at from articles where url = ?", [article.url]
        ).fetchone()
        outcome: Outcome = "new" if not existing else (
            "unchanged" if existing[0] == article.content_hash else "changed"
        )
        row = {
            **_extracted(article),
            "first_seen": existing[1] if existing else stamp, "last_fetched": stamp,
            "updated_at": existing[2] if outcome == "unchanged" else stamp,
            "http_status": status, "content_type": content_type, "listing_date": listing_date,
            "raw_size": len(raw), "raw_html": zlib.compress(raw, 9),
        }
        with self.db.conn:
            self.db["articles"].upsert(row, pk="url")
        return outcome

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

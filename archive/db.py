"""The archive: one SQLite file written with sqlite-utils.

``articles`` is keyed by canonical URL, so a re-crawl updates rows instead of adding them; the page as
fetched is kept zlib-compressed in ``raw_html`` so extraction can be re-run when rules improve.
The database runs in WAL mode so Datasette can read while a crawl writes.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
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
    "extractor": str,
    "content_hash": str,
    "first_seen": str,
    "last_fetched": str,
    "updated_at": str,
    "http_status": int,
    "raw_size": int,
    "raw_html": bytes,
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

    def save(self, article: Article, raw_html: str, http_status: int = 200) -> Outcome:
        """Insert or update one article; returns what happened to it."""
        stamp = now()
        raw = raw_html.encode("utf-8")
        existing = self.db.execute(
            "select content_hash, first_seen, updated_at from articles where url = ?", [article.url]
        ).fetchone()
        row = {
            "url": article.url, "portal": article.portal, "title": article.title,
            "published": article.published, "author": article.author, "unit": article.unit,
            "text": article.text, "captions": json.dumps(article.captions, ensure_ascii=False),
            "paragraphs": json.dumps(article.paragraphs, ensure_ascii=False),
            "extractor": article.extractor, "content_hash": article.content_hash,
            "first_seen": existing[1] if existing else stamp, "last_fetched": stamp,
            "http_status": http_status, "raw_size": len(raw), "raw_html": zlib.compress(raw, 9),
        }
        outcome: Outcome = "new" if not existing else (
            "unchanged" if existing[0] == article.content_hash else "changed"
        )
        row["updated_at"] = existing[2] if outcome == "unchanged" else stamp
        with self.db.conn:
            self.db["articles"].upsert(row, pk="url")
        return outcome

    def raw_html(self, url: str) -> str:
        blob = self.db.execute("select raw_html from articles where url = ?", [url]).fetchone()[0]
        return zlib.decompress(blob).decode("utf-8")

    def count(self, portal: str | None = None) -> int:
        where, args = ("where portal = ?", [portal]) if portal else ("", [])
        return self.db.execute(f"select count(*) from articles {where}", args).fetchone()[0]

    def close(self) -> None:
        self.db.close()

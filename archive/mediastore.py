"""Photos and documents, kept in their own SQLite file beside the archive (``archive-media.db`` beside
``archive.db``), each stored once, named by the SHA-256 of its bytes.

Why a file of their own: photos make an archive a hundred times larger than its text. The text archive
stays one file that downloads in minutes and that Datasette serves and snapshots as it is; the media
file grows on its own disk if need be, and goes out whole as WACZ (`portal-archive export`). The text
archive's ``article_media`` says which media each article shows, where, and with which caption.

- ``media``: ``sha256`` (primary key), ``bytes``, ``content_type``, ``size``, ``source_url`` (the
  portal address it was first fetched under), ``fetched_from``, ``first_fetched``, ``http`` (the
  exchange, as for pages).
- ``media_sources``: every portal address a file was fetched under (``url``, ``sha256``,
  ``fetched_at``): a nightly run fetches only addresses not in it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from archive.db import read_only_uri


def media_path(archive: str | Path) -> Path:
    """The media file of the archive at ``archive``."""
    path = Path(archive)
    return path.with_name(f"{path.stem}-media{path.suffix or '.db'}")


class MediaStore:
    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            self.db = sqlite_utils.Database(sqlite3.connect(read_only_uri(self.path), uri=True))
            return
        self.db = sqlite_utils.Database(self.path)
        self.db.execute("PRAGMA busy_timeout = 10000")
        if self.db.journal_mode != "wal":
            self.db.enable_wal()
        if "media" not in self.db.table_names():
            self.db["media"].create({"sha256": str, "bytes": bytes, "content_type": str, "size": int,
                                     "source_url": str, "fetched_from": str, "first_fetched": str, "http": str},
                                    pk="sha256")
        if "media_sources" not in self.db.table_names():
            self.db["media_sources"].create({"url": str, "sha256": str, "fetched_at": str}, pk="url")

    def known(self, url: str) -> str | None:
        """The digest of what was fetched under the portal address ``url``, if it was."""
        row = self.db.execute("select sha256 from media_sources where url = ?", [url]).fetchone()
        return row[0] if row else None

    def get(self, sha256: str) -> tuple[bytes, str] | None:
        """The bytes kept under ``sha256`` and their content type, if they are kept."""
        row = self.db.execute("select bytes, content_type from media where sha256 = ?", [sha256]).fetchone()
        return (row[0], row[1] or "application/octet-stream") if row and row[0] is not None else None

    def put(self, body: bytes, url: str, content_type: str | None, fetched_from: str | None,
            http: dict | None = None) -> tuple[str, bool]:
        """Keep ``body`` fetched under ``url``; returns its digest and whether it was new to the store (the
        same photo reposted on another portal is not)."""
        digest = hashlib.sha256(body).hexdigest()
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        with self.db.conn:
            cursor = self.db.execute(
                "insert or ignore into media (sha256, bytes, content_type, size, source_url, fetched_from, "
                "first_fetched, http) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [digest, body, content_type, len(body), url, fetched_from, stamp,
                 json.dumps(http, ensure_ascii=False) if http else None])
            self.db.execute("insert or replace into media_sources (url, sha256, fetched_at) values (?, ?, ?)",
                            [url, digest, stamp])
        return digest, cursor.rowcount > 0

    def close(self) -> None:
        self.db.close()

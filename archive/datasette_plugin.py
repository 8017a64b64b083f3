"""The Datasette plugin of the archive (registered as the `portal_archive` entry point).

- Search: the table search box and `_search` parameters get the archive's `đ` folding, so that
  Datasette's own search is accent-insensitive exactly like `portal-archive search`; canned queries
  can call ``archive_fts_query(q)`` and ``archive_snippet(text, q)``.
- Snippets: a column named `snippet` shows its <mark>ed matches highlighted (all else escaped).
- Download: ``/-/archive.db`` serves a consistent snapshot of the whole archive (VACUUM INTO, one
  read transaction), even while a crawl is writing.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response
from markupsafe import Markup, escape

from archive.search import END_MARK, MARK, fold_d, fts_query, snippet

DOWNLOAD_PATH = "/-/archive.db"
_SNAPSHOTS = Path(tempfile.gettempdir()) / "portal-archive-snapshots"
_snapshot_lock = asyncio.Lock()


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("archive_fts_query", 1, fts_query, deterministic=True)
    conn.create_function("archive_snippet", 2, snippet, deterministic=True)


@hookimpl
def asgi_wrapper(datasette: object) -> object:
    """Fold the table search's query as the index is folded (đ → d)."""

    def wrap(app: object) -> object:
        async def folded(scope: dict, receive: object, send: object) -> None:
            if scope.get("type") == "http" and b"_search" in scope.get("query_string", b""):
                pairs = parse_qsl(scope["query_string"].decode("utf-8"), keep_blank_values=True)
                pairs = [(k, fold_d(v) if k.startswith("_search") and k != "_searchmode" else v)
                         for k, v in pairs]
                scope = {**scope, "query_string": urlencode(pairs).encode("utf-8")}
            await app(scope, receive, send)

        return folded

    return wrap


@hookimpl
def render_cell(value: object, column: str) -> Markup | None:
    if column != "snippet" or not isinstance(value, str):
        return None
    return Markup(str(escape(value)).replace(str(escape(MARK)), MARK).replace(str(escape(END_MARK)), END_MARK))


def _snapshot(source: str) -> Path:
    """A consistent copy of the archive, made once per state of the source file."""
    stamp = "-".join(
        str(int(os.stat(p).st_mtime_ns)) if os.path.exists(p) else "0" for p in (source, f"{source}-wal")
    )
    _SNAPSHOTS.mkdir(exist_ok=True)
    target = _SNAPSHOTS / f"{Path(source).stem}-{os.getpid()}-{stamp}.db"
    if not target.exists():
        for old in _SNAPSHOTS.glob(f"{Path(source).stem}-{os.getpid()}-*.db"):
            old.unlink(missing_ok=True)
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            conn.execute("VACUUM INTO ?", [str(partial)])
        finally:
            conn.close()
        partial.rename(target)
    return target


async def download(datasette: object) -> Response:
    database = datasette.get_database("archive")
    async with _snapshot_lock:
        path = await asyncio.to_thread(_snapshot, database.path)
    return AsgiFileDownload(path, filename="archive.db", content_type="application/vnd.sqlite3")


@hookimpl
def register_routes() -> list:
    return [(r"^/-/archive\.db$", download)]

"""The bytes behind an article page: the page as fetched, sandboxed so that none of its scripts runs and
nothing loads from another host, and the photos and documents of the media file; and `/robots.txt`."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from pathlib import Path

from datasette.utils.asgi import Response

from archive.mediastore import MediaStore, media_path
from archive.room.context import DATABASE, robots_allowed

# No script, no plugin, no form, no request anywhere (the page's own photos are other hosts' and are not
# replayed here: see `portal-archive export` and pywb for that); inline styles only.
PAGE_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
               "frame-ancestors 'self'")
MEDIA_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
YEAR = 365 * 24 * 3600


def _guarded(response: Response, policy: str) -> Response:
    response.headers.update({"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "no-referrer"})
    return response


async def archived_page(request: object, datasette: object) -> Response:
    db = datasette.get_database(DATABASE)
    row = (await db.execute(
        "select p.raw_html, p.content_type from articles a join pages p on p.url = a.url where a.id = ?",
        [int(request.url_vars["id"])])).first()
    if not row or row["raw_html"] is None:
        return Response.text("No archived page for this article", status=404)
    try:
        body = zlib.decompress(row["raw_html"])
    except zlib.error:
        return Response.text("The archived page cannot be read (run portal-archive verify)", status=500)
    kind = row["content_type"] or "text/html"
    if not kind.startswith("text/html"):
        kind = "text/plain; charset=utf-8"
    return _guarded(Response(body, content_type=kind), PAGE_POLICY)


def _read_media(path: Path, sha256: str) -> tuple[bytes, str] | None:
    if not path.is_file():
        return None
    try:
        store = MediaStore(path, readonly=True)
    except sqlite3.DatabaseError:
        return None
    try:
        return store.get(sha256)
    except sqlite3.DatabaseError:  # not a media file, or a damaged one: nothing to serve from it
        return None
    finally:
        store.close()


async def media(request: object, datasette: object) -> Response:
    source = datasette.get_database(DATABASE).path
    found = await asyncio.to_thread(_read_media, media_path(source), request.url_vars["sha256"])
    if not found:
        return Response.text("No such photo or document in this archive", status=404)
    body, kind = found
    response = _guarded(Response(body, content_type=kind), MEDIA_POLICY)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"  # named by its digest
    return response


async def robots(datasette: object) -> Response:
    """Robots are kept off the archive (as datasette-block-robots does) unless the operator allows them."""
    rule = "Allow: /" if robots_allowed(datasette) else "Disallow: /"
    return Response.text(f"User-agent: *\n{rule}\n")

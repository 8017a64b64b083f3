"""Datasette plugin (entry point `portal_archive_guard`): the public archive stays answerable whatever one
visitor sends.

- Every SQL connection has bounds that a single function call cannot pass: no string or blob over
  MAX_VALUE bytes (`randomblob(400000000)` fails at once instead of allocating 400 MB while the time
  limit, which SQLite checks only between steps, waits), and SQLite's heap capped at HEAP_LIMIT.
- At most MAX_IN_FLIGHT requests are served at once; the next ones get 503 with Retry-After at once,
  rather than a queue that grows without bound while every visitor waits.
- The archive is read-only: a method other than GET or HEAD gets 405, not a traceback.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import Response

MAX_VALUE = 16 * 2**20  # bytes: above any stored (compressed) page
HEAP_LIMIT = 1024 * 2**20  # bytes of SQLite memory for the whole server
MAX_IN_FLIGHT = 16  # requests served at once; Datasette runs queries on 3 threads
READING = ("GET", "HEAD")


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT}")


@hookimpl
def asgi_wrapper(datasette: object) -> object:
    def wrap(app: object) -> object:
        in_flight = 0

        async def guarded(scope: dict, receive: object, send: object) -> None:
            nonlocal in_flight
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            if scope.get("method") not in READING:
                response = Response.text("Method not allowed: the archive is read-only", status=405)
                response.headers["Allow"] = ", ".join(READING)
                await response.asgi_send(send)
                return
            if in_flight >= MAX_IN_FLIGHT:
                response = Response.text("Busy: too many requests at once, try again in a moment", status=503)
                response.headers["Retry-After"] = "1"
                await response.asgi_send(send)
                return
            in_flight += 1
            try:
                await app(scope, receive, send)
            finally:
                in_flight -= 1

        return guarded

    return wrap

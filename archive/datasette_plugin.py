"""The Datasette plugin of the archive (registered as the `portal_archive` entry point).

- Search: the search box of `articles` and its `_search`, `_search_<column>` parameters match as
  `portal-archive search` does (accents, case and `đ` optional), and stay fast on millions of
  articles (see :func:`filters_from_request`); queries can call ``archive_fts_query(q)`` and
  ``archive_snippet(text, q)``.
- Snippets: a column named `snippet` shows its <mark>ed matches highlighted (all else escaped).
- Download: ``/archive.db`` serves a consistent snapshot of the whole archive (VACUUM INTO, one
  read transaction), even while a crawl is writing.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import urlsafe_components
from datasette.utils.asgi import AsgiFileDownload, BadRequest, Request, Response
from markupsafe import Markup

from archive.db import SEARCHED, read_only_uri
from archive.search import (
    CANDIDATES,
    NARROW,
    RANKED,
    QueryError,
    check_query,
    fold_d,
    fts_query,
    highlighted,
    in_words,
    register_functions,
    since_key,
)

DATABASE_NAME = "archive"  # whatever the file is called
DOWNLOAD_PATH = "/archive.db"
SEARCH_LIMIT = 50  # hits on the `search` page
_SNAPSHOTS = Path(tempfile.gettempdir()) / "portal-archive-snapshots"
_snapshot_lock = asyncio.Lock()


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    register_functions(conn)


def search_query() -> dict:
    """The ranked `search` as a query of the configuration (Datasette 1.0 has no canned_queries hook),
    written once in archive.search for this page, the reading room and the command line."""
    return {
        "title": "Search (ranked by relevance, with snippets)",
        "description": (
            'Accents, case and đ/d are optional, and so is a Vietnamese keyboard: words typed in Telex or VNI '
            '(dangr uy, dang3 uy) find what the accented words find. "Quoted words" are a phrase. Reposts count '
            f"once. The {SEARCH_LIMIT} most relevant of the {CANDIDATES:,} most recently published matches "
            "(words in the title first, then words close together, then in a caption): add words to reach "
            "older ones. Portal, since and until (YYYY-MM-DD) are optional."),
        "sql": RANKED.replace(":limit", str(SEARCH_LIMIT)).replace(":offset", "0"),
    }


ARTICLES_PATH = re.compile(rf"^/{DATABASE_NAME}/articles(\.\w+)?$")
SEARCH_PATH = re.compile(rf"^/{DATABASE_NAME}/search(\.\w+)?$")


def _match(args: dict[str, str], raw: bool) -> str:
    """One FTS5 expression for the `_search` and `_search_<column>` arguments (all must match)."""
    parts = []
    for key, value in args.items():
        column = key.removeprefix("_search_") if key != "_search" else None
        if column and column not in SEARCHED:
            raise BadRequest(f"Cannot search by that column: {column}")
        expression = fold_d(value).strip() if raw else fts_query(value)
        if expression:
            if column:
                parts.append(f"{column} : ({expression})")
            else:  # raw FTS5 is taken as it is; words are looked for in the words, never the portal
                parts.append(f"({expression})" if raw else in_words(expression))
    return " AND ".join(parts)


def _search_args(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {k: v for k, v in pairs if k.startswith("_search") and k != "_searchmode" and v.strip()}


@hookimpl
def asgi_wrapper(datasette: object) -> object:
    """Count a search's matches up to NARROW before Datasette plans the page: past that, skip the
    full count (`_nocount`), which would read every match of a common word. Refuse a `search` page
    whose `since` is not a date, in one line."""

    def wrap(app: object) -> object:
        async def probed(scope: dict, receive: object, send: object) -> None:
            path = scope.get("path", "") if scope.get("type") == "http" else ""
            pairs = parse_qsl(scope.get("query_string", b"").decode("utf-8"), keep_blank_values=True)
            if SEARCH_PATH.match(path):
                try:
                    check_query(dict(pairs).get("q", ""))
                    since_key(dict(pairs).get("since"))
                    since_key(dict(pairs).get("until"))
                except ValueError as err:  # SQLite would only say "user-defined function raised exception"
                    await Response.text(str(err), status=400).asgi_send(send)
                    return
            if ARTICLES_PATH.match(path) and (args := _search_args(pairs)):
                raw = dict(pairs).get("_searchmode") == "raw"
                try:
                    for value in args.values():
                        check_query(value)
                    match = _match(args, raw)
                    matches = await _count(datasette, match) if match else 0
                except (BadRequest, QueryError) as err:
                    await Response.text(str(err), status=400).asgi_send(send)
                    return
                scope = {**scope, "archive_search": (match, matches)}  # match "": no word to search for
                if matches >= NARROW and "_nocount" not in dict(pairs):
                    pairs.append(("_nocount", "1"))
                    scope["query_string"] = urlencode(pairs).encode("utf-8")
            await app(scope, receive, send)

        return probed

    return wrap


async def _count(datasette: object, match: str) -> int:
    sql = "select count(*) from (select 1 from articles_fts where articles_fts match :match limit :limit)"
    try:
        result = await datasette.get_database(DATABASE_NAME).execute(sql, {"match": match, "limit": NARROW})
    except sqlite3.OperationalError as err:  # a raw-mode query FTS5 cannot read
        raise BadRequest(f"Search: {err}") from err
    return result.first()[0]


@hookimpl(trylast=True)  # after Datasette's own search filter, so that its "no search here" is overruled
def filters_from_request(request: Request, database: str, table: str, datasette: object) -> FilterArguments | None:
    """The `articles` search, in the cheapest of three shapes that gives the same page:

    - narrow (under NARROW matches): gather the matches, count and sort them: a few ms;
    - broad, in the table's own order and with no other filter: the index's rowids sort as that order
      does (see archive.db), so the page is the next page-size rowids of the index below the cursor;
    - broad with other filters or another order: the table in its order, each row looked up in the
      index until the page is full.
    """
    if database != DATABASE_NAME or table != "articles":
        return None

    async def inner() -> FilterArguments:
        return await _search_filter(request, datasette)

    return inner


async def _search_filter(request: Request, datasette: object) -> FilterArguments:
    extra = {"supports_search": True}
    if "archive_search" not in request.scope:
        return FilterArguments([], extra_context=extra)
    match, matches = request.scope["archive_search"]
    if not match:  # `*`, `'`, `%`: a search for no word finds nothing, as `portal-archive search` says
        searched = request.args.get("_search", "")
        return FilterArguments(["0"], {}, [f'search matches "{searched}": no word to search for'],
                               {**extra, "search": searched})
    found = "select rowid from articles_fts where articles_fts match :archive_search"
    params: dict[str, object] = {"archive_search": match}
    if matches < NARROW or request.args.get("_stream"):  # a stream pages by itself, past any window
        clause = f"search_key in ({found})"
    elif _newest_first_unfiltered(request):
        params.update(archive_below=_cursor_key(request.args.get("_next")),
                      archive_page=await _page_size(request, datasette))
        floor = f"coalesce(({found} and rowid <= :archive_below order by rowid desc limit 1 offset :archive_page), 0)"
        clause = f"search_key in ({found} and rowid between {floor} and :archive_below)"
    else:
        clause = f"exists ({found} and rowid = articles.search_key)"
    pairs = [(key, request.args[key]) for key in request.args]
    shown = "; ".join(v if k == "_search" else f"{k.removeprefix('_search_')}: {v}" for k, v in
                      _search_args(pairs).items())
    many = f" (more than {NARROW:,} articles)" if matches >= NARROW else ""
    return FilterArguments(
        [clause], params, [f'search matches "{shown}"{many}'],
        {**extra, "search": request.args.get("_search", "")},
    )


def _newest_first_unfiltered(request: Request) -> bool:
    """Sorted as metadata.yml sorts `articles` (search_key desc), and filtered by nothing but the search."""
    for key in request.args:
        if not key.startswith("_") or "__" in key or key in ("_where", "_sort") or (
                key == "_sort_desc" and request.args[key] != "search_key"):
            return False
    return True


def _cursor_key(token: str | None) -> int:
    """The index rowid just below the last row of the previous page (Datasette's `_next`: search_key,id)."""
    if not token:
        return 2**63 - 1
    if token.startswith("$null"):  # past every indexed article
        return -1
    return int(urlsafe_components(token)[0]) - 1


async def _page_size(request: Request, datasette: object) -> int:
    if hasattr(datasette, "table_config"):  # Datasette 1.0
        configured = (await datasette.table_config(DATABASE_NAME, "articles")).get("size")
    else:
        configured = datasette.table_metadata(DATABASE_NAME, "articles").get("size")
    size = request.args.get("_size") or configured
    if size == "max":
        return datasette.max_returned_rows
    try:
        return int(size)
    except (TypeError, ValueError):
        return datasette.page_size  # Datasette itself answers a bad _size


@hookimpl
def render_cell(value: object, column: str) -> Markup | None:
    if column != "snippet" or not isinstance(value, str):
        return None
    return highlighted(value)


def remove_snapshots(pid: int | None = None) -> None:
    """Delete the download snapshots of server ``pid`` (on its way out), or of every server that is no
    longer running (at start-up): each is as large as the archive."""
    for path in _SNAPSHOTS.glob("*-*-*-*"):  # <archive>-<pid>-<mtime>-<wal mtime>.db (or .partial)
        parts = path.name.rsplit("-", 3)
        if not parts[1].isdigit():
            continue
        owner = int(parts[1])
        if owner == pid or (pid is None and not _running(owner)):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live server
        return True
    return True


@hookimpl
def startup(datasette: object) -> None:
    remove_snapshots()


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
        conn = sqlite3.connect(read_only_uri(source), uri=True)
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


async def moved() -> Response:
    return Response.redirect(DOWNLOAD_PATH)


@hookimpl
def register_routes() -> list:
    """The snapshot at Datasette's usual download address, ahead of Datasette's own route for it (which
    refuses a file that may change); the address of earlier releases sends there."""
    return [(r"^/archive\.db$", download), (r"^/-/archive\.db$", moved)]

"""The reading room's own pages: home, search, charts."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from urllib.parse import urlencode

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from archive.keyboard import spelled
from archive.room import charts as chart_specs
from archive.room.context import DATABASE, portal_titles, render, words
from archive.search import NARROW, RANKED, QueryError, check_query

PAGE_SIZE = 20
MAX_PAGE = 50  # past this the newest-candidates window of the ranking (archive.search) is used up
# The matches facets are counted over: the newest NARROW, as the `articles` search counts.
FACETS = f"""with matches as (
  select rowid as key from articles_fts where articles_fts match archive_fts_query(:q)
  order by rowid desc limit {NARROW}
)
select a.portal, a.year, count(*) as n from matches join articles a on a.search_key = matches.key
group by a.portal, a.year"""


async def home(request: object, datasette: object) -> Response:
    db = datasette.get_database(DATABASE)
    portals = await portal_titles(datasette)
    counts = {row["portal"]: dict(row) for row in await db.execute(
        "select portal, count(*) as n, min(published) as first, max(published) as last from articles "
        "group by portal")}
    latest = [dict(r) for r in await db.execute(
        "select id, portal, title, published from articles where copy_of is null "
        "order by search_key desc limit 10")]
    listed = [{**portals.get(name, {"name": name}), **counts.get(name, {"n": 0})}
              for name in sorted(set(portals) | set(counts))]
    return await render(datasette, request, "room_home.html", listed=listed, latest=latest, portals=portals)


def _year(year: int | None) -> tuple[str, str]:
    """A year as the `since` and `until` of the ranked search (nothing for no year)."""
    return (f"{year}-01-01", f"{year + 1}-01-01") if year else ("", "")


def _int(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


async def search(request: object, datasette: object) -> Response:
    t = words(request)
    q = (request.args.get("q") or "").strip()
    portal = request.args.get("portal") or ""
    year = _int(request.args.get("year"), 1900, 2999)
    page = _int(request.args.get("page"), 1, MAX_PAGE) or 1
    found: dict = {"q": q, "portal": portal, "year": year, "page": page, "hits": [], "facets": None}
    portals = await portal_titles(datasette)
    if q:
        try:
            check_query(q)
        except QueryError as err:
            return await render(datasette, request, "room_search.html", status=400, error=str(err),
                                found=found, portals=portals)
        try:
            found.update(await _search(datasette, q, portal, year, page))
        except (QueryInterrupted, sqlite3.OperationalError):  # past the time limit, or SQLite refused it
            return await render(datasette, request, "room_search.html", status=503, error=t("search_failed"),
                                found=found, portals=portals)
        found["read_as"] = [s for word in re.findall(r"\w+", q) if (s := spelled(word))]
    elif portal or year:  # a portal's or a year's articles, newest first
        found.update(await _browse(datasette, portal, year, page))
    since, until = _year(year)
    found["sql_url"] = f"/{DATABASE}/search?" + urlencode({"q": q, "portal": portal, "since": since, "until": until})
    found["link"] = lambda **change: "/search?" + urlencode(
        {k: v for k, v in {"q": q, "portal": portal, "year": year or "", "page": "", **change}.items() if v})
    return await render(datasette, request, "room_search.html", found=found, portals=portals)


async def _search(datasette: object, q: str, portal: str, year: int | None, page: int) -> dict:
    db = datasette.get_database(DATABASE)
    since, until = _year(year)
    # The ranking and the facets are two queries of their own: run at once (SQLite leaves Python's lock
    # while it reads), the page waits for the slower, not for both.
    answers = await asyncio.gather(
        db.execute(RANKED, {"q": q, "portal": portal, "since": since, "until": until, "limit": PAGE_SIZE + 1,
                            "offset": (page - 1) * PAGE_SIZE}),
        db.execute(FACETS, {"q": q}), return_exceptions=True)
    if failed := next((a for a in answers if isinstance(a, BaseException)), None):
        raise failed
    hits, groups = ([dict(r) for r in rows] for rows in answers)
    return {**_faceted(groups, portal, year), "hits": hits[:PAGE_SIZE],
            "more": len(hits) > PAGE_SIZE and page < MAX_PAGE, "capped": sum(g["n"] for g in groups) >= NARROW}


def _faceted(groups: list[dict], portal: str, year: int | None) -> dict:
    """The total and the portal and year facets of (portal, year, n) groups: each facet counted with the
    other one's filter."""
    by_portal: dict[str, int] = {}
    by_year: dict[int, int] = {}
    for group in groups:
        if not year or group["year"] == year:
            by_portal[group["portal"]] = by_portal.get(group["portal"], 0) + group["n"]
        if group["year"] and (not portal or group["portal"] == portal):
            by_year[group["year"]] = by_year.get(group["year"], 0) + group["n"]
    total = sum(g["n"] for g in groups if (not year or g["year"] == year) and (not portal or g["portal"] == portal))
    return {"total": total,
            "facets": {"portal": sorted(by_portal.items(), key=lambda kv: (-kv[1], kv[0])),
                       "year": sorted(by_year.items(), reverse=True)}}


BROWSE = """select id, title, portal, published, substr(text, 1, 240) || '…' as snippet,
  (select count(*) from articles c where c.copy_of = a.url) as reposts
from articles a where copy_of is null and (:portal = '' or portal = :portal) and (:year is null or year = :year)
order by search_key desc limit :limit offset :offset"""


async def _browse(datasette: object, portal: str, year: int | None, page: int) -> dict:
    db = datasette.get_database(DATABASE)
    rows = await db.execute(BROWSE, {"portal": portal, "year": year, "limit": PAGE_SIZE + 1,
                                     "offset": (page - 1) * PAGE_SIZE})
    groups = [dict(r) for r in await db.execute(
        "select portal, year, count(*) as n from articles where copy_of is null group by portal, year")]
    return {**_faceted(groups, portal, year), "hits": [dict(r) for r in rows][:PAGE_SIZE], "browse": True,
            "more": len(rows.rows) > PAGE_SIZE and page < MAX_PAGE, "capped": False}


async def charts(request: object, datasette: object) -> Response:
    t = words(request)
    db = datasette.get_database(DATABASE)
    portals = await portal_titles(datasette)
    months = [dict(r) for r in await db.execute(
        "select portal, month, count(*) as articles from articles where month is not null "
        "group by portal, month order by month")]
    runs = [dict(r) for r in await db.execute(
        "select id, portal, started, pages, errors, fallbacks from crawl_runs where started is not null "
        "order by started")]
    names = sorted({r["portal"] for r in months})
    specs = [("all", chart_specs.per_month(months, t))]
    specs += [(f"portal-{name}", chart_specs.per_portal(months, portals.get(name, {"name": name}), t))
              for name in names]
    if runs:
        specs.append(("health", chart_specs.health(runs, t)))
    return await render(datasette, request, "room_charts.html", portals=portals,
                        specs=[(key, json.dumps(spec, ensure_ascii=False)) for key, spec in specs],
                        scripts=chart_specs.SCRIPTS, scripts_plugin=chart_specs.SCRIPTS_PLUGIN,
                        months=len({r["month"] for r in months}), empty=not months)



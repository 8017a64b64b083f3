"""Search latency on a large synthetic archive, through Datasette's HTTP API.

    python bench/search.py [--count 1000000] [--keep FILE]

Builds an archive of COUNT articles made from the seed paragraphs (titles with place names and
dates, 3-6 paragraphs, captions, one of 12 portals, 2015-2025), through the same schema and
full-text index the crawler writes, then serves it with `portal-archive serve` and times typical
queries (accented and not, phrases, rare and common words) on the table search box's JSON API, on
the ranked `search` query (overall and within one portal) and on the reading room's search page (its
cards and facets, as HTML). Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import Archive  # noqa: E402
from archive.samples.site import PLACES, TITLES, Pools, _load_seeds  # noqa: E402
from archive.text import story_key  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.support.servers import serving  # noqa: E402

PORTALS = ["mongcai", "halong", "uongbi", "campha", "dongtrieu", "quangyen", "vandon", "coto", "tienyen",
           "binhlieu", "quangninh", "baoquangninh"]
QUERIES = [
    "mong cai", "Móng Cái", "dang uy", "Đảng ủy", "nuoc sach hai son", "nước sạch Hải Sơn",
    '"thanh uy mong cai"', "giai phong mat bang tra co", "ocop", "sach ma tuy vinh trung",
    "dong trieu nong thon moi", "covid",
]
ROUNDS = 10


def build(db: Path, count: int) -> float:
    """Fill a fresh archive with ``count`` synthetic articles; returns the seconds it took."""
    started = time.monotonic()
    archive = Archive(db)
    pools = Pools.from_seeds(_load_seeds())
    rng = random.Random(20250630)
    start = datetime(2015, 1, 1, 7, 0)
    span = (datetime(2025, 6, 30) - start).total_seconds()
    batch = []
    with archive.db.atomic():
        archive.db.execute("drop table articles_fts")  # filled once at the end, faster than row by row
    for n in range(count):
        moment = start + timedelta(seconds=span * n / count + rng.randrange(3600))
        period = f"tháng {moment.month}/{moment.year}"
        title = rng.choice(TITLES).format(place=rng.choice(PLACES), period=period)
        text = "\n".join(rng.sample(pools.paragraphs, rng.randint(3, 6)))
        published = moment.strftime("%Y-%m-%dT%H:%M:00+07:00")
        batch.append((
            f"https://{PORTALS[n % len(PORTALS)]}.gov.vn/tin/{n}", PORTALS[n % len(PORTALS)], title, published,
            moment.year, published[:7], rng.choice(pools.authors), text,
            json.dumps(rng.sample(pools.captions, 2), ensure_ascii=False), "page", "profile", 1, published,
            published, story_key(f"{n} {text}"),
        ))
        if len(batch) == 20_000 or n == count - 1:
            with archive.db.atomic():
                archive.db.conn.executemany(
                    "insert into articles (url, portal, title, published, year, month, author, text, captions, "
                    "published_from, extractor, version, first_seen, updated_at, story) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    archive.close()
    archive = Archive(db)  # keys and fills articles_fts again
    archive.db.execute("vacuum")
    archive.close()
    return time.monotonic() - started


def timed(url: str) -> tuple[float, dict]:
    """Milliseconds and the JSON body ({} for a page); infinity when the query was stopped at the time limit."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            raw = response.read()
            body = json.loads(raw) if response.headers.get_content_type() == "application/json" else {}
    except urllib.error.HTTPError as err:
        if err.code == 503 or b"took too long" in err.read():
            return float("inf"), {}
        raise
    return (time.perf_counter() - started) * 1000, body


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def measure(db: Path, port: int) -> list[tuple[str, str, int, float, float]]:
    with serving(db, port, wait=60) as origin:  # opening a large archive takes a while
        base = f"{origin}/archive"
        endpoints = {
            "table search API (first 20, newest first)":
                lambda q: f"{base}/articles.json?" + urllib.parse.urlencode(
                    [("_search", q), ("_size", 20), ("_nofacet", 1), ("_col", "title"), ("_col", "published")]),
            "ranked search with snippets (`search` query, top 50)":
                lambda q: f"{base}/search.json?" + urllib.parse.urlencode({"q": q}),
            "ranked search within one portal (`search` query, `portal=coto`)":
                lambda q: f"{base}/search.json?" + urllib.parse.urlencode({"q": q, "portal": "coto"}),
            "reading room search page (20 cards and the facets, HTML)":
                lambda q: f"{origin}/search?" + urllib.parse.urlencode({"q": q}),
            "reading room search page within one portal (`portal=coto`)":
                lambda q: f"{origin}/search?" + urllib.parse.urlencode({"q": q, "portal": "coto"}),
        }
        results = []
        for label, url_of in endpoints.items():
            for query in QUERIES:
                timed(url_of(query))  # warm the page cache
                times = [timed(url_of(query))[0] for _ in range(ROUNDS)]
                _, body = timed(url_of(query) + "&_size=1")
                matches = body.get("filtered_table_rows_count") if "filtered_table_rows_count" in body else None
                results.append((label, query, matches, percentile(times, 50), percentile(times, 95)))
                print(f"{label} | {query} | {matches} | p50 {_ms(results[-1][3])} | p95 {_ms(results[-1][4])}",
                      flush=True)
        return results


def _ms(value: float) -> str:
    return "over the 3 s limit" if value == float("inf") else f"{value:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=0, help="Datasette's port (default: a free one).")
    parser.add_argument("--keep", type=Path, help="Build the archive at this path and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = args.keep or Path(scratch) / "archive.db"
        if not db.exists():
            seconds = build(db, args.count)
            print(f"built {args.count} articles in {seconds:.0f} s", flush=True)
        size = db.stat().st_size
        results = measure(db, args.port)
    lines = ["| endpoint | query | matches | p50 | p95 |", "|---|---|---|---|---|"]
    for label, query, matches, p50, p95 in results:
        shown = "" if matches is None else f"{matches:,}"
        lines.append(f"| {label} | `{query}` | {shown} | {_ms(p50)} | {_ms(p95)} |")
    worst = {label: max(r[4] for r in results if r[0] == label) for label in {r[0] for r in results}}
    write_section("search", (
        "## Search latency\n\n"
        f"`python bench/search.py --count {args.count}`: a synthetic archive of {args.count:,} articles drawn "
        "from the seed paragraphs (12 portals, 2015-2025), same schema and FTS5 index as a crawled archive "
        "(fetched pages not included), served by `portal-archive serve`; each query timed "
        f"{ROUNDS} times over HTTP on 127.0.0.1 after one warm-up. Database size: {size / 2**20:,.0f} MiB, "
        f"{size / args.count:,.0f} bytes per article. Worst p95: "
        + "; ".join(f"{label}: {_ms(ms)}" for label, ms in sorted(worst.items())) + ".\n\n"
        "The synthetic texts reuse ~70 seed paragraphs, so common words match a large share of all "
        "articles: far more than in a real archive, which makes counting and ranking their matches the "
        "worst case.\n\n" + "\n".join(lines) + "\n"
    ))


if __name__ == "__main__":
    main()

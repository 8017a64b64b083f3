"""Crawl throughput on one machine: raw fetching, a naive Scrapy + trafilatura spider, and portal-archive.

    python bench/crawl.py [--count 10000] [--small 1000]

Serves the mongcai sample twin with COUNT articles on 127.0.0.1 and crawls it three times, each run a
fresh process on the same pages (the same listing walk, robots.txt obeyed, politeness delays off):

1. raw fetch: the portal spider with no pipeline, it only downloads (the upper bound);
2. naive: the portal spider calling ``trafilatura.extract`` in its callback and inserting each row on
   its own (what a user would write);
3. portal-archive: ``portal-archive crawl``'s own code (extraction workers, cleaning, dates, batched
   storage, full-text index).

Then plain ``trafilatura.extract``'s cost per page on one core, the CPU ceiling
``cores / (1 / raw fetch rate + trafilatura cost per page)``, and the peak memory (RSS of the crawl's
whole process tree, sampled) of portal-archive on SMALL and on COUNT articles. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.samples.server import SampleSite  # noqa: E402
from archive.workers import default_workers  # noqa: E402
from bench.report import write_section  # noqa: E402

PORTAL = "mongcai"
# Politeness off, here only: as many requests at once as a fast local server can take.
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING",
    # The three crawls fetch the same pages and nothing else: photos and documents, which only
    # portal-archive fetches, are measured apart by bench/media.py.
    "MEDIA_ENABLED": False,
}
KINDS = {
    "raw": "raw fetch (download only)",
    "naive": "naive (trafilatura.extract in the callback, one insert at a time)",
    "ours": "portal-archive (full pipeline)",
}


# The three crawls, each run in its own process by `bench/crawl.py --run KIND`. ----------------
def run(kind: str, origin: str, db: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from crawler.runner import project_settings, run_crawl
    from crawler.spiders.portal import PortalSpider

    if kind == "ours":
        run_crawl([PORTAL], db, {PORTAL: origin}, BENCH_SETTINGS)
        return

    class NaiveSpider(PortalSpider):
        """The portal's listing walk, then what a user would write in the article callback."""

        def parse_article(self, response: object, listing_date: str | None = None) -> None:
            import sqlite_utils
            import trafilatura

            if not hasattr(self, "db"):
                self.db = sqlite_utils.Database(f"{db}.naive")
            text = trafilatura.extract(response.text)
            self.db["articles"].insert({"url": response.url, "text": text}, pk="url", replace=True)

    spider = PortalSpider if kind == "raw" else NaiveSpider
    process = CrawlerProcess(project_settings({**BENCH_SETTINGS, "ARCHIVE_DB": db, "ITEM_PIPELINES": {}}))
    process.crawl(spider, portal=PORTAL, origin=origin)
    process.start()


# Measuring. ------------------------------------------------------------------------------------
def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024 if "VmRSS:" in status else 0
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total


@dataclass
class Crawl:
    kind: str
    pages: int  # article pages fetched
    seconds: float
    peak_rss: int
    db_size: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def crawl(kind: str, site: SampleSite, scratch: Path) -> Crawl:
    db = scratch / f"{kind}.db"
    running = site.running[PORTAL]
    first = len(running.hits)
    started = time.monotonic()
    # As a module: run as a file, bench/ would come first on sys.path and its incremental.py would
    # shadow Twisted's `incremental` package.
    child = subprocess.Popen([sys.executable, "-m", "bench.crawl", "--run", kind, "--origin", running.origin,
                              "--db", str(db)], cwd=ROOT)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        time.sleep(0.05)
    seconds = time.monotonic() - started
    if child.returncode:
        raise SystemExit(f"the {kind} crawl failed (exit {child.returncode})")
    pages = sum(1 for hit in running.hits[first:] if running.family.is_article(hit.path) and hit.status == 200)
    size = sum(p.stat().st_size for p in scratch.glob(f"{kind}.db*") if not p.name.endswith(".lock"))
    result = Crawl(kind, pages, seconds, peak, size)
    print(f"{KINDS[kind]}: {pages} pages in {seconds:.1f} s = {result.rate:.1f} pages/s, "
          f"peak RSS {peak / 2**20:.0f} MiB, database {size / 2**20:.1f} MiB", flush=True)
    return result


def trafilatura_cost(site: SampleSite, sample: int = 300) -> float:
    """Seconds plain trafilatura.extract takes per page, one core, on pages spread over the portal."""
    import trafilatura

    running = site.running[PORTAL]
    articles = list(site.twins[PORTAL].articles())
    step = max(1, len(articles) // sample)
    pages = [urllib.request.urlopen(running.origin + running.family.article_path(a)).read().decode("utf-8")
             for a in articles[::step][:sample]]
    trafilatura.extract(pages[0])  # imports and caches warmed
    started = time.process_time()
    for page in pages:
        trafilatura.extract(page)
    return (time.process_time() - started) / len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="Articles on the sample portal.")
    parser.add_argument("--small", type=int, default=1_000, help="Articles of the memory check's small crawl.")
    parser.add_argument("--run", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run, args.origin, args.db)
        return
    cores = default_workers()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "small").mkdir()
        with SampleSite(count=args.small) as site:
            small = crawl("ours", site, Path(scratch) / "small")
        with SampleSite(count=args.count) as site:
            crawls = {kind: crawl(kind, site, Path(scratch)) for kind in KINDS}
            cost = trafilatura_cost(site)
    raw, naive, ours = crawls["raw"], crawls["naive"], crawls["ours"]
    ceiling = cores / (1 / raw.rate + cost)
    lines = [
        f"trafilatura.extract: {cost * 1000:.1f} ms per page on one core",
        f"CPU ceiling: {cores} cores / (1 / {raw.rate:.0f} + {cost:.4f} s) = {ceiling:.1f} pages/s",
        f"portal-archive / raw fetch: {ours.rate / raw.rate:.2f}",
        f"portal-archive / naive: {ours.rate / naive.rate:.2f} (goal: at least 1.5)",
        f"portal-archive / ceiling: {ours.rate / ceiling:.0%} (goal: at least 80 %)",
        f"peak RSS of portal-archive: {small.peak_rss / 2**20:.0f} MiB for {small.pages:,} pages, "
        f"{ours.peak_rss / 2**20:.0f} MiB for {ours.pages:,} pages (goal: under 500 MiB, flat)",
    ]
    print("\n".join(lines))
    table = ["| crawl | article pages | wall time | pages/s | peak RSS | database |", "|---|---|---|---|---|---|"]
    for c in [raw, naive, ours]:
        table.append(f"| {KINDS[c.kind]} | {c.pages:,} | {c.seconds:.1f} s | {c.rate:.1f} | "
                     f"{c.peak_rss / 2**20:.0f} MiB | {c.db_size / 2**20:.1f} MiB |")
    table.append(f"| portal-archive, {small.pages:,} articles | {small.pages:,} | {small.seconds:.1f} s | "
                 f"{small.rate:.1f} | {small.peak_rss / 2**20:.0f} MiB | {small.db_size / 2**20:.1f} MiB |")
    write_section("crawl", (
        "## Crawl throughput\n\n"
        f"`python bench/crawl.py --count {args.count}` on {cores} cores ({os.uname().machine}): the mongcai "
        f"sample twin with {args.count:,} articles served on 127.0.0.1 by the bench's own process, three "
        "crawls of the same pages, each a fresh process, politeness off (no delay, 16 requests at once), "
        "photos and documents not fetched (their cost: bench/media.py). "
        "Peak RSS is the whole process tree's (crawl, forkserver and extraction workers), sampled every "
        "50 ms. Wall time includes starting Python and Scrapy.\n\n"
        + "\n".join(table) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    ))


if __name__ == "__main__":
    main()

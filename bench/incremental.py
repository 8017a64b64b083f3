"""Pages fetched by nightly crawls of a large portal: the first full crawl, then incremental runs.

    python bench/incremental.py [--count 10000]

Serves the mongcai sample twin with COUNT generated articles on 127.0.0.1, crawls it once into a
fresh archive, then runs the nightly crawl again twice: on the unchanged portal (goal: listing pages
only), and after the portal published 5 new articles. Requests are counted from the sample server's
own log. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.samples.server import SampleSite  # noqa: E402
from bench.report import write_section  # noqa: E402


def crawl(site: SampleSite, db: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "portal_archive", "crawl", "mongcai", "--db", str(db), "--delay", "0",
         "--log-level", "WARNING", f"--origin=mongcai={site.origins['mongcai']}"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def kinds(site: SampleSite, start: int) -> Counter[str]:
    running = site.running["mongcai"]
    family = running.family
    counted: Counter[str] = Counter()
    for hit in running.hits[start:]:
        parts = urlsplit(hit.path)
        if family.is_article(hit.path):
            counted[f"article pages ({hit.status})"] += 1
        elif family.listing_page(parts.path, parse_qs(parts.query)) is not None:
            counted["listing pages"] += 1
        else:
            counted[parts.path] += 1
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    count = parser.parse_args().count
    rows = []
    with tempfile.TemporaryDirectory() as scratch, SampleSite(count=count) as site:
        db = Path(scratch) / "archive.db"
        for label, before_run in [("first crawl", None), ("nightly, nothing new", None),
                                  ("nightly, 5 new articles", lambda: site.twins["mongcai"].publish(5))]:
            if before_run:
                before_run()
            start = len(site.running["mongcai"].hits)
            seconds = crawl(site, db)
            fetched = kinds(site, start)
            rows.append((label, sum(fetched.values()), fetched, seconds))
            print(f"{label}: {sum(fetched.values())} requests in {seconds:.1f} s: {dict(fetched)}", flush=True)
    table = ["| run | requests | of which | wall time |", "|---|---|---|---|"]
    for label, total, fetched, seconds in rows:
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(fetched.items()))
        table.append(f"| {label} | {total} | {detail} | {seconds:.1f} s |")
    write_section("incremental", (
        "## Incremental crawls\n\n"
        f"`python bench/incremental.py --count {count}`: the mongcai sample twin with {count} generated "
        "articles (+3 seed articles, 10 per listing page) on 127.0.0.1, no politeness delay. Requests counted "
        "from the sample server's log. An unchanged portal costs its first listing pages only (the page "
        "that reaches archived ground, plus one page of overlap), robots.txt included.\n\n"
        + "\n".join(table) + "\n"
    ))


if __name__ == "__main__":
    main()

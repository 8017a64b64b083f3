"""`portal-archive demo`: the sample portals on free ports, one crawl of them all, then the archive served."""

from __future__ import annotations

from collections.abc import Callable

from archive.db import Archive
from archive.samples.server import SampleSite
from crawler.runner import PortalResult, run_crawl


def crawl_samples(db: str, count: int, say: Callable[[str], None]) -> list[PortalResult]:
    """Serve the sample portals while they are crawled into ``db``; returns each portal's result."""
    with SampleSite(count=count) as site:
        say(f"Sample portals: {', '.join(f'{n} {o}' for n, o in site.origins.items())}")
        # Our own loopback twins need no politeness delay.
        results = run_crawl(list(site.origins), db, site.origins,
                            {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"})
    for r in results:
        say(f"{r.portal:<14} {r.pages:>4} pages fetched, {r.new} new, {r.changed} changed articles")
    archive = Archive(db)
    try:
        say(f"{archive.count()} articles in {archive.path.resolve()}")
    finally:
        archive.close()
    return results

"""`portal-archive demo`: the sample portals on free ports, one crawl of the live ones and one recovery of
the retired ones from a twin of the Wayback Machine, then the archive served."""

from __future__ import annotations

from collections.abc import Callable

from archive.db import Archive
from archive.samples.server import SampleSite
from archive.samples.wayback import WaybackTwin
from crawler.profile import load_profile
from crawler.runner import PortalResult, run_crawl
from crawler.spiders.wayback import WaybackSpider


def crawl_samples(db: str, count: int, say: Callable[[str], None]) -> list[PortalResult]:
    """Serve the sample portals while the live ones are crawled into ``db`` and the retired ones recovered
    from the Wayback Machine's twin (at the Internet Archive's own pace); returns each portal's result."""
    with SampleSite(count=count) as site:
        retired = tuple(name for name in site.origins if load_profile(name).retired)
        live = [name for name in site.origins if name not in retired]
        with WaybackTwin(portals=retired, count=count) as wayback:
            say(f"Sample portals: {', '.join(f'{n} {site.origins[n]}' for n in live)}")
            if retired:
                say(f"Retired, recovered from the Wayback Machine's twin at {wayback.url}: {', '.join(retired)}")
            # Our own loopback twins need no politeness delay; the Wayback twin gets the real service's.
            recoveries = [(name, WaybackSpider, {"wayback": wayback.url}) for name in retired]
            results = run_crawl(live, db, site.origins,
                                {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"},
                                also=recoveries)
    for r in results:
        if r.portal in retired:
            say(f"{r.portal:<14} {r.captures:>4} captures recovered, {r.new} new, {r.changed} changed articles")
        else:
            say(f"{r.portal:<14} {r.pages:>4} pages fetched, {r.new} new, {r.changed} changed articles")
    archive = Archive(db)
    try:
        say(f"{archive.count()} articles in {archive.path.resolve()}")
    finally:
        archive.close()
    return results

"""Save the shipped portals' test pages from their sample twins (for crawler/testpages.py):

    python -m tests.support.save_portal_pages [PORTAL ...]

For each portal: its first two listing pages, its seed articles and its first generated article, each
saved under the URL it has on the real portal, with the listing date the crawl would have, and what it
gives now as its expected JSON. Run it when a twin's pages change; review the diff.
"""

from __future__ import annotations

import sys
import urllib.request

from archive.samples.server import SampleSite
from crawler import testpages
from crawler.profile import load_profile, profile_names

FETCHED_AT = "2026-12-01T08:00:00+07:00"  # a fixed crawl date: a year-less date in a lead is read against it


def _get(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type")


def save(name: str, site: SampleSite) -> list[str]:
    profile = load_profile(name)
    origin, family = site.origins[name], site.running[name].family
    testpages.clear(profile)
    saved, dates = [], {}
    path = profile.start_urls[0]
    for _ in range(2):  # the first listing page, then the one its "next" link leads to
        url = profile.url(path)
        body, content_type = _get(origin + path)
        listing = testpages.listing_of(body, url, profile, content_type)
        dates.update(dict(listing.links))
        saved.append(testpages.save(profile, "listing", url, body, content_type, FETCHED_AT))
        if not listing.listings:
            break
        path = listing.listings[0].removeprefix(profile.origin)
    twin = site.twins[name]
    articles = [*twin.seed_articles, twin.generated(0)]
    for article in articles:
        path = family.article_path(article)
        body, content_type = _get(origin + path)
        url = profile.url(path)
        saved.append(testpages.save(profile, "article", url, body, content_type, FETCHED_AT, dates.get(url)))
    return [str(p) for p in saved]


def main(names: list[str]) -> int:
    with SampleSite(count=30) as site:
        for name in names or profile_names():
            for path in save(name, site):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

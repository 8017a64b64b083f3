"""How well a profile fits the site it is run against (SELECTOR_REPORT = True, as `portal-archive check`
sets): for every selector of the profile, on how many of the fetched pages of its kind (listing or
article) it matched, and how many nodes. A selector written against a twin or an old version of the site
matches nothing on the real one; the crawl then falls back (links by URL pattern, the generic extraction
path) and still archives, so without this report nothing tells the user that the profile does not fit.

At the spider's close the report is printed to stderr and its misfits (selectors the archive relies on
that matched no page) are left in the stats as ``check/misfits``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse

from archive.extract import select
from crawler.extensions import OptIn
from crawler.profile import Profile

# What each kind of page is read with, and what happens when a selector matches nothing there.
FALLBACKS = {
    "listing.item": "article links read from every link on the page, by the `articles` pattern",
    "listing.date": "dates read from the article pages",
    "listing.next": "every listing link on the page followed",
    "listing.pages": "no pager links",
    "rules.title": "headline found by the generic path",
    "rules.published": "date found by the generic path",
    "rules.body": "article read by the generic path (status: generic-fallback)",
    "rules.captions": "captions found by the generic path",
    "rules.author": "byline found by the generic path",
}
# Matching nothing on every page is normal for these: the last listing page has no "next", a page
# without photos no caption, a rule that drops a widget finds none where the widget is absent.
OPTIONAL = {"listing.next", "listing.pages", "listing.date", "rules.captions", "rules.author", "rules.drop"}


@dataclass
class Tally:
    selector: str
    pages: int = 0  # pages of the selector's kind that were read
    matched: int = 0  # of which the selector matched at least one node
    nodes: int = 0

    def count(self, found: int) -> None:
        self.pages += 1
        self.matched += found > 0
        self.nodes += found


@dataclass
class Report:
    listings: dict[str, Tally] = field(default_factory=dict)
    articles: dict[str, Tally] = field(default_factory=dict)

    @staticmethod
    def selectors(profile: Profile) -> tuple[dict[str, str], dict[str, str]]:
        """The profile's listing and article selectors, by the name of their profile field."""
        listing = {f"listing.{key}": value for key, value in (
            ("item", profile.listing_item), ("date", profile.listing_date),
            ("next", profile.listing_next), ("pages", profile.listing_pages)) if value}
        rules = profile.rules
        article = {f"rules.{key}": value for key, value in (
            ("title", rules.title), ("published", rules.published), ("body", rules.body),
            ("captions", rules.captions), ("author", rules.author)) if value}
        article |= {f"rules.drop[{n}]": value for n, value in enumerate(rules.drop)}
        return listing, article

    def read(self, profile: Profile, response: TextResponse) -> None:
        listing, article = self.selectors(profile)
        if profile.is_article(response.url):
            kind, selectors = self.articles, article
        elif profile.is_listing(response.url) or response.url in {profile.url(u) for u in profile.start_urls}:
            kind, selectors = self.listings, listing
            if profile.listing_date and profile.listing_item:
                selectors = {**selectors, "listing.date": f"{profile.listing_item} {profile.listing_date}"}
        else:
            return
        for name, selector in selectors.items():
            try:
                found = len(select(response, selector))
            except ValueError:  # an XPath the profile check let through but lxml refuses
                found = 0
            kind.setdefault(name, Tally(selector)).count(found)

    def misfits(self) -> list[str]:
        """Selectors the archive relies on that matched no page of their kind."""
        return [name for tallies in (self.listings, self.articles) for name, t in tallies.items()
                if t.pages and not t.matched and name.split("[")[0] not in OPTIONAL]

    def lines(self, portal: str) -> list[str]:
        out = [f"{portal}: selectors of the profile on the pages fetched"]
        for tallies in (self.listings, self.articles):
            for name, t in tallies.items():
                where = f"{t.matched} of {t.pages} pages, {t.nodes} nodes"
                line = f"  {name:<16} {where:<26} {t.selector}"
                if t.pages and t.matched < t.pages:
                    fallback = FALLBACKS.get(name.split("[")[0], "nothing dropped")
                    line += f"\n  {'':<16} matched nothing on {t.pages - t.matched}: {fallback}"
                out.append(line)
        if not self.listings and not self.articles:
            out.append("  no listing or article page was read")
        if misfits := self.misfits():
            out.append(f"{portal}: the profile does not fit this site: {', '.join(misfits)} matched nothing")
        return out


class SelectorReport(OptIn):
    SETTING = "SELECTOR_REPORT"

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.report = Report()
        crawler.signals.connect(self.received, signal=signals.response_received)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def received(self, response: Response, spider: Spider) -> None:
        profile = getattr(spider, "profile", None)
        if isinstance(response, TextResponse) and profile is not None and response.status == 200:
            self.report.read(profile, response)

    def closed(self, spider: Spider) -> None:
        profile = getattr(spider, "profile", None)
        sys.stderr.write("\n".join(self.report.lines(profile.name if profile else spider.name)) + "\n")
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("check/misfits", self.report.misfits())

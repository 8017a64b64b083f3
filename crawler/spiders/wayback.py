"""Recover a portal from the Wayback Machine: list its captures through the CDX API, fetch each distinct
one as captured (``id_`` mementos), and hand them to the same extraction and storage as a crawl.

`scrapy crawl wayback -a portal=halong [-a wayback=URL] [-a since=2024-01-01] [-a until=2025-07-01]`

- The CDX API is asked for the captures under the literal prefix of each of the profile's URL patterns
  (``matchType=prefix``; ``host`` where a pattern has none), ``filter=statuscode:200`` and
  ``collapse=digest``, page after page through resume keys. Article captures are fetched; listing
  captures are read as a crawl reads a listing, and their article links that the index does not hold
  are asked for at the listing's capture time (the service redirects to the nearest capture).
- Politeness is the Internet Archive's: the CDX API and the mementos each have a download slot of their
  own, at most ``cdx_per_minute`` and ``mementos_per_minute`` requests a minute, and a 429 pauses the
  slot for its Retry-After (crawler.middlewares.retryafter).
- Each capture dealt with goes in the ``captures`` ledger, in the transaction that archived it: a run
  cut short goes on where it stopped. A complete run records the newest capture it listed; the next
  asks the CDX API only for captures after it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from archive.dates import capture_stamp, from_capture_stamp, parse_iso
from archive.text import not_html
from archive.workers import WorkerPool, shared_pool
from crawler.httprecord import exchange
from crawler.items import FetchedPage
from crawler.listing import read_listing
from crawler.profile import Profile, load_profile
from crawler.settings import DOWNLOADER_MIDDLEWARES
from crawler.store import Store

WAYBACK = "https://web.archive.org"
SOURCE = "wayback"
CDX_SLOT, MEMENTO_SLOT = "wayback-cdx", "wayback-memento"
STAMP = re.compile(r"/web/(\d{14})")
MEMENTO = re.compile(r"/web/\d{1,14}[a-z]{0,2}_?/(.+)$")


def literal_prefix(pattern: str) -> str:
    """The text every match of a URL pattern (a regular expression on path and query) starts with."""
    prefix, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            prefix.append(pattern[i + 1])
            i += 2
            continue
        if char in ".^$*+?{}[]|()\\":
            if char in "*?{" and prefix:  # the quantifier makes the last character optional
                prefix.pop()
            break
        prefix.append(char)
        i += 1
    return "".join(prefix)


class WaybackSpider(scrapy.Spider):
    name = "wayback"
    source = SOURCE
    full = False
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        "AUTOTHROTTLE_ENABLED": False,  # the service's limits, not the latency, set the pace
        "ROBOTSTXT_OBEY": False,  # the archive's robots.txt is not the portal's; every memento is asked by hand
        # the project's, with a 429 waited out: a spider's dict replaces the project's whole
        "DOWNLOADER_MIDDLEWARES": {**DOWNLOADER_MIDDLEWARES, "crawler.middlewares.retryafter.RetryAfter": 560},
        # A 429 is waited out (RetryAfter), never retried at once as Scrapy's retries would.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
    }

    def __init__(self, portal: str, wayback: str = WAYBACK, since: str | None = None, until: str | None = None,
                 cdx_per_minute: float = 24, mementos_per_minute: float = 480, memento_concurrency: int = 2,
                 cdx_limit: int = 5000, full: object = False, **kwargs: Any) -> None:
        profile = load_profile(portal)
        super().__init__(name=self.name, **kwargs)
        self.profile: Profile = profile
        self.portal_profile = profile
        self.canonical_base = profile.base_url
        self.wayback = wayback.rstrip("/")
        # Bounds on the capture time (the CDX API's from/to), not on publication: the pipelines' `since`
        # (articles published before it are dropped) stays unset.
        self.since = None
        self.captured_since = parse_iso(since) if since else None
        self.until = parse_iso(until) if until else None
        self.cdx_delay, self.memento_delay = 60 / float(cdx_per_minute), 60 / float(mementos_per_minute)
        self.memento_concurrency, self.cdx_limit = int(memento_concurrency), int(cdx_limit)
        self.done: set[tuple[str, str]] = set()  # captures archived by an earlier run
        self.known: set[str] = set()  # article URLs already archived
        self.indexed: set[str] = set()  # article URLs the CDX index has
        self.asked: set[str] = set()  # article URLs asked for in this run
        self.through: str | None = None  # the newest capture listed
        self.pool: WorkerPool = shared_pool(0)

    @property
    def crawled_from(self) -> str:
        return self.wayback

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WaybackSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        slots = {CDX_SLOT: {"concurrency": 1, "delay": spider.cdx_delay, "jitter": 0},
                 MEMENTO_SLOT: {"concurrency": spider.memento_concurrency, "delay": spider.memento_delay, "jitter": 0}}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        spider.pool = shared_pool(crawler.settings.get("EXTRACT_WORKERS"))
        return spider

    # The CDX API ----------------------------------------------------------------------------
    def queries(self, after: str | None) -> list[dict[str, str]]:
        """One CDX query per URL pattern of the profile: the articles first, so that the listings know
        which of their links the index holds."""
        host = self.profile.host.removeprefix("www.")
        queries = []
        for pattern, kind in ((self.profile.articles, "article"), (self.profile.listings, "listing")):
            if pattern is None:
                continue
            prefix = literal_prefix(pattern.pattern)
            query = {"url": host + prefix, "matchType": "prefix"} if len(prefix) > 1 else {
                "url": host, "matchType": "host"}
            query |= {"output": "json", "filter": "statuscode:200", "collapse": "digest",
                      "showResumeKey": "true", "limit": str(self.cdx_limit), "kind": kind}
            # --since asks again from then (the ledger skips what is archived); else only what is new.
            start = capture_stamp(self.captured_since) if self.captured_since else after
            if start:
                query["from"] = start
            if self.until:
                query["to"] = capture_stamp(self.until)
            if query not in queries:
                queries.append(query)
        return queries

    def _cdx_request(self, queries: list[dict[str, str]], resume: str | None = None) -> scrapy.Request:
        query = {k: v for k, v in queries[0].items() if k != "kind"}
        if resume:
            query["resumeKey"] = resume
        return scrapy.Request(f"{self.wayback}/cdx/search/cdx?{urlencode(query)}", callback=self.parse_cdx,
                              errback=self._failed, cb_kwargs={"queries": queries},
                              meta={"download_slot": CDX_SLOT, "discovery": True}, dont_filter=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        store, name = Store.of(self.crawler), self.profile.name
        self.done = store.call(lambda archive: archive.captures_done(name, SOURCE))
        self.known = set(store.call(lambda archive: archive.known(name)))
        after = store.call(lambda archive: archive.recovered_through(name, SOURCE))
        if after:  # only what was captured since the last complete run listed
            after = capture_stamp(from_capture_stamp(after) + timedelta(seconds=1))
        yield self._cdx_request(self.queries(after))

    def parse_cdx(self, response: Response, queries: list[dict[str, str]]) -> Iterator[scrapy.Request]:
        try:
            rows = json.loads(response.text or "[]")
        except ValueError as err:
            self.crawler.stats.inc_value("discovery/failed")
            self.logger.error("the CDX API answered what is not JSON (%s): %s", err, response.url)
            return
        header, resume = (rows[0] if rows else []), None
        if rows and rows[-2:-1] == [[]]:
            resume, rows = rows[-1][0], rows[:-2]
        fields = {name: n for n, name in enumerate(header)}
        kind = queries[0]["kind"]
        for row in rows[1:]:
            original, timestamp = row[fields["original"]], row[fields["timestamp"]]
            url = self._portal_url(original)
            if url is None:
                continue
            self._listed(timestamp)
            if kind == "article" and self.profile.is_article(url):
                self.indexed.add(url)
            elif not (kind == "listing" and self.profile.is_listing(url)):
                continue
            if (url, timestamp) not in self.done:
                yield self._memento_request(url, original, timestamp, kind, listed=timestamp)
        if resume:
            yield self._cdx_request(queries, resume)
        elif len(queries) > 1:
            yield self._cdx_request(queries[1:])

    def _portal_url(self, original: str) -> str | None:
        """A capture's URL on the portal's own origin (captures differ in scheme, ``www.`` and port)."""
        return self.profile.own(original)

    # Mementos -------------------------------------------------------------------------------
    def _memento_request(self, url: str, original: str, timestamp: str, kind: str,
                         listing_date: str | None = None, listed: str | None = None) -> scrapy.Request:
        """``listed``: the capture's time in the CDX index, which names it in the ledger (the memento's
        own time may be a second off)."""
        self.asked.add(url)
        return scrapy.Request(f"{self.wayback}/web/{timestamp}id_/{original}", callback=self.parse_memento,
                              errback=self._failed, dont_filter=True,
                              cb_kwargs={"url": url, "kind": kind, "listing_date": listing_date, "listed": listed},
                              meta={"download_slot": MEMENTO_SLOT, "handle_httpstatus_list": [404]})

    def _captured(self, response: Response) -> datetime | None:
        header = response.headers.get("Memento-Datetime")
        if header:
            try:
                return parsedate_to_datetime(header.decode("latin-1")).astimezone(UTC)
            except (TypeError, ValueError):
                pass
        found = STAMP.search(response.url)
        return from_capture_stamp(found.group(1)) if found else None

    async def parse_memento(self, response: Response, url: str, kind: str, listing_date: str | None = None,
                            listed: str | None = None) -> AsyncIterator[FetchedPage | scrapy.Request]:
        stats = self.crawler.stats
        captured = self._captured(response)
        found = MEMENTO.search(response.url)
        landed = self._portal_url(found.group(1)) if found else url
        if landed != url:  # the page had moved when it was captured: the capture is of another address
            if landed is None or not self.profile.is_article(landed) or landed in self.asked:
                stats.inc_value("recover/missing")
                self.logger.info("capture of %s is of another page, skipped: %s", url, response.url)
                return
            url, listed = landed, None
        if response.status == 404 or captured is None:
            stats.inc_value("recover/missing")
            self.logger.info("no capture of %s (%s)", url, response.url)
            return
        if not hasattr(response, "text") or not_html(response.body):
            stats.inc_value("recover/missing")
            self.logger.warning("capture is not an HTML page, skipped: %s", response.url)
            return
        if kind == "listing":
            listing = await self.pool.run(
                read_listing, response.body, url, response.encoding, self.profile)
            for link, date in listing.links:
                if link in self.indexed or link in self.known or link in self.asked:
                    continue
                stats.inc_value("recover/from_listings")  # captures the CDX index does not list
                yield self._memento_request(link, link, capture_stamp(captured), "article", date)
            return
        stats.inc_value("recover/captures")
        timestamp = listed or capture_stamp(captured)
        if (url, timestamp) in self.done:  # reached by a redirect to a capture archived before
            return
        yield FetchedPage(
            url=url, portal=self.profile.name, body=response.body, fetched_from=response.url,
            content_type=_str(response.headers.get("Content-Type")), status=200, fetched_at=datetime.now(UTC),
            listing_date=listing_date, captured_at=captured, capture=(SOURCE, timestamp), http=exchange(response),
        )

    def _failed(self, failure: Failure) -> None:
        request = failure.request
        self.crawler.stats.inc_value("discovery/failed")  # the recovery is not whole: the run is partial
        self.logger.error("%s failed: %s (%s)", "CDX query" if request.meta.get("discovery") else "memento",
                          request.url, failure.getErrorMessage())

    def schedule_retry(self, url: str, why: str, listing_date: str | None = None) -> None:
        """A capture with no article text (the pipeline's call): nothing to retry on a schedule; counted."""
        self.crawler.stats.inc_value("recover/missing")
        self.logger.warning("%s: %s", why, url)

    def _listed(self, timestamp: str) -> None:
        """The newest capture listed so far: what a complete run records (crawler.extensions.runrecord)."""
        if self.through is None or timestamp > self.through:
            self.through = timestamp
            self.crawler.stats.set_value("recover/through", timestamp)


def _str(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None

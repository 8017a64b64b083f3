"""One spider for every portal: its profile says where the listings, feeds and sitemaps are and what
an article URL looks like.

Nightly runs are incremental. Listings are walked newest first, page after page, only until a page
holds nothing but articles archived by a complete earlier run (plus ``overlap`` pages); archived
articles are not fetched again, except the young ones (``recheck_days``), which are asked for with
If-None-Match / If-Modified-Since to catch edits and removals. A run cut short (Ctrl-C, kill, power
loss) never counts as complete, so the next run walks past what it left half-done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archive.dates import parse_date, parse_iso
from archive.model import Known
from archive.text import not_html
from archive.urls import canonical
from archive.workers import WorkerPool, shared_pool
from crawler.httprecord import exchange
from crawler.items import Checked, FetchedPage
from crawler.listing import read_listing
from crawler.profile import Profile, load_profile
from crawler.store import Store

RECHECK_STATUSES = [304, 404, 410]
# With no delay, Scrapy's downloader (asyncio reactor) starts every queued request of a portal at
# once: a download counts against the portal's concurrency only once its task has run. Any delay
# makes it start them one by one, so a millisecond keeps the concurrency limit real.
MIN_DELAY = 0.001
# The IgnoreRequest messages of requests skipped on purpose (Scrapy's robots.txt and offsite middlewares);
# any other (a page past DOWNLOAD_MAXSIZE once decompressed, a redirect loop) is a failure.
BY_DESIGN = ("Forbidden by robots.txt", "Filtered offsite request")


def _flag(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


class PortalSpider(scrapy.Spider):
    """`scrapy crawl portal -a portal=mongcai [-a origin=URL] [-a full=1] [-a since=2024-01-01]`"""

    name = "portal"

    def __init__(
        self, portal: str, origin: str | None = None, full: object = False, since: str | None = None,
        now: str | None = None, max_articles: int | None = None, **kwargs: Any,
    ) -> None:
        profile = load_profile(portal)
        # Articles are archived under their address on the portal (base_url), whatever origin serves
        # them (a twin, a mirror): the spider works in fetch URLs and names articles by portal URLs.
        self.canonical_base = profile.base_url
        self.portal_profile = profile
        self.profile: Profile = profile.with_origin(origin) if origin else profile
        super().__init__(name=self.name, **kwargs)
        self.allowed_domains = [self.profile.host]
        self.full = _flag(full)
        self.since = parse_iso(since) if since else None
        self.now = parse_iso(now) if now else datetime.now(UTC)
        self.known: dict[str, Known] = {}
        self.retrying: dict[str, tuple[str, str | None]] = {}  # the portal's retry schedule: url -> next try, date
        self.seen_links: set[str] = set()  # article links met on listings during this run
        # `check` reads a few articles: no more article pages are asked for, nor listings walked, past them.
        self.max_articles = int(max_articles) if max_articles is not None else None
        self.articles_asked = 0
        self.complete_through: datetime | None = None
        self.pool: WorkerPool = shared_pool(0)  # in this process, until from_crawler gives the crawl's

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The profile's politeness, unless the command line said otherwise (higher priority).
        polite = spider.profile.politeness
        settings = crawler.settings
        settings.set("DOWNLOAD_DELAY", polite.delay, priority="spider")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", polite.concurrency, priority="spider")
        media = spider.profile.media
        for name, value in (("MEDIA_ENABLED", media.enabled), ("MEDIA_MAX_BYTES", media.max_bytes),
                            ("MEDIA_TYPES", media.types)):
            if value is not None:
                settings.set(name, value, priority="spider")
        if settings.getfloat("DOWNLOAD_DELAY") < MIN_DELAY:
            settings.set("DOWNLOAD_DELAY", MIN_DELAY, priority=settings.getpriority("DOWNLOAD_DELAY") or 0)
        # Listing pages are read in the extraction workers (started by the ExtractPipeline).
        spider.pool = shared_pool(crawler.settings.get("EXTRACT_WORKERS"))
        return spider

    # Start ----------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        store, name = Store.of(self.crawler), self.profile.name
        fetched = self.fetch_url
        self.known = {fetched(url): k for url, k in store.call(lambda archive: archive.known(name)).items()}
        self.retrying = {fetched(url): r for url, r in store.call(lambda archive: archive.retries(name)).items()}
        complete = None if self.full else store.call(lambda archive: archive.complete_through(name))
        self.complete_through = datetime.fromisoformat(complete) if complete else None
        for url, known in self.known.items():
            if self._due(known):
                yield self._article_request(url, known=known)
        for url, (next_try, listing_date) in self.retrying.items():  # failed before, and due again
            if datetime.fromisoformat(next_try) <= self.now and url not in self.known:
                yield self._article_request(url, listing_date)
        discovery = [(self.profile.start_urls, self.parse_listing), (self.profile.feeds, self.parse_feed),
                     (self.profile.sitemaps, self.parse_sitemap)]
        for paths, callback in discovery:
            for path in paths:
                yield self._discovery_request(self.profile.url(path), callback)

    def _due(self, known: Known) -> bool:
        """Fetch an archived article again? Always with --full; else while it is young."""
        if known.gone:
            return False
        if self.full:
            return True
        published = parse_iso(known.published)
        return published is not None and published >= self.now - timedelta(days=self.profile.recheck_days)

    def _discovery_request(self, url: str, callback: Any, **cb_kwargs: Any) -> scrapy.Request:
        if callback == self.parse_listing:
            cb_kwargs.setdefault("overlap_left", self.profile.overlap)
        return scrapy.Request(url, callback=callback, errback=self._failed, cb_kwargs=cb_kwargs,
                              meta={"discovery": True})

    def _article_request(self, url: str, listing_date: str | None = None, known: Known | None = None
                         ) -> scrapy.Request:
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(
            url, headers=headers, callback=self.parse_article, errback=self._failed,
            cb_kwargs={"listing_date": listing_date}, meta={"handle_httpstatus_list": RECHECK_STATUSES},
        )

    def _failed(self, failure: Failure) -> None:
        request, why = failure.request, failure.getErrorMessage()
        if failure.check(IgnoreRequest) and why.startswith(BY_DESIGN):  # robots.txt, or another site
            self.crawler.stats.inc_value("discovery/ignored")
            self.logger.info("skipped %s (%s)", request.url, why)
            return
        # Anything else (an error status after the retries, a timeout, a page or a gzip bomb past
        # DOWNLOAD_MAXSIZE, a redirect loop) is a page this run could not read.
        if request.meta.get("discovery"):
            self.crawler.stats.inc_value("discovery/failed")  # the walk is not whole: the run is partial
            self.logger.error("discovery page failed: %s (%s)", request.url, why)
            return
        self.logger.error("articles page failed: %s (%s)", request.url, why)
        asked = request.meta.get("redirect_urls", [request.url])[0]  # a redirect loop fails at its last hop
        self.schedule_retry(self.portal_url(canonical(asked)), why, request.cb_kwargs.get("listing_date"))

    @property
    def crawled_from(self) -> str:
        """The origin this crawl fetches from (``portals.crawled_from``)."""
        return self.profile.origin

    def portal_url(self, url: str) -> str:
        """The portal's own address of a URL fetched from the crawl's origin."""
        return self.portal_profile.rebase(url, self.profile)

    def fetch_url(self, url: str) -> str:
        """Where this crawl fetches an article archived under its portal address ``url``."""
        return self.profile.rebase(url, self.portal_profile)

    def schedule_retry(self, url: str, why: str, listing_date: str | None = None) -> None:
        """An article (``url``: its portal address) that could not be archived goes on the retry schedule
        (archive.db.Archive.record_failure): later runs try it again, ever less often, whatever their walk,
        so it keeps no run incomplete."""
        stats = self.crawler.stats
        stats.inc_value("articles/failed")
        name, moment = self.profile.name, self.now
        future = Store.of(self.crawler).submit(
            lambda archive: archive.record_failure(url, name, why, moment, listing_date))
        future.add_done_callback(lambda done: stats.inc_value(
            "articles/scheduled" if done.exception() is None else "articles/unscheduled"))

    # Discovery ------------------------------------------------------------------------------
    def _discover(self, url: str, listing_date: str | None, lastmod: datetime | None = None
                  ) -> scrapy.Request | None:
        """A request for an article link, unless it is archived or older than --since."""
        stats = self.crawler.stats
        stats.inc_value("discovery/links")
        if url in self.retrying:  # failed before: tried again on its schedule (see start), not now
            return None
        known = self.known.get(url)
        if known is not None:
            # The portal says it changed since we fetched it: ask again.
            fetched = parse_iso(known.last_fetched)
            if lastmod and fetched and lastmod > fetched and not known.gone:
                return self._article_request(url, listing_date, known)
            return None
        if self._too_old(listing_date, lastmod):
            stats.inc_value("discovery/too_old")
            return None
        if self._enough:
            return None
        self.articles_asked += 1
        return self._article_request(url, listing_date)

    @property
    def _enough(self) -> bool:
        return self.max_articles is not None and self.articles_asked >= self.max_articles

    def _too_old(self, listing_date: str | None, lastmod: datetime | None = None) -> bool:
        if self.since is None:  # no bound: no date to read
            return False
        moment = lastmod or parse_date(listing_date)
        return bool(moment and moment < self.since)

    def _archived_whole(self, url: str) -> bool:
        """Archived by a complete run: a safe place to stop walking."""
        known = self.known.get(url)
        return bool(known and self.complete_through
                    and datetime.fromisoformat(known.first_seen) <= self.complete_through)

    async def parse_listing(self, response: Response, overlap_left: int = 0) -> AsyncIterator[scrapy.Request]:
        """Queue the listing's new articles, then the next page unless the walk has reached old ground."""
        listing = await self.pool.run(
            read_listing, response.body, response.url, response.encoding, self.profile)
        if listing.fell_back:  # recorded in crawl_runs, flagged by `status`
            self.crawler.stats.inc_value("discovery/listing_fallbacks")
            self.logger.warning("listing.item %r matched nothing: links read from the whole page: %s",
                                self.profile.listing_item, response.url)
        for url, listing_date in listing.links:
            if request := self._discover(url, listing_date):
                yield request
        if self._enough:
            return
        links = listing.links
        old_ground = bool(links) and all(self._archived_whole(u) or self._too_old(d) for u, d in links)
        fresh = {u for u, _ in links} - self.seen_links
        self.seen_links |= fresh
        if not fresh:  # nothing this run has not seen already: the end, or a pagination/calendar trap
            self.crawler.stats.inc_value("discovery/empty_listings")
            self.logger.info("listing page with no new article link, walk stops: %s", response.url)
            return
        if not self.profile.listing_next:  # no "next" link to follow: every listing page it links
            for url in listing.listings:
                yield self._discovery_request(url, self.parse_listing)
            return
        if old_ground and overlap_left <= 0:
            return
        for url in listing.listings + (listing.pages if self._fans_out else []):
            overlap = overlap_left - 1 if old_ground else self.profile.overlap
            yield self._discovery_request(url, self.parse_listing, overlap_left=overlap)

    @property
    def _fans_out(self) -> bool:
        """Walk every listing page the pagers link, many at once? Only when the walk would go to the
        end anyway: no complete run to stop at (a first crawl, --full) and no --since."""
        return self.complete_through is None and self.since is None

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS <item><link> and Atom <entry><link href>."""
        links = response.xpath("//*[local-name()='item']/*[local-name()='link']/text()").getall()
        links += response.xpath("//*[local-name()='entry']/*[local-name()='link']/@href").getall()
        for link in links:
            url = canonical(response.urljoin(link.strip()))
            if self.profile.is_article(url) and (request := self._discover(url, None)):
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A sitemap index (children newer than the last complete run) or a list of URLs."""
        try:
            sitemap = Sitemap(response.body)
        except Exception as err:  # lxml's errors for a page that is not XML at all
            self.logger.error("not a sitemap: %s (%s)", response.url, err)
            return
        for entry in sitemap:
            loc, lastmod = entry.get("loc", "").strip(), parse_iso(entry.get("lastmod"))
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                stale = lastmod and self.complete_through and lastmod < self.complete_through
                if not stale and not self._too_old(None, lastmod):
                    yield self._discovery_request(response.urljoin(loc), self.parse_sitemap)
                continue
            url = canonical(response.urljoin(loc))
            if self.profile.is_article(url) and (request := self._discover(url, None, lastmod)):
                yield request

    # Articles -------------------------------------------------------------------------------
    def parse_article(self, response: Response, listing_date: str | None = None
                      ) -> Iterator[FetchedPage | Checked]:
        url = canonical(response.url)
        if response.status in RECHECK_STATUSES:
            if response.status != 304 and url not in self.known:
                # A listing links a dead page: log it, but it is the portal's lasting state, not a
                # failure of this run that the next one should walk deeper to repair.
                self.crawler.stats.inc_value("articles/missing")
                self.logger.error("article page answered %s: %s", response.status, url)
            yield Checked(self.portal_url(url), response.status)
            return
        if not isinstance(response, TextResponse) or not_html(response.body):
            self.crawler.stats.inc_value("articles/not_html")
            self.logger.warning("not an HTML page (%s), skipped: %s",
                                _str(response.headers.get("Content-Type")), response.url)
            return
        header = response.headers.get
        yield FetchedPage(
            url=self.portal_url(url), fetched_from=response.url, portal=self.profile.name, body=response.body,
            content_type=_str(header("Content-Type")), status=response.status,
            fetched_at=datetime.now(UTC), listing_date=listing_date,
            etag=_str(header("ETag")), last_modified=_str(header("Last-Modified")), http=exchange(response),
        )


def _str(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None

"""One spider for every portal: its profile says where the listings are and what an article URL is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from archive.text import clean
from archive.urls import canonical
from crawler.items import FetchedPage
from crawler.profile import Profile, load_profile


class PortalSpider(scrapy.Spider):
    """`scrapy crawl portal -a portal=mongcai [-a origin=http://127.0.0.1:8765]`"""

    name = "portal"

    def __init__(self, portal: str, origin: str | None = None, **kwargs: Any) -> None:
        profile = load_profile(portal)
        self.canonical_base = profile.base_url
        self.profile: Profile = profile.with_origin(origin) if origin else profile
        super().__init__(name=self.name, **kwargs)
        self.allowed_domains = [self.profile.host]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The profile's politeness, unless the command line said otherwise (higher priority).
        polite = spider.profile.politeness
        crawler.settings.set("DOWNLOAD_DELAY", polite.delay, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", polite.concurrency, priority="spider")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for path in self.profile.start_urls:
            yield scrapy.Request(self.profile.url(path), callback=self.parse_listing)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """Queue every article the listing links to, with its listed date, and the next pages."""
        for url, listing_date in self._article_links(response):
            yield scrapy.Request(
                url, callback=self.parse_article, cb_kwargs={"listing_date": listing_date}
            )
        for href in response.css("a::attr(href)").getall():
            url = canonical(response.urljoin(href))
            if self.profile.is_listing(url):
                yield scrapy.Request(url, callback=self.parse_listing)

    def _article_links(self, response: Response) -> Iterator[tuple[str, str | None]]:
        profile = self.profile
        entries = response.css(profile.listing_item) if profile.listing_item else [response]
        for entry in entries:
            date = None
            if profile.listing_date and profile.listing_item:
                date = clean(entry.css(profile.listing_date).xpath("string()").get() or "") or None
            for href in entry.css("a::attr(href)").getall():
                url = canonical(response.urljoin(href))
                if profile.is_article(url):
                    yield url, date

    def parse_article(self, response: Response, listing_date: str | None = None) -> Iterator[FetchedPage]:
        if not hasattr(response, "text"):
            self.logger.warning("not a text page, skipped: %s", response.url)
            return
        content_type = response.headers.get("Content-Type")
        yield FetchedPage(
            url=canonical(response.url), portal=self.profile.name, body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status, fetched_at=datetime.now(UTC), listing_date=listing_date,
        )

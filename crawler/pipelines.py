"""Item pipelines: extract each fetched page, then store it in the archive."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from archive.db import Archive
from archive.extract import Hints, extract
from crawler.items import FetchedPage


class ExtractPipeline:
    """Runs the same extraction as `portal-archive extract`, with the portal's profile rules."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: FetchedPage) -> FetchedPage:
        item.article = extract(
            item.body, item.url, portal=item.portal, rules=self.crawler.spider.profile.rules,
            hints=Hints(published=item.listing_date, fetched_at=item.fetched_at),
            content_type=item.content_type,
        )
        if not item.article.paragraphs:
            raise DropItem(f"no article text found on {item.url}")
        return item


class ArchivePipeline:
    """Upserts articles into the SQLite archive named by the ARCHIVE_DB setting."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.crawler.settings.get("ARCHIVE_DB"))
        profile = spider.profile
        self.archive.upsert_portal(profile.name, profile.title, spider.canonical_base, profile.origin)

    def close_spider(self) -> None:
        if self.archive:
            self.archive.close()

    def process_item(self, item: FetchedPage) -> FetchedPage:
        assert self.archive and item.article
        outcome = self.archive.save(
            item.article, item.body, status=item.status, content_type=item.content_type,
            listing_date=item.listing_date,
        )
        self.crawler.stats.inc_value(f"archive/{outcome}")
        return item

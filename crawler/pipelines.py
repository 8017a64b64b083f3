"""Item pipelines: extract each fetched page, then store it in the archive and log the run."""

from __future__ import annotations

import json
import os
import sqlite3

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from archive import lock
from archive.dates import parse_iso
from archive.db import Archive
from archive.extract import Hints, extract
from crawler.items import Checked, FetchedPage


class ExtractPipeline:
    """Runs the same extraction as `portal-archive extract`, with the portal's profile rules."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        if not isinstance(item, FetchedPage):
            return item
        item.article = extract(
            item.body, item.url, portal=item.portal, rules=self.crawler.spider.profile.rules,
            hints=Hints(published=item.listing_date, fetched_at=item.fetched_at),
            content_type=item.content_type,
        )
        self.crawler.stats.inc_value(f"extract/{item.article.extractor}")
        since, published = self.crawler.spider.since, parse_iso(item.article.published)
        if since and published and published < since:
            self.crawler.stats.inc_value("discovery/too_old")
            raise DropItem(f"published before --since: {item.url}")
        if not item.article.paragraphs:
            self.crawler.stats.inc_value("articles/failed")
            raise DropItem(f"no article text found on {item.url}")
        return item


UNWRITABLE = "archive_unwritable"  # why a crawl stops when the disk is full or the file read-only


def run_status(stats: dict, reason: str) -> str:
    """finished: every page the walk needed came; only such a run lets the next one stop early."""
    if not stats.get("response_received_count") or reason == UNWRITABLE:
        return "failed"
    if reason != "finished":
        return "interrupted"
    if stats.get("discovery/failed") or stats.get("articles/failed"):
        return "partial"
    return "finished"


class ArchivePipeline:
    """Upserts articles into the SQLite archive named by ARCHIVE_DB, and records the run."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db = crawler.settings.get("ARCHIVE_DB")
        self.archive: Archive | None = None
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        lock.acquire(self.db)
        spider = self.crawler.spider
        self.archive = Archive(self.db)
        profile = spider.profile
        self.archive.upsert_portal(profile.name, profile.title, spider.canonical_base, profile.origin)
        self.run_id = self.archive.start_run(
            profile.name, spider.full, os.getpid(), self.crawler.settings.get("LOG_FILE")
        )

    def process_item(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        try:
            return self._store(item)
        except sqlite3.OperationalError as err:
            # The write was rolled back whole; nothing more can be archived, so stop at once.
            message = f"{self.db}: cannot write the archive: {err}"
            self.crawler.stats.set_value("archive/unwritable", message)
            self.crawler.spider.logger.error(message)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNWRITABLE))
            raise DropItem(message) from err

    def _store(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        assert self.archive
        stats = self.crawler.stats
        if isinstance(item, Checked):
            if item.status == 304:
                self.archive.not_modified(item.url)
                stats.inc_value("archive/not_modified")
            elif self.archive.mark_gone(item.url, item.status):
                stats.inc_value("archive/gone")
            return item
        assert item.article
        outcome = self.archive.save(
            item.article, item.body, status=item.status, content_type=item.content_type,
            listing_date=item.listing_date, etag=item.etag, last_modified=item.last_modified,
        )
        stats.inc_value(f"archive/{outcome}")
        return item

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.archive:
            return
        stats = self.crawler.stats.get_stats()
        counts = {
            "pages": stats.get("response_received_count", 0),
            **{k: stats.get(f"archive/{k}", 0) for k in ("new", "changed", "unchanged", "not_modified", "gone")},
            "errors": stats.get("log_count/ERROR", 0),
            "links_seen": stats.get("discovery/links", 0),
            "fallbacks": stats.get("extract/generic-fallback", 0),
        }
        try:
            self.archive.finish_run(self.run_id, run_status(stats, reason), counts)
        except sqlite3.OperationalError as err:
            spider.logger.error("%s: cannot record the run: %s", self.db, err)
        self.archive.close()
        self.archive = None
        lock.release(self.db)


class CheckPipeline:
    """`portal-archive check`: print what would be archived (CLOSESPIDER_ITEMCOUNT articles), store nothing."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckPipeline:
        return cls(crawler.settings.getint("CLOSESPIDER_ITEMCOUNT") or 3)

    def process_item(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        if isinstance(item, FetchedPage) and item.article and self.left > 0:
            self.left -= 1
            article = item.article
            print(json.dumps({
                "url": article.url, "title": article.title, "published": article.published,
                "published_from": article.published_from, "extractor": article.extractor,
                "paragraphs": len(article.paragraphs), "first_paragraph": article.paragraphs[0][:160],
                "captions": article.captions, "author": article.author, "unit": article.unit,
            }, ensure_ascii=False), flush=True)
        return item

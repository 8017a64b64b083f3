"""The run record: one row of ``crawl_runs`` per crawl of a portal, opened when its spider opens and
closed, with its counts and status, when it closes (as Scrapy's own logstats and closespider are
driven by signals)."""

from __future__ import annotations

import os
import sqlite3

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.store import Store


def run_status(stats: dict, reason: str) -> str:
    """finished: every page the walk needed came, and every article it found is archived or on the retry
    schedule; only such a run lets the next one stop early."""
    if not stats.get("response_received_count") or stats.get("archive/unwritable"):
        return "failed"
    if reason != "finished":
        return "interrupted"
    unscheduled = stats.get("articles/failed", 0) - stats.get("articles/scheduled", 0)
    if stats.get("discovery/failed") or unscheduled > 0 or stats.get("archive/failed"):
        return "partial"
    return "finished"


def pages(stats: dict) -> int:
    """Pages fetched: every response but the photos' and documents' (crawler.mediapipeline)."""
    return stats.get("response_received_count", 0) - stats.get("media/responses", 0)


def run_counts(stats: dict) -> dict[str, int | str | None]:
    """The ``crawl_runs`` columns a crawl's stats fill."""
    return {
        "pages": pages(stats),
        **{k: stats.get(f"archive/{k}", 0) for k in ("new", "changed", "unchanged", "not_modified", "gone")},
        "errors": stats.get("log_count/ERROR", 0),
        "links_seen": stats.get("discovery/links", 0),
        "fallbacks": stats.get("extract/generic-fallback", 0),
        "retrying": stats.get("articles/retrying", 0),
        "listing_fallbacks": stats.get("discovery/listing_fallbacks", 0),
        "through": stats.get("recover/through"),
        "missing": stats.get("recover/missing", 0),
    }


class RunRecord:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = Store.of(crawler)
        self.run_id: int | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecord:
        return cls(crawler)

    def opened(self, spider: Spider) -> None:
        profile, log_file = spider.profile, self.crawler.settings.get("LOG_FILE")
        base, served_by, source = spider.canonical_base, spider.crawled_from, getattr(spider, "source", None)
        self.store.call(lambda a: a.upsert_portal(profile.name, profile.title, base, served_by, profile.retired))
        self.run_id = self.store.call(lambda a: a.start_run(profile.name, spider.full, os.getpid(), log_file, source))

    def closed(self, spider: Spider, reason: str) -> None:
        """After the pipelines' close_spider: the last batch is written, every count is final."""
        if self.run_id is None:
            return
        name = spider.profile.name
        try:  # after what the writer was given (the retry schedule included): the counts are final
            self.crawler.stats.set_value("articles/retrying", self.store.call(lambda a: len(a.retries(name))))
        except sqlite3.DatabaseError as err:
            spider.logger.error("%s: cannot read the retry schedule: %s", self.store.path, err)
        stats = self.crawler.stats.get_stats()
        status, counts = run_status(stats, reason), run_counts(stats)
        try:
            self.store.call(lambda a: a.finish_run(self.run_id, status, counts))
        except sqlite3.OperationalError as err:
            spider.logger.error("%s: cannot record the run: %s", self.store.path, err)

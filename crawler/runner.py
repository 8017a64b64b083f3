"""Run the portal spider for several portals in one process, as `portal-archive crawl` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from archive import lock
from crawler.pipelines import run_status
from crawler.spiders.portal import PortalSpider


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """crawler/settings.py, then the caller's overrides at command-line priority."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(overrides or {}, priority="cmdline")
    return settings


@dataclass
class PortalResult:
    portal: str
    pages: int
    new: int
    changed: int
    not_modified: int
    gone: int
    errors: int
    status: str
    problem: str | None = None  # why the archive could not be written, if that stopped the run

    @classmethod
    def from_crawler(cls, portal: str, crawler: Crawler) -> PortalResult:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        return cls(
            portal=portal,
            pages=int(stats.get("response_received_count", 0)),
            new=int(stats.get("archive/new", 0)),
            changed=int(stats.get("archive/changed", 0)),
            not_modified=int(stats.get("archive/not_modified", 0)),
            gone=int(stats.get("archive/gone", 0)),
            errors=int(stats.get("log_count/ERROR", 0)),
            status=run_status(stats, str(stats.get("finish_reason", "not started"))),
            problem=stats.get("archive/unwritable"),
        )


def run_crawl(
    portals: list[str], db: str, origins: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None, spider_args: dict[str, Any] | None = None,
) -> list[PortalResult]:
    """Crawl the portals (concurrently, each at its own polite pace) into the archive ``db``.

    Raises archive.lock.ArchiveLockedError before fetching anything if another crawl writes ``db``.
    """
    lock.acquire(db)
    try:
        process = CrawlerProcess(project_settings({"ARCHIVE_DB": db, **(overrides or {})}))
        crawlers = []
        for portal in portals:
            crawler = process.create_crawler(PortalSpider)
            crawlers.append((portal, crawler))
            process.crawl(crawler, portal=portal, origin=(origins or {}).get(portal), **(spider_args or {}))
        process.start()
    finally:
        lock.release(db)
    return [PortalResult.from_crawler(portal, crawler) for portal, crawler in crawlers]

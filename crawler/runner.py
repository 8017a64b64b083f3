"""Run the portal spider for several portals in one process, as `portal-archive crawl` and `check` do."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from archive.db import Archive
from archive.lock import ArchiveLockedError
from archive.model import aware
from crawler.extensions.runrecord import pages, run_status
from crawler.profile import load_profile
from crawler.spiders.portal import PortalSpider
from crawler.spiders.wayback import WaybackSpider


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
    rejected: int = 0  # articles the archive refused (a constraint or a trigger): logged, and exit 1
    retrying: int = 0  # article URLs on the retry schedule
    misfits: list[str] = field(default_factory=list)  # selectors that matched no page (SELECTOR_REPORT)
    captures: int = 0  # a recovery: captures fetched
    missing: int = 0  # a recovery: captures listed or linked that could not be had
    waited: float = 0.0  # seconds spent waiting 429s out

    @classmethod
    def from_crawler(cls, portal: str, crawler: Crawler) -> PortalResult:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        return cls(
            portal=portal,
            pages=int(pages(stats)),
            new=int(stats.get("archive/new", 0)),
            changed=int(stats.get("archive/changed", 0)),
            not_modified=int(stats.get("archive/not_modified", 0)),
            gone=int(stats.get("archive/gone", 0)),
            errors=int(stats.get("log_count/ERROR", 0)),
            status=run_status(stats, str(stats.get("finish_reason", "not started"))),
            problem=stats.get("archive/unwritable"),
            rejected=int(stats.get("archive/failed", 0)),
            retrying=int(stats.get("articles/retrying", 0)),
            misfits=list(stats.get("check/misfits", [])),
            captures=int(stats.get("recover/captures", 0)),
            missing=int(stats.get("recover/missing", 0)),
            waited=float(stats.get("retry_after/waited", 0)),
        )


def run_crawl(
    portals: list[str], db: str, origins: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None, spider_args: dict[str, Any] | None = None,
    spider: type[Spider] = PortalSpider, also: list[tuple[str, type[Spider], dict[str, Any]]] | None = None,
) -> list[PortalResult]:
    """Crawl the portals (concurrently, each at its own polite pace) into the archive ``db``.

    At most PORTALS_AT_ONCE portals are crawled at once; the next starts as one ends. Each portal's
    crawler (engine, downloader, middlewares, pipelines) lives only while it crawls, so a night over a
    thousand portals takes the memory of that many, not of a thousand.

    Raises archive.lock.ArchiveLockedError, before anything is fetched, if another process writes ``db``.
    """
    process = CrawlerProcess(project_settings({"ARCHIVE_DB": db, **(overrides or {})}))
    results: dict[int, PortalResult] = {}
    locked: list[ArchiveLockedError] = []

    def refused(failure: Failure) -> None:
        if failure.check(ArchiveLockedError):
            locked.append(failure.value)
            return None
        return failure

    jobs = [(portal, spider, spider_args or {}) for portal in portals] + (also or [])
    waiting = list(enumerate(jobs))  # ``also``: other spiders in the same process (the demo's recovery)

    def start_next() -> None:
        if not waiting:
            return
        n, (portal, kind, arguments) = waiting.pop(0)
        crawler = process.create_crawler(kind)
        where = {"origin": (origins or {}).get(portal)} if kind is PortalSpider else {}

        def ended(outcome: object) -> object:  # before Scrapy's join() looks again, so the process goes on
            results[n] = PortalResult.from_crawler(portal, crawler)
            start_next()
            return outcome

        process.crawl(crawler, portal=portal, **where, **arguments).addErrback(refused).addBoth(ended)

    for _ in range(max(1, process.settings.getint("PORTALS_AT_ONCE"))):
        start_next()
    process.start()
    if locked:
        raise locked[0]
    return [results[n] for n in range(len(jobs))]


def pace(delay: float | None = None, timeout: float | None = None, workers: int | None = None) -> dict[str, Any]:
    """Settings for a pace other than the profiles' (``None``: as the profiles and settings say)."""
    settings: dict[str, Any] = {}
    if delay is not None:
        settings.update(DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=delay > 0)
    if timeout is not None:
        settings["DOWNLOAD_TIMEOUT"] = timeout
    if workers is not None:
        settings["EXTRACT_WORKERS"] = workers
    return settings


def media(enabled: bool = True, max_bytes: int | None = None, types: str | None = None) -> dict[str, Any]:
    """Settings for the photos and documents fetched (``None``: as the profiles and settings say)."""
    settings: dict[str, Any] = {} if enabled else {"MEDIA_ENABLED": False}
    if max_bytes is not None:
        settings["MEDIA_MAX_BYTES"] = max_bytes
    if types:
        settings["MEDIA_TYPES"] = [t.strip().lower().lstrip(".") for t in types.split(",") if t.strip()]
    return settings


def logging(level: str = "INFO", log_dir: str | None = None) -> dict[str, Any]:
    """Settings for the log: its level, and a new file in ``log_dir`` for this run."""
    settings: dict[str, Any] = {"LOG_LEVEL": level.upper()}
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        settings["LOG_FILE"] = str(Path(log_dir) / f"crawl-{stamp}-{os.getpid()}.log")
    return settings


def check_portals(names: list[str]) -> None:
    """ProfileError now, before anything is fetched or written, for a portal that cannot be crawled."""
    for name in names:
        load_profile(name)


def crawl(portals: list[str], db: str, origins: dict[str, str], settings: dict[str, Any], full: bool = False,
          since: datetime | None = None, now: datetime | None = None) -> list[PortalResult]:
    """`portal-archive crawl`: the portals into ``db``, every problem with the input found first."""
    check_portals(portals)
    archive = Archive(db)  # one clear line, before any fetch, if the file cannot be used
    try:
        archive.check_writable()
    finally:
        archive.close()
    spider_args = {
        "full": full,
        "since": aware(since).isoformat() if since else None,
        "now": aware(now).isoformat() if now else None,
    }
    return run_crawl(portals, db, origins, settings, spider_args)


def check(portal: str, origin: str | None, limit: int, settings: dict[str, Any] | None = None) -> PortalResult:
    """`portal-archive check`: fetch a few pages of the portal, print what would be archived
    (crawler.pipelines.CheckPipeline) and how each selector of the profile fits the pages
    (crawler.extensions.selectorreport), into a scratch archive that is thrown away."""
    origins = {portal: origin} if origin else {}
    check_portals([portal])
    with tempfile.TemporaryDirectory() as scratch:
        return run_crawl([portal], str(Path(scratch) / "check.db"), origins, {
            "ITEM_PIPELINES": {"crawler.pipelines.ExtractPipeline": 300, "crawler.pipelines.CheckPipeline": 800},
            "CLOSESPIDER_ITEMCOUNT": limit, "LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "SELECTOR_REPORT": True, **(settings or {}),
        }, {"max_articles": limit})[0]


def recover_wayback(portals: list[str], db: str, wayback: str, settings: dict[str, Any],
                    since: datetime | None = None, until: datetime | None = None,
                    limits: dict[str, Any] | None = None) -> list[PortalResult]:
    """`portal-archive recover --from wayback`: each portal's captures into ``db`` (crawler.spiders.wayback)."""
    check_portals(portals)
    archive = Archive(db)
    try:
        archive.check_writable()
    finally:
        archive.close()
    spider_args = {"wayback": wayback, "since": aware(since).isoformat() if since else None,
                   "until": aware(until).isoformat() if until else None, **(limits or {})}
    return run_crawl(portals, db, None, settings, spider_args, spider=WaybackSpider)

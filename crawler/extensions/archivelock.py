"""One writer at a time: a crawl holds its archive's write lock (see archive.lock) from the moment its
crawler is built until its engine stops, so that a second crawl of the same archive fails before
fetching anything. Crawls of one process (one per portal) share the lock."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from archive import lock
from crawler.store import Store


class ArchiveLock:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db = crawler.settings.get("ARCHIVE_DB")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveLock:
        extension = cls(crawler)
        lock.acquire(extension.db)  # ArchiveLockedError: the crawl does not start
        crawler.signals.connect(extension.release, signal=signals.engine_stopped)
        return extension

    def release(self) -> None:
        Store.of(self.crawler).close()  # nothing of this crawl writes once the lock is let go
        lock.release(self.db)

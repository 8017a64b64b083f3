"""Item pipelines: extract each fetched page, then store it in the archive.

Extraction runs in worker processes (EXTRACT_WORKERS, default one per core) while the crawl goes on
fetching; the archive is written in batches of ARCHIVE_BATCH_SIZE articles, one transaction each, at
least every ARCHIVE_BATCH_SECONDS. A batch is all or nothing, and a page whose batch never made it
(the crawl was killed) is fetched again by the next run, which walks past an interrupted one.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from archive.dates import parse_iso
from archive.db import Archive
from archive.model import Hints
from archive.workers import WorkerPool, extract_page, shared_pool
from crawler.items import Checked, FetchedPage
from crawler.signals import stored
from crawler.store import Store


class ExtractPipeline:
    """Runs the same extraction as `portal-archive extract`, with the portal's profile rules, in the
    process's pool of extraction workers."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pool: WorkerPool = shared_pool(crawler.settings.get("EXTRACT_WORKERS"))
        # Up to 8 pages per worker in the pool's queue: enough that a worker always has the next one
        # while this process is busy (fetching, or handing a batch to the writer), few enough that a
        # listing page (read in the same workers; the walk feeds the crawl) waits behind little work.
        self.window = asyncio.Semaphore(8 * max(1, self.pool.workers))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool.join()

    def close_spider(self) -> None:
        self.pool.leave()

    async def process_item(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        if not isinstance(item, FetchedPage):
            return item
        hints = Hints(published=item.listing_date, fetched_at=item.captured_at or item.fetched_at)
        async with self.window:
            extracted = await self.pool.run(
                extract_page, item.body, item.url, item.portal, self.crawler.spider.profile.rules, hints,
                item.content_type,
            )
        item.article, item.packed, item.sha256 = extracted.article, extracted.packed, extracted.sha256
        item.media = extracted.media
        self.crawler.stats.inc_value(f"extract/{item.article.extractor}")
        since, published = self.crawler.spider.since, parse_iso(item.article.published)
        if since and published and published < since:
            self.crawler.stats.inc_value("discovery/too_old")
            raise DropItem(f"published before --since: {item.url}")
        if not item.article.paragraphs:
            self.crawler.spider.schedule_retry(item.url, "no article text found", item.listing_date)
            raise DropItem(f"no article text found on {item.url}")
        return item


UNWRITABLE = "archive_unwritable"  # why a crawl stops when the disk is full or the file read-only


@dataclass
class Rejected:
    """An item the archive refused (a constraint or a trigger), with SQLite's reason."""

    error: str


class ArchivePipeline:
    """Upserts articles into the SQLite archive named by ARCHIVE_DB, in batches, on the crawl's
    :class:`~crawler.store.Store`. A crawl has one batch at a time on the writer thread; the next waits
    for it, which keeps memory bounded when the disk is slow."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db = crawler.settings.get("ARCHIVE_DB")
        self.store = Store.of(crawler)
        self.batch_size = crawler.settings.getint("ARCHIVE_BATCH_SIZE", 100)
        self.pending: list[FetchedPage | Checked] = []
        self.writing: tuple[list[FetchedPage | Checked], Future[list[str | Rejected | None]]] | None = None
        self.timer = task.LoopingCall(self.flush)
        self.seconds = crawler.settings.getfloat("ARCHIVE_BATCH_SECONDS", 5.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.timer.start(self.seconds, now=False)

    def process_item(self, item: FetchedPage | Checked) -> FetchedPage | Checked:
        if self.crawler.stats.get_value("archive/unwritable"):  # the spider is closing
            raise DropItem(f"not archived: {item.url}")
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Hand the pending items to the writer; if the archive cannot be written, stop the crawl at once."""
        if not self._submit():
            self.stop_timer()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNWRITABLE))

    def _submit(self) -> bool:
        """Once the batch before is written, give the pending items to the writer; False (and logged)
        when a batch could not be written."""
        from twisted.internet import reactor  # the one Scrapy installed

        if not self._written(wait=True):
            return False
        if self.pending:
            batch, self.pending = self.pending, []
            future = self.store.submit(lambda archive: self._write(archive, batch))
            self.writing = batch, future
            future.add_done_callback(lambda _: reactor.callFromThread(self._written, wait=False))
        return True

    @staticmethod
    def _write(archive: Archive, batch: list[FetchedPage | Checked]) -> list[str | Rejected | None]:
        """On the writer thread: the batch in one transaction. When the archive rejects an item (a
        constraint or trigger: an IntegrityError), the batch is rolled back and written again item by item,
        so that the others are kept; a file that cannot be written at all (OperationalError) stops here."""
        try:
            with archive.batch():
                return [_store(archive, item) for item in batch]
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError:
            outcomes: list[str | Rejected | None] = []
            for item in batch:
                try:
                    with archive.batch():
                        outcomes.append(_store(archive, item))
                except sqlite3.OperationalError:
                    raise
                except sqlite3.DatabaseError as err:
                    outcomes.append(Rejected(str(err)))
            return outcomes

    def _written(self, wait: bool) -> bool:
        """Count the batch the writer was given, once it is done (``wait``: until it is); False when
        it could not be written: what was archived before stays, and so does the archive's consistency."""
        if self.writing is None or not (wait or self.writing[1].done()):
            return True
        (batch, future), self.writing = self.writing, None
        try:
            outcomes = future.result()
        except sqlite3.OperationalError as err:
            message = f"{self.db}: cannot write the archive: {err}"
            self.crawler.stats.set_value("archive/unwritable", message)
            self.crawler.spider.logger.error(message)
            return False
        kept = []
        for item, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Rejected):  # loud: an ERROR line, the run partial, the crawl's exit 1
                self.crawler.stats.inc_value("archive/failed")
                self.crawler.spider.logger.error("%s: the archive refused %s: %s", self.db, item.url, outcome.error)
                continue
            kept.append(item)
            if outcome:
                self.crawler.stats.inc_value(f"archive/{outcome}")
        self.crawler.signals.send_catch_log(stored, items=kept)  # the rejected stay in flight (cluster)
        return True

    def stop_timer(self) -> None:
        if self.timer.running:
            self.timer.stop()

    def close_spider(self) -> None:
        """The last batch, before the spider_closed signal, so that every count is final by then."""
        self.stop_timer()
        if self._submit():
            self._written(wait=True)



def _store(archive: Archive, item: FetchedPage | Checked) -> str | None:
    """Write one item; returns what happened to it (for the stats), None when nothing did."""
    if isinstance(item, Checked):
        if item.status == 304:
            archive.not_modified(item.url)
            return "not_modified"
        return "gone" if archive.mark_gone(item.url, item.status) else None
    assert item.article
    outcome = archive.save(
        item.article, item.body, packed=item.packed, status=item.status, content_type=item.content_type,
        listing_date=item.listing_date, etag=item.etag, last_modified=item.last_modified,
        fetched_from=item.fetched_from, sha256=item.sha256, http=item.http,
        captured_at=item.captured_at.astimezone(UTC).isoformat() if item.captured_at else None,
    )
    if item.media_links is not None:
        archive.link_media(item.url, item.media_links)
    if item.capture:  # a recovered copy: dealt with, in the same transaction as the article
        source, timestamp = item.capture
        archive.record_capture(source, item.url, timestamp, item.portal, outcome, item.fetched_from)
    return outcome


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

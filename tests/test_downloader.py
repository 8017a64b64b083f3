"""The downloader keeps a portal's concurrency even when its download tasks start late."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import scrapy.core.downloader as scrapy_downloader
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.downloader import Downloader

QUEUED = 6


def popped_at_once(monkeypatch: pytest.MonkeyPatch, downloader_class: type) -> tuple[int, int]:
    """Queue requests on one slot and let the downloader look at it with its delay long past every time
    it looks (a busy process), and the download tasks not started yet (asyncio runs them later):
    how many it set going, and the slot's concurrency. In a running asyncio loop, as in a crawl."""
    return asyncio.run(_popped_at_once(monkeypatch, downloader_class))


async def _popped_at_once(monkeypatch: pytest.MonkeyPatch, downloader_class: type) -> tuple[int, int]:
    started = []
    monkeypatch.setattr(scrapy_downloader, "_schedule_coro", lambda coro: (started.append(coro), coro.close()))
    clock = itertools.count(1000.0, 1.0)
    monkeypatch.setattr(scrapy_downloader, "monotonic", lambda: next(clock))
    crawler = get_crawler(settings_dict={"DOWNLOAD_DELAY": 0.001, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                                         "DOWNLOAD_HANDLERS_BASE": {}})  # nothing is fetched
    downloader = downloader_class(crawler)
    try:
        requests = [Request(f"http://portal.test/{n}") for n in range(QUEUED)]
        _, slot = downloader._get_slot(requests[0])
        for request in requests:
            slot.queue.append((request, None))
        downloader._process_queue(slot)
        for _ in range(QUEUED):  # the delay's later calls
            if slot.latercall:
                slot.latercall.cancel()
                slot.latercall = None
            downloader._process_queue(slot)
        return len(started), slot.concurrency
    finally:
        downloader.close()


def test_a_request_counts_against_the_slot_as_it_leaves_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    started, concurrency = popped_at_once(monkeypatch, Downloader)
    assert started == concurrency


def test_scrapys_own_downloader_overshoots_there(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the subclass is for: if Scrapy stops overshooting, crawler/downloader.py can go.
    started, concurrency = popped_at_once(monkeypatch, scrapy_downloader.Downloader)
    assert started > concurrency

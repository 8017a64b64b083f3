"""Scrapy's downloader, with a request counted against its slot's concurrency from the moment it leaves
the queue.

Scrapy pops a request from its slot's queue and starts the download in an asyncio task, which only marks
it as transferring once it runs. Until then the slot looks free: when the delay has passed by the time it
looks again (a millisecond's delay, and the writer thread holding the GIL for a switch interval), it pops
the next request too, and a portal with a concurrency of two gets three at once. Wired by the DOWNLOADER
setting.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.core.downloader import Slot


class _CountedQueue(deque):
    """A slot's queue whose popleft counts the request as transferring at once (the download's own
    bookkeeping adds it again, a no-op on a set, and removes it when done)."""

    def __init__(self, slot: Slot, items: deque) -> None:
        super().__init__(items)
        self.slot = slot

    def popleft(self) -> Any:
        item = super().popleft()
        self.slot.transferring.add(item[0])
        return item


class Downloader(ScrapyDownloader):
    def _get_slot(self, request: Request, *args: Any, **kwargs: Any) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request, *args, **kwargs)
        if not isinstance(slot.queue, _CountedQueue):
            slot.queue = _CountedQueue(slot, slot.queue)
        return key, slot

"""Wait a 429 out before asking the same server anything again.

Scrapy's RetryMiddleware retries a 429 at once, which is what gets an address blocked: the Internet
Archive answers 429 past its limits and blocks, for an hour and then twice as long each time, an
address that goes on asking. Here a 429 pauses the request's download slot (every request to that
service, not only the refused one) for its ``Retry-After`` (seconds or an HTTP date), or for
``RETRY_AFTER_DEFAULT`` seconds, doubled for each 429 in a row, and then asks again, up to
``RETRY_AFTER_TIMES`` times.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response


def retry_after(value: bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header, or None when it has none or a broken one."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RetryAfter:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.default = crawler.settings.getfloat("RETRY_AFTER_DEFAULT", 60.0)
        self.times = crawler.settings.getint("RETRY_AFTER_TIMES", 8)
        self.in_a_row: dict[str, int] = {}  # slot -> 429s since its last other answer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfter:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        if response.status != 429:
            self.in_a_row.pop(key, None)
            return response
        stats = self.crawler.stats
        stats.inc_value("retry_after/429")
        tries = request.meta.get("retry_after_times", 0) + 1
        if tries > self.times:
            stats.inc_value("retry_after/gave_up")
            return response
        streak = self.in_a_row[key] = self.in_a_row.get(key, 0) + 1
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.default * 2 ** (streak - 1)
        slot = downloader.slots.get(key)
        if slot is not None:  # the slot sends nothing until `wait` is over (see Downloader._process_queue)
            slot.lastseen = max(slot.lastseen, time.monotonic() + wait - slot.delay)
        stats.set_value("retry_after/waited", stats.get_value("retry_after/waited", 0) + wait)
        self.crawler.spider.logger.warning("429 from %s: waiting %.0f s before asking it again", request.url, wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries
        return retry

"""A live progress line on the terminal during interactive crawls (PROGRESS_LINE = True).

Every crawler of the process adds to one line: pages fetched, articles new and changed, errors, and
pages per second. Under cron the line is off and the log and the JSON summary say the same.
"""

from __future__ import annotations

import sys
import time
from typing import ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

from crawler.extensions import OptIn


class ProgressLine(OptIn):
    SETTING = "PROGRESS_LINE"
    crawlers: ClassVar[list[Crawler]] = []  # every crawler of the run, finished ones included
    active: ClassVar[int] = 0
    loop: ClassVar[task.LoopingCall | None] = None
    started: ClassVar[float] = 0.0

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def opened(self) -> None:
        cls = type(self)
        cls.crawlers.append(self.crawler)
        cls.active += 1
        if cls.loop is None:
            cls.started = time.monotonic()
            cls.loop = task.LoopingCall(cls.show)
            cls.loop.start(1.0, now=False)

    def closed(self) -> None:
        cls = type(self)
        cls.active -= 1
        if not cls.active and cls.loop is not None:
            cls.loop.stop()
            cls.loop = None
            cls.show()
            sys.stderr.write("\n")

    @classmethod
    def show(cls) -> None:
        def total(key: str) -> int:
            return sum(int(c.stats.get_value(key, 0)) for c in cls.crawlers if c.stats)

        pages = total("response_received_count") - total("media/responses")
        rate = pages / max(time.monotonic() - cls.started, 1e-6)
        sys.stderr.write(
            f"\r{pages} pages, {total('media/responses')} photos and documents, {total('archive/new')} new, "
            f"{total('archive/changed')} changed, "
            f"{total('archive/gone')} gone, {total('log_count/ERROR')} errors, {rate:.1f} pages/s   "
        )
        sys.stderr.flush()

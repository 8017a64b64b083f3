"""Python's cyclic garbage collector, set for a crawl while one runs (GC_THRESHOLD; 0: Python's own).

A crawl allocates thousands of objects a page (requests, responses, deferreds, items, the workers'
results), nearly all freed by reference counting the moment they are done with. Python's default
starts a collection every 700 new objects, and every tenth of those a wider one, each walking what is
young and still alive: on a busy crawl that walking was about a tenth of the crawl process's CPU
(bench/crawl.py; where the time goes: docs/crawling.md). A higher first threshold collects the same
cycles, later and in fewer passes. What the process holds when its first crawl starts (modules,
settings, profiles) lives as long as the process: it is frozen once, out of every later collection,
which makes a pass over the whole heap cheap enough to run after every wider one: a finished portal's
crawler (engine, spider, slots: cycles that outlived the young passes) is freed about as soon as it would
have been with Python's default, and a night over a thousand portals keeps its memory
(bench/nightly.py).
"""

from __future__ import annotations

import gc
from typing import ClassVar, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class GcPolicy:
    active: ClassVar[int] = 0  # crawlers of the process between engine start and stop
    saved: ClassVar[tuple[int, int, int] | None] = None  # the thresholds before the first started
    frozen: ClassVar[bool] = False

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        threshold = crawler.settings.getint("GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        policy = cls(threshold)
        crawler.signals.connect(policy.started, signal=signals.engine_started)
        crawler.signals.connect(policy.stopped, signal=signals.engine_stopped)
        return policy

    def started(self) -> None:
        cls = type(self)
        cls.active += 1
        if cls.active > 1:
            return
        cls.saved = gc.get_threshold()
        gc.set_threshold(self.threshold, cls.saved[1], 1)  # the whole heap after every wider pass
        if not cls.frozen:
            # once: freezing again at each start would also freeze whatever cyclic garbage a
            # finished crawl left for the next collection, and keep it for good
            gc.collect()
            gc.freeze()
            cls.frozen = True

    def stopped(self) -> None:
        cls = type(self)
        cls.active -= 1
        if cls.active == 0 and cls.saved is not None:
            gc.set_threshold(*cls.saved)
            cls.saved = None

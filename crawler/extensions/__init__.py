"""Crawl bookkeeping as Scrapy extensions, each driven by signals and wired in ``crawler/settings.py``."""

from __future__ import annotations

from typing import ClassVar, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class OptIn:
    """An extension that is on only where its setting (``SETTING``) is true."""

    SETTING: ClassVar[str]

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool(cls.SETTING):
            raise NotConfigured
        return cls(crawler)

"""The archive as one crawl's components share it: the spider reads what is archived, the pipeline
writes articles, the run record writes ``crawl_runs``, all through one connection.

Every call runs on the process's writer thread: SQLite indexes and commits a batch without holding
the GIL, so the crawl goes on fetching and extracting meanwhile. The thread is shared by the crawls
of one process (one per portal), so that their transactions never meet. The connection opens on
first use and closes when the crawl's engine stops.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.crawler import Crawler

from archive.db import Archive

T = TypeVar("T")
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="archive-writer")
_stores: WeakKeyDictionary[Crawler, Store] = WeakKeyDictionary()


class Store:
    def __init__(self, path: str) -> None:
        self.path = path
        self._archive: Archive | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> Store:
        """The crawl's store, on the archive its ARCHIVE_DB setting names."""
        if crawler not in _stores:
            store = _stores[crawler] = cls(crawler.settings.get("ARCHIVE_DB"))
            crawler.signals.connect(store.close, signal=signals.engine_stopped)
        return _stores[crawler]

    def _run(self, function: Callable[[Archive], T]) -> T:
        if self._archive is None:
            self._archive = Archive(self.path)
        return function(self._archive)

    def submit(self, function: Callable[[Archive], T]) -> Future[T]:
        """``function(archive)`` on the writer thread."""
        return _WRITER.submit(self._run, function)

    def call(self, function: Callable[[Archive], T]) -> T:
        """``function(archive)`` on the writer thread, waited for."""
        return self.submit(function).result()

    def close(self) -> None:
        if self._archive is not None:
            _WRITER.submit(self._archive.close).result()
            self._archive = None

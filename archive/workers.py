"""Extraction in worker processes, so that a crawl or a re-extraction uses every core.

Extracting a page costs ten times what fetching it does, and Python runs one thread at a time: in
the crawl's own process it would stall the downloads. The workers get the page's bytes and return
the article with everything storing it needs that costs CPU (its story key, the compressed page),
so that the process writing the archive only writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import pickle
import select
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from archive.db import pack
from archive.extract import extract_parsed
from archive.media import find_media
from archive.model import Article, Hints, MediaRef, Rules

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Extracted:
    article: Article
    packed: bytes  # the page as fetched, zlib-compressed, as the archive stores it
    sha256: str  # of the page as fetched: its fixity digest from the moment of fetching (portal-archive verify)
    media: list[MediaRef] = field(default_factory=list)  # its photos and documents (archive.media)


def extract_page(page: bytes, url: str, portal: str | None, rules: Rules | None, hints: Hints,
                 content_type: str | None) -> Extracted:
    """:func:`archive.extract.extract`, plus the CPU work of storing its result."""
    article, tree = extract_parsed(page, url, portal=portal, rules=rules, hints=hints, content_type=content_type)
    media = find_media(tree, article) if article.paragraphs else []
    return Extracted(article, pack(page), hashlib.sha256(page).hexdigest(), media)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# A call, and what its outcome goes to: a future of submit(), or the asyncio future run() awaits.
Call = tuple[Callable[..., object], tuple[object, ...], "Future | asyncio.Future"]


def _start(target: Future | asyncio.Future) -> bool:
    """Whether the call is still wanted, its future now running (an asyncio one cannot be marked so)."""
    return target.set_running_or_notify_cancel() if isinstance(target, Future) else not target.done()


def _settle(calls: list[Call], outcomes: list[tuple[bool, object]]) -> None:
    """Hand each call its outcome: at once to a future of submit(), and to the asyncio futures of each
    loop in one callback run in that loop (from any thread)."""
    waiting: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, bool, object]]] = {}
    for (_, _, target), (ok, value) in zip(calls, outcomes, strict=True):
        if isinstance(target, Future):  # running: none was cancelled
            _resolve(target, ok, value)
        else:
            waiting.setdefault(target.get_loop(), []).append((target, ok, value))
    for loop, settled in waiting.items():
        _in_loop(loop, _wake, settled)


def _wake(settled: list[tuple[asyncio.Future, bool, object]]) -> None:
    for waiter, ok, value in settled:
        if not waiter.done():  # its awaiting task was cancelled meanwhile
            _resolve(waiter, ok, value)


def _resolve(future: Future | asyncio.Future, ok: bool, value: object) -> None:
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)  # type: ignore[arg-type]


def _in_loop(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nothing awaits there any more
        loop.call_soon_threadsafe(callback, *args)


class WorkerPool:
    """A process pool shared by everything in this process that extracts (several spiders of one crawl
    share one), started on first use and stopped when the last user leaves.

    Calls go to the workers in batches, the way Nagle's algorithm sends a socket's bytes: at once while
    fewer batches than workers are out (a worker may be idle), else gathered until a batch comes back
    (or ``batch`` calls wait). A trip through the executor's queues and threads costs the crawl's
    process as much as a small page's fetch, whatever the batch holds: while the workers keep up,
    each call goes alone, and once they are all busy, what comes meanwhile goes in one trip.

    ``workers=0`` extracts in the calling process (for debugging, and for a single core).
    """

    def __init__(self, workers: int, batch: int = 8) -> None:
        self.workers = workers
        self.batch = batch
        self._executor: ProcessPoolExecutor | None = None
        self._users = 0
        self._lock = threading.Lock()  # the calls gathered and the batches out; done callbacks run elsewhere
        self._gathered: list[Call] = []
        self._out = 0
        self.trips = 0  # batches sent to the workers

    def join(self) -> None:
        self._users += 1
        if self.workers and self._executor is None:
            # forkserver: a crawl's process has threads (DNS, the database), which fork must not copy.
            # It imports the extraction code once; workers fork from it ready to work.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_exit_with,
                                                 initargs=(os.getpid(),))

    def leave(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            with self._lock:
                left, self._gathered, self._out = self._gathered, [], 0
            for _, _, target in left:
                if isinstance(target, Future):
                    target.cancel()
                else:
                    _in_loop(target.get_loop(), target.cancel)

    def submit(self, fn: Callable[..., R], *args: object) -> Future[R]:
        future: Future[R] = Future()
        self._add((fn, args, future))
        return future

    async def run(self, fn: Callable[..., R], *args: object) -> R:
        """``fn(*args)`` in a worker, awaited in the running asyncio loop. The calls of a batch that comes
        back are settled in their loop all at once, with one wake-up of it, where a future of
        :meth:`submit` wrapped for asyncio would wake it (and write to its pipe) once per call."""
        waiter: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._add((fn, args, waiter))
        return await waiter

    def _add(self, call: Call) -> None:
        if self._executor is None:
            fn, args, _ = call
            try:
                outcome = (True, fn(*args))
            except Exception as err:  # handed to whoever waits on the call
                outcome = (False, err)
            _settle([call], [outcome])
            return
        with self._lock:
            self._gathered.append(call)
            if self._out >= self.workers and len(self._gathered) < self.batch:
                return
            calls, self._gathered = self._gathered, []
            self._out += 1
        self._send(calls)

    def _send(self, calls: list[Call]) -> None:
        calls = [call for call in calls if _start(call[2])]  # not cancelled meanwhile
        try:
            if self._executor is None:
                raise RuntimeError("the extraction workers were stopped")
            batch = self._executor.submit(_run_batch, [(fn, args) for fn, args, _ in calls])
        except Exception as err:  # a pool broken or shut down: every call of the batch fails with it
            _settle(calls, [(False, err)] * len(calls))
            self._returned()
            return
        self.trips += 1
        batch.add_done_callback(lambda done: self._settle(done, calls))

    def _settle(self, done: Future, calls: list[Call]) -> None:
        """A batch is back (in the executor's thread): settle its calls, then send what gathered meanwhile."""
        try:
            outcomes = done.result()
        except BaseException as err:  # the batch as a whole (a worker killed, the pool shut down)
            outcomes = [(False, err)] * len(calls)
        _settle(calls, outcomes)
        self._returned()

    def _returned(self) -> None:
        with self._lock:
            self._out -= 1
            calls, self._gathered = self._gathered, []
            if calls:
                self._out += 1
        if calls:
            self._send(calls)

    def map(self, fn: Callable[[T], R], items: Iterable[T], window: int = 0) -> Iterator[R]:
        """``fn`` over ``items`` in the workers, results in order, at most ``window`` in flight (memory
        stays flat whatever the number of items)."""
        window = window or 4 * max(1, self.workers)
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(self.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _run_batch(calls: list[tuple[Callable[..., object], tuple[object, ...]]]) -> list[tuple[bool, object]]:
    """In a worker: each call's result, or its exception (one that cannot be pickled back as its message)."""
    outcomes: list[tuple[bool, object]] = []
    for fn, args in calls:
        try:
            outcomes.append((True, fn(*args)))
        except Exception as err:
            try:
                pickle.dumps(err)
            except Exception:
                err = RuntimeError(f"{type(err).__name__}: {err}")
            outcomes.append((False, err))
    return outcomes


def _exit_with(pid: int) -> None:
    """In each worker: exit as soon as process ``pid`` (the crawl) ends, even by SIGKILL. A worker
    holds both ends of its work queue, so it would otherwise wait for work forever."""

    def watch() -> None:
        try:
            select.select([os.pidfd_open(pid)], [], [])  # readable once the process has ended
        finally:
            os._exit(1)

    threading.Thread(target=watch, name="exit-with-crawl", daemon=True).start()


_pools: dict[int, WorkerPool] = {}


def shared_pool(workers: int | str | None = None) -> WorkerPool:
    """The process's pool of ``workers`` processes (default: one per core this process may use); a
    setting's string is taken as its number."""
    workers = default_workers() if workers is None else int(workers)
    return _pools.setdefault(workers, WorkerPool(workers))

"""Extraction in worker processes and batched writes: the same archive as one process writing one by one."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archive.model import Article
from archive.samples.server import SampleSite
from archive.workers import WorkerPool
from tests.conftest import ROOT, cli, crawl_args, rows

# Everything extraction and storage decide; times of the run itself differ by nature.
ARTICLE = ("url, portal, title, published, year, month, author, unit, text, captions, published_from, "
           "extractor, version, story, copy_of")


def archive_content(db: Path) -> list[tuple]:
    return [tuple(r) for r in rows(db, f"select {ARTICLE} from articles order by url")] + [
        tuple(r) for r in rows(db, "select url, raw_html, content_hash from pages order by url")]


def test_a_crawl_with_extraction_workers_archives_what_one_process_does(
        sample_site: SampleSite, crawled: Path, tmp_path: Path) -> None:
    """`crawled` used the default pool (one worker per core); --workers 0 extracts in the crawl's process."""
    single = tmp_path / "single.db"
    cli(*crawl_args(sample_site, single), "--workers", "0")
    assert archive_content(single) == archive_content(crawled)
    assert len(rows(single, "select url from articles")) == len(sample_site.expected())


def test_reextraction_in_workers_matches_one_process(crawled: Path, tmp_path: Path) -> None:
    pooled, single = tmp_path / "pooled.db", tmp_path / "single.db"
    for copy, workers in [(pooled, "2"), (single, "0")]:
        shutil.copy(crawled, copy)
        with sqlite3.connect(copy) as conn:  # spoil every row, so that both have everything to redo
            conn.execute("update articles set title = 'x'")
        result = cli("reextract", "--db", str(copy), "--workers", workers)
        count = len(rows(copy, "select id from articles"))
        assert f"{count} articles re-extracted, {count} changed" in result.stdout
    assert archive_content(pooled) == archive_content(single) == archive_content(crawled)


@contextmanager
def joined(pool: WorkerPool) -> Iterator[WorkerPool]:
    pool.join()
    try:
        yield pool
    finally:
        pool.leave()


def _slow_square(n: int) -> int:
    time.sleep(0.01)
    return n * n


def test_the_pool_keeps_order_and_a_bounded_number_of_pages_in_flight() -> None:
    pulled: list[int] = []

    def items():
        for n in range(40):
            pulled.append(n)
            yield n

    with joined(WorkerPool(2)) as pool:
        results = pool.map(_slow_square, items(), window=6)
        first = next(results)
        assert first == 0 and len(pulled) <= 6  # the first result came before more than 6 were read
        assert [first, *results] == [n * n for n in range(40)]


def test_a_failed_extraction_in_a_worker_reaches_the_caller() -> None:
    with joined(WorkerPool(1)) as pool, pytest.raises(ZeroDivisionError):
        pool.submit(divmod, 1, 0).result()


class _UnpicklableError(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def _fails_oddly(n: int) -> int:
    time.sleep(0.01)
    if n % 3 == 1:
        raise ZeroDivisionError(n)
    if n % 3 == 2:
        raise _UnpicklableError(n)
    return n * n


def test_a_busy_pool_sends_calls_in_batches_and_each_call_gets_its_own_outcome() -> None:
    with joined(WorkerPool(1, batch=4)) as pool:
        calls = list(range(30))
        futures = [pool.submit(_fails_oddly, n) for n in calls]
        for n, future in zip(calls, futures, strict=True):
            if n % 3 == 0:
                assert future.result() == n * n
            elif n % 3 == 1:
                with pytest.raises(ZeroDivisionError):
                    future.result()
            else:  # what cannot come back from the worker comes back as its message
                with pytest.raises(RuntimeError, match="_UnpicklableError"):
                    future.result()
        # one batch out per worker, the rest gathered up to 4 a trip
        assert -(-len(calls) // pool.batch) <= pool.trips < len(calls)


def test_awaited_calls_get_their_outcomes_and_a_batch_wakes_the_loop_once() -> None:
    with joined(WorkerPool(1, batch=4)) as pool:
        async def main() -> tuple[list, int]:
            loop = asyncio.get_running_loop()
            wakes = 0
            threadsafe = loop.call_soon_threadsafe

            def counted(*args: object) -> object:
                nonlocal wakes
                wakes += 1
                return threadsafe(*args)

            loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
            calls = list(range(30))
            outcomes = await asyncio.gather(*(pool.run(_fails_oddly, n) for n in calls), return_exceptions=True)
            return list(zip(calls, outcomes, strict=True)), wakes

        outcomes, wakes = asyncio.run(main())
        for n, outcome in outcomes:
            if n % 3 == 0:
                assert outcome == n * n
            elif n % 3 == 1:
                assert isinstance(outcome, ZeroDivisionError)
            else:
                assert isinstance(outcome, RuntimeError) and "_UnpicklableError" in str(outcome)
        assert wakes == pool.trips < len(outcomes)  # one wake-up of the loop per batch, not per call


def test_an_awaited_call_whose_task_was_cancelled_while_gathered_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with joined(WorkerPool(1)) as pool:
        async def main() -> list[int]:
            busy = [asyncio.ensure_future(pool.run(_slow_square, n)) for n in range(2)]
            cancelled = asyncio.ensure_future(pool.run(marker.touch))
            await asyncio.sleep(0)  # each task has handed its call to the pool
            cancelled.cancel()
            return [*await asyncio.gather(*busy), await pool.run(_slow_square, 3)]

        assert asyncio.run(main()) == [0, 1, 9]
        assert not marker.exists()


def test_without_workers_an_awaited_call_runs_in_the_calling_process() -> None:
    with joined(WorkerPool(0)) as pool:
        async def main() -> tuple[int, int]:
            with pytest.raises(ZeroDivisionError):
                await pool.run(divmod, 1, 0)
            return await pool.run(os.getpid), pool.trips

        assert asyncio.run(main()) == (os.getpid(), 0)


def test_an_article_crosses_to_and_from_the_workers_without_its_text_twice() -> None:
    paragraphs = ["Đảng ủy phường Hải Hòa tổ chức Đại hội điểm.", "Thu Hằng (Trung tâm TT&VH Móng Cái)"]
    article = Article(url="https://mongcai.gov.vn/a", portal="mongcai", title="Đại hội điểm",
                      text="\n".join(paragraphs), paragraphs=paragraphs, captions=[], author=None, unit=None,
                      published=None, published_from=None, content_hash="h", extractor="generic", story="s")
    sent = pickle.dumps(article)
    assert pickle.loads(sent) == article
    assert sent.count("Hải Hòa".encode()) == 1  # the paragraphs carry it; the text is made again from them
    # a text that is not its paragraphs joined (none is made so, but the model allows it) is kept as it is
    odd = dataclasses.replace(article, text="Một văn bản khác")
    assert pickle.loads(pickle.dumps(odd)) == odd


def test_a_call_cancelled_while_gathered_is_never_run(tmp_path: Path) -> None:
    with joined(WorkerPool(1)) as pool:
        busy = [pool.submit(_slow_square, n) for n in range(2)]  # the first goes out: what follows gathers
        marker = tmp_path / "ran"
        cancelled = pool.submit(marker.touch)
        assert cancelled.cancel()
        assert [f.result() for f in busy] == [0, 1] and pool.submit(divmod, 7, 2).result() == (3, 1)
        assert not marker.exists()


def test_articles_reach_the_archive_during_the_crawl_not_only_at_its_end(tmp_path: Path) -> None:
    """Batches are written at least every ARCHIVE_BATCH_SECONDS, however slow the portal."""
    db = tmp_path / "a.db"
    with SampleSite(count=30) as site:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        settings = {"ARCHIVE_DB": db, "DOWNLOAD_DELAY": 0.3, "AUTOTHROTTLE_ENABLED": 0,  # 38 pages: about 12 s
                    "ARCHIVE_BATCH_SECONDS": 1, "LOG_LEVEL": "WARNING"}
        crawl = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", "portal=mongcai",
             "-a", f"origin={site.origins['mongcai']}", *[f"-s{k}={v}" for k, v in settings.items()]],
            cwd=ROOT, env=env,
        )
        try:
            seen_midway = 0
            while crawl.poll() is None and not seen_midway:
                time.sleep(0.5)
                # The file exists a moment before its tables do: until then, nothing is archived yet.
                if db.exists() and rows(db, "select 1 from sqlite_master where name = 'articles'"):
                    seen_midway = len(rows(db, "select id from articles"))
            assert crawl.wait(timeout=120) == 0
        finally:
            crawl.kill()
        published = sum(e["portal"] == "mongcai" for e in site.expected())
    total = len(rows(db, "select id from articles"))
    assert 0 < seen_midway < total == published


def descendants(pid: int) -> set[int]:
    """The processes ``pid`` started, and theirs (Linux /proc)."""
    found, stack = set(), [pid]
    while stack:
        for task in Path(f"/proc/{stack.pop()}/task").glob("*"):
            children = {int(c) for c in (task / "children").read_text().split()}
            found |= children
            stack += children
    return found


def test_a_crawl_killed_with_sigkill_leaves_no_extraction_worker_behind(tmp_path: Path) -> None:
    with SampleSite(count=300) as site:
        args = [*crawl_args(site, tmp_path / "a.db", "mongcai"), "--workers", "2"]
        args[args.index("0")] = "0.01"  # --delay: still crawling when killed
        crawl = subprocess.Popen([sys.executable, "-m", "portal_archive", *args], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(workers := descendants(crawl.pid)) < 3:  # the forkserver and its two workers
            assert crawl.poll() is None and time.monotonic() < deadline, "the crawl never started its workers"
            time.sleep(0.1)
        crawl.kill()
        crawl.wait()
        deadline = time.monotonic() + 10
        while alive := {pid for pid in workers if Path(f"/proc/{pid}").exists()}:
            assert time.monotonic() < deadline, f"extraction processes outlived the crawl: {sorted(alive)}"
            time.sleep(0.1)

"""bench/crawl.py's reading of CPU per page: once the crawl is past starting, to its end."""

from __future__ import annotations

from bench.crawl import SKIPPED, Crawl, steady


def _marks(pages: int, start: float, per_page: float) -> list[tuple[int, float, float, float]]:
    """Samples of a crawl that costs ``start`` CPU seconds before its first page and ``per_page`` for
    each (its workers twice that, the server a tenth): (pages done, CPU of the three so far)."""
    def at(done: int) -> tuple[int, float, float, float]:
        crawl = start + per_page * done
        return done, crawl, 2 * crawl, per_page * done / 10

    return [(0, 0.0, 0.0, 0.0), *map(at, range(0, pages, 7)), at(pages)]


def test_cpu_per_page_leaves_out_the_cost_of_starting() -> None:
    pages, per_page = 3000, 0.002
    rate = steady(_marks(pages, start=1.5, per_page=per_page), pages)
    assert rate is not None
    crawl, workers, server = rate
    assert abs(crawl - per_page) < 1e-9 and abs(workers - 2 * per_page) < 1e-9 and abs(server - per_page / 10) < 1e-9
    total = 1.5 + per_page * pages
    result = Crawl("x", "ours", pages, 10.0, 0, 0, total, 2 * total, 0.0, rate)
    fixed_crawl, fixed_workers = result.fixed
    assert abs(fixed_crawl - 1.5) < 1e-6 and abs(fixed_workers - 3.0) < 1e-6


def test_pages_still_in_the_pipeline_count_against_the_figure() -> None:
    """Pages counted done before their CPU is all spent cost CPU after the sample: the figure errs high."""
    pages, per_page, backlog = 1000, 0.004, 100
    # the CPU lags the count by `backlog` pages, spent after the last page is counted
    marks = [(done, 0.0, per_page * max(0, done - backlog), 0.0) for done in range(0, pages + 1, 10)]
    marks.append((pages, 0.0, per_page * pages, 0.0))
    rate = steady(marks, pages)
    assert rate is not None and rate[1] >= per_page


def test_a_crawl_over_before_its_start_was_left_behind_gives_no_figure() -> None:
    pages = 100
    marks = [(0, 0.0, 0.0, 0.0), (int((1 - SKIPPED / 2) * pages), 1.0, 1.0, 0.1), (pages, 1.1, 1.1, 0.1)]
    assert steady(marks, pages) is None

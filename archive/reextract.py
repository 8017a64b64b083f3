"""Re-run extraction on the pages already archived, after the rules improved.

Pages are extracted in the worker processes (one per core) and written back in batches, one
transaction each: an interrupted re-extraction leaves every article either as it was or re-done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from archive.db import Archive
from archive.model import Hints, Rules, StoredPage
from archive.workers import Extracted, extract_page, shared_pool

BATCH = 200


@dataclass
class Reextracted:
    seen: int = 0
    changed: int = 0


def _extract(job: tuple[StoredPage, Rules | None]) -> Extracted:
    page, rules = job
    hints = Hints(published=page.listing_date, fetched_at=page.fetched_at)
    return extract_page(page.raw, page.url, page.portal, rules, hints, page.content_type)


def reextract(archive: Archive, rules_for: Callable[[str], Rules | None], portal: str | None = None,
              progress: Callable[[], None] | None = None, workers: int | None = None) -> Reextracted:
    """Extract every stored page again, in place, with ``rules_for(portal)`` (its profile's rules, or
    None for the generic rules alone)."""
    rules: dict[str, Rules | None] = {}

    def jobs() -> Iterator[tuple[StoredPage, Rules | None]]:
        for page in archive.stored_pages(portal):
            if page.portal not in rules:
                rules[page.portal] = rules_for(page.portal)
            yield page, rules[page.portal]

    result = Reextracted()
    pool = shared_pool(workers)
    pool.join()
    try:
        batch: list[Extracted] = []
        for extracted in pool.map(_extract, jobs()):
            batch.append(extracted)
            if len(batch) == BATCH:
                _write(archive, batch, result, progress)
                batch = []
        _write(archive, batch, result, progress)
    finally:
        pool.leave()
    return result


def _write(archive: Archive, batch: list[Extracted], result: Reextracted,
           progress: Callable[[], None] | None) -> None:
    with archive.batch():
        result.changed += sum(archive.update_extraction(extracted.article) for extracted in batch)
    result.seen += len(batch)
    for _ in batch if progress else ():
        progress()

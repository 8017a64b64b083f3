"""Re-run extraction on the pages already archived, after the rules improved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.db import Archive
from archive.extract import Hints, Rules, extract
from crawler.profile import load_profile, profile_names


@dataclass
class Reextracted:
    seen: int = 0
    changed: int = 0


def reextract(archive: Archive, portal: str | None = None, progress: Callable[[], None] | None = None
              ) -> Reextracted:
    """Extract every stored page again with the current profile and generic rules, in place."""
    rules: dict[str, Rules | None] = {}
    result = Reextracted()
    for page in archive.stored_pages(portal):
        if page.portal not in rules:
            # A portal whose profile was removed keeps the generic rules; a broken profile stops here.
            known = page.portal in profile_names()
            rules[page.portal] = load_profile(page.portal).rules if known else None
        article = extract(
            page.raw, page.url, portal=page.portal, rules=rules[page.portal], content_type=page.content_type,
            hints=Hints(published=page.listing_date, fetched_at=page.fetched_at),
        )
        result.seen += 1
        result.changed += archive.update_extraction(article)
        if progress:
            progress()
    return result

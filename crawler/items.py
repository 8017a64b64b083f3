"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from archive.extract import Article


@dataclass
class FetchedPage:
    """An article page as fetched, before and after extraction."""

    url: str
    portal: str
    html: str
    status: int
    listing_date: str | None = None
    article: Article | None = None

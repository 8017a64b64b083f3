"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archive.model import Article, MediaRef


@dataclass
class FetchedPage:
    """An article page as fetched, before and after extraction."""

    url: str  # the article's address on its portal: its identity in the archive
    portal: str
    body: bytes = field(repr=False)  # logs name the page, never print it whole
    content_type: str | None
    status: int
    fetched_at: datetime
    listing_date: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_from: str | None = None  # the URL actually fetched, when not ``url`` (a twin, a mirror, a memento)
    captured_at: datetime | None = None  # when a recovered copy was captured (Wayback, WARC)
    capture: tuple[str, str] | None = None  # a recovered copy's (source, timestamp), for the captures ledger
    article: Article | None = field(default=None, repr=False)
    packed: bytes | None = field(default=None, repr=False)  # the body zlib-compressed, by the extraction worker
    sha256: str | None = None  # the body's digest, by the extraction worker
    http: dict | None = field(default=None, repr=False)  # the HTTP exchange (crawler.httprecord.exchange)
    media: list[MediaRef] = field(default_factory=list, repr=False)  # its photos and documents, found on the page
    media_links: list[dict] | None = field(default=None, repr=False)  # what crawler.mediapipeline got of them


@dataclass
class Checked:
    """An archived article fetched again that did not come back with a page: 304, 404 or 410."""

    url: str
    status: int

"""The records that cross stages: what a profile tells extraction, what the crawl knows of a page,
the clean article, and a page as the archive stores it.

Standard library only, so that every stage (the crawl, extraction, storage, the served archive) can
import it without pulling in another stage's dependencies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

# Every portal prints Vietnam time (UTC+7, no daylight saving); a time without an offset is taken as it.
VN = timezone(timedelta(hours=7), "+07:00")


def aware(moment: datetime) -> datetime:
    """``moment`` as it is when it has an offset; in Vietnam time when it has none."""
    return moment if moment.tzinfo else moment.replace(tzinfo=VN)


@dataclass
class Rules:
    """A profile's extraction rules: selectors (CSS, or XPath when starting with `/` or `(`)."""

    title: str | None = None
    published: str | None = None
    body: str | None = None
    captions: str | None = None
    author: str | None = None
    drop: list[str] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)


@dataclass
class Hints:
    """What the crawl knows about a page before reading it."""

    published: str | None = None  # the date the listing printed beside the link
    fetched_at: datetime | None = None  # the crawl's date: the latest a year-less date can be


@dataclass
class Article:
    """The clean article of one page."""

    url: str
    portal: str | None
    title: str | None
    text: str
    paragraphs: list[str]
    captions: list[str]
    author: str | None
    unit: str | None
    published: str | None
    # Where the time came from: "page" (a date line), "metadata" (JSON-LD or meta tags), "listing"
    # (the listing page that linked it), "lead" (day and month in the lead, year inferred), or None.
    published_from: str | None
    content_hash: str
    # "profile" when the profile's body selector matched, "generic" without one, and
    # "generic-fallback" when the profile's selectors matched nothing: the sign of a redesign.
    extractor: str
    story: str | None = None  # the key reposts of this story share (see archive.text.story_key)

    def __getstate__(self) -> dict:
        # pickled (to and from the extraction workers) without the text its paragraphs make up
        state = self.__dict__.copy()
        if state["text"] == "\n".join(state["paragraphs"]):
            state["text"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        if state["text"] is None:
            state = {**state, "text": "\n".join(state["paragraphs"])}
        self.__dict__.update(state)

    def as_dict(self) -> dict:
        """What `portal-archive extract` prints: the story key is the archive's business."""
        fields = asdict(self)
        del fields["story"]
        return fields


@dataclass
class MediaRef:
    """A photo in an article's body, or a document it links to on its portal, as the page shows it."""

    url: str
    kind: str  # "image" or "document"
    position: int  # its order among the article's media
    caption: str | None = None  # the caption printed with the photo (one of the article's captions)
    alt: str | None = None


@dataclass
class StoredPage:
    """An archived page as fetched, for extracting it again."""

    url: str
    portal: str
    raw: bytes
    content_type: str | None
    listing_date: str | None
    fetched_at: datetime | None


@dataclass(frozen=True)
class Known:
    """What the crawl needs to know of an archived article to decide whether to fetch it again."""

    first_seen: str
    published: str | None
    etag: str | None
    last_modified: str | None
    last_fetched: str | None
    gone: bool

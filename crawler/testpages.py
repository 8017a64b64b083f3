"""A portal's saved pages and what each must give: what makes a profile a tested unit.

Beside its profile ``<name>.yaml``, a portal has a folder ``<name>/`` of pages as fetched (gzipped)
with the expected JSON of each: ``article-N.html.gz`` + ``article-N.json`` (the clean article) and
``listing-N.html.gz`` + ``listing-N.json`` (its article links with their dates, and the listing pages
it leads to). tests/test_portals.py runs every shipped profile over its pages; `add-portal` saves the
pages it read, so a new portal arrives complete. When extraction improves on purpose,
``python -m crawler.testpages [PORTAL ...]`` writes the expected JSON anew, for review in the diff.
"""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scrapy.http import HtmlResponse

from archive.extract import extract
from archive.model import Hints
from crawler.listing import Listing, read_listing
from crawler.profile import PROFILE_DIR, Profile, load_profile, profile_names

KINDS = ("article", "listing")
# What an article page must give (the rest, hashes and keys, follows from these).
ARTICLE_FIELDS = ("title", "paragraphs", "captions", "author", "unit", "published", "published_from", "extractor")


@dataclass
class SavedPage:
    kind: str  # "article" or "listing"
    path: Path  # the .html.gz
    url: str  # where it was fetched, on the portal's own origin
    content_type: str | None
    fetched_at: str | None
    listing_date: str | None
    expected: dict

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())

    def gives(self, profile: Profile) -> dict:
        """What the page gives today, read with ``profile``, in the form ``expected`` holds."""
        return actual(self.kind, self.body, self.url, profile, self.content_type, self.fetched_at, self.listing_date)

    def write(self) -> None:
        """Its JSON beside it: where it was fetched, what the crawl knew, and ``expected``."""
        data = {"url": self.url, "content_type": self.content_type, "fetched_at": self.fetched_at,
                "listing_date": self.listing_date, "expected": self.expected}
        _meta(self.path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _meta(page: Path) -> Path:
    """The JSON file beside a saved page."""
    return page.with_name(page.name.removesuffix(".html.gz") + ".json")


def folder(profile: Profile) -> Path:
    return Path(profile.source).with_suffix("")


def actual(kind: str, body: bytes, url: str, profile: Profile, content_type: str | None = None,
           fetched_at: str | None = None, listing_date: str | None = None) -> dict:
    """What the page gives today, in the form its expected JSON holds."""
    if kind == "article":
        hints = Hints(published=listing_date, fetched_at=datetime.fromisoformat(fetched_at) if fetched_at else None)
        article = extract(body, url, portal=profile.name, rules=profile.rules, hints=hints, content_type=content_type)
        return {name: getattr(article, name) for name in ARTICLE_FIELDS}
    listing = listing_of(body, url, profile, content_type)
    return {"links": [list(link) for link in listing.links], "listings": listing.listings, "pages": listing.pages}


def listing_of(body: bytes, url: str, profile: Profile, content_type: str | None = None) -> Listing:
    """A listing page read as the crawl reads it, its encoding found as Scrapy finds it."""
    headers = {"Content-Type": content_type} if content_type else {}
    return read_listing(body, url, HtmlResponse(url, body=body, headers=headers).encoding, profile)


def saved_pages(profile: Profile) -> list[SavedPage]:
    """The portal's saved pages, in name order; a page without its JSON is left out (see ``problems``)."""
    pages = []
    for path in sorted(folder(profile).glob("*.html.gz")):
        meta = _meta(path)
        kind = path.name.split("-")[0]
        if kind not in KINDS or not meta.exists():
            continue
        data = json.loads(meta.read_text("utf-8"))
        pages.append(SavedPage(kind, path, data["url"], data.get("content_type"), data.get("fetched_at"),
                               data.get("listing_date"), data["expected"]))
    return pages


def problems(profile: Profile) -> list[str]:
    """What keeps the portal from being a complete unit: missing pages, a page without its JSON."""
    where = folder(profile)
    found = []
    if not where.is_dir():
        return [f"{where}: no folder of saved pages for portal {profile.name!r}"]
    for path in sorted(where.glob("*.html.gz")):
        meta = _meta(path)
        if not meta.exists():
            found.append(f"{path}: no {meta.name} beside it")
        if path.name.split("-")[0] not in KINDS:
            found.append(f"{path}: name it article-N.html.gz or listing-N.html.gz")
    kinds = {page.kind for page in saved_pages(profile)}
    found += [f"{where}: no saved {kind} page" for kind in KINDS if kind not in kinds]
    return found


def save(profile: Profile, kind: str, url: str, body: bytes, content_type: str | None = None,
         fetched_at: str | None = None, listing_date: str | None = None) -> Path:
    """Save a page the portal served and what it gives now as its expected JSON; returns the page's path."""
    where = folder(profile)
    where.mkdir(parents=True, exist_ok=True)
    number = 1 + sum(1 for _ in where.glob(f"{kind}-*.html.gz"))
    path = where / f"{kind}-{number}.html.gz"
    path.write_bytes(gzip.compress(body, mtime=0))
    page = SavedPage(kind, path, url, content_type, fetched_at, listing_date, {})
    page.expected = page.gives(profile)
    page.write()
    return path


def clear(profile: Profile) -> None:
    """Remove the portal's saved pages and their JSON, before saving them anew."""
    for old in folder(profile).glob("*-*.*"):
        old.unlink()


def update(profile: Profile) -> int:
    """Write the expected JSON of every saved page anew; returns how many changed."""
    changed = 0
    for page in saved_pages(profile):
        if (now := page.gives(profile)) != page.expected:
            changed += 1
            page.expected = now
            page.write()
    return changed


def main(argv: list[str]) -> int:
    for name in argv or profile_names(PROFILE_DIR):
        print(f"{name}: {update(load_profile(name))} expected JSON files written anew")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

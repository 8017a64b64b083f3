"""`portal-archive add-portal URL`: a first profile for a portal, from one of its listing pages.

The profile crawls with the generic extraction rules. Its article-URL pattern is guessed from the
listing's links: the most common URL shape among links whose text reads like a headline. The listing
page and the first articles it links are saved beside the profile with what they give now (see
crawler.testpages), so the new portal is a tested unit from the start.
"""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import parsel

from archive.text import clean, decode_html
from crawler import testpages
from crawler.profile import PROFILE_DIR, ProfileError, load_profile_file

USER_AGENT = "portal-archive/0.1 (+https://github.com/portal-archive/portal-archive)"


def portal_name(url: str) -> str:
    """halong.gov.vn -> halong; www.baoquangninh.vn -> baoquangninh."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return re.sub(r"[^a-z0-9-]", "-", host.split(".")[0].lower()) or "portal"


def shape(path: str) -> str:
    """A regular expression for URLs like this one: numbers and slugs generalised."""
    parts = []
    for segment in re.split(r"(/)", path):
        if segment == "/" or not segment:
            parts.append(segment)
            continue
        tokens = re.split(r"(\d+)", segment)
        out = []
        for token in tokens:
            if token.isdigit():
                out.append(r"\d+")
            elif len(token) > 12 and re.fullmatch(r"[a-z0-9-]+", token):
                out.append("[a-z0-9-]+")
            else:
                out.append(re.escape(token))
        parts.append("".join(out))
    return "".join(parts)


# Anchor texts of pagination links: page numbers and "next".
_PAGER = re.compile(r"\d{1,4}|[»›>]+|sau|trang sau|tiếp|next", re.IGNORECASE)


@dataclass
class Guess:
    articles: str | None  # the most common shape of links whose text reads like a headline
    pages: list[str]  # shapes of the listing's pagination links


def guess(listing_url: str, html: str) -> Guess:
    """Article and pagination URL shapes from the same-host links of a listing page."""
    origin = urlsplit(listing_url)
    articles: Counter[str] = Counter()
    pages: list[str] = []
    for link in parsel.Selector(text=html).css("a[href]"):
        text = clean(link.xpath("string()").get() or "")
        target = urlsplit(urljoin(listing_url, link.attrib["href"]))
        if target.netloc != origin.netloc:
            continue
        local = shape(target.path + (f"?{target.query}" if target.query else ""))
        if len(text.split()) >= 5:
            articles[local] += 1
        elif _PAGER.fullmatch(text) and local not in pages:
            pages.append(local)
    return Guess(articles.most_common(1)[0][0] if articles else None, pages)


def sitemaps(origin: str, robots: str) -> list[str]:
    """The Sitemap: lines of a robots.txt, as paths when they are on the portal's own origin."""
    found = re.findall(r"^\s*sitemap:\s*(\S+)", robots, re.IGNORECASE | re.MULTILINE)
    return [url.removeprefix(origin) or "/" for url in found]


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def text(self) -> str:
        return decode_html(self.body, self.content_type)


def fetch(url: str, timeout: float = 20) -> Fetched:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return Fetched(response.geturl(), response.read(), response.headers.get("Content-Type"))


@dataclass
class Added:
    path: Path  # the profile written
    name: str
    found_articles: bool  # False: the article pattern is to be written by hand
    saved: list[Path] = field(default_factory=list)  # the pages saved beside it
    warnings: list[str] = field(default_factory=list)


def add_portal(url: str, name: str | None = None, force: bool = False, directory: Path = PROFILE_DIR,
               articles_to_save: int = 2) -> Added:
    """Write a first profile for the portal whose news listing is at ``url``, and save its pages."""
    name = name or portal_name(url)
    path = directory / f"{name}.yaml"
    if path.exists() and not force:
        raise ProfileError(f"{path} exists; use --force to overwrite it")
    warnings = []
    try:
        listing: Fetched | None = fetch(url)
        found = guess(url, listing.text)
    except OSError as err:
        warnings.append(f"could not fetch {url} ({err}); write the article pattern by hand")
        listing, found = None, Guess(None, [])
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    try:
        sitemap_paths = sitemaps(origin, fetch(origin + "/robots.txt").text)
    except OSError:
        sitemap_paths = []
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(profile_yaml(url, name, found, sitemap_paths), encoding="utf-8")
    try:
        profile = load_profile_file(path)
    except ProfileError:
        path.unlink()
        raise
    added = Added(path, name, found.articles is not None, warnings=warnings)
    if listing is None or not found.articles:
        return added
    testpages.clear(profile)  # a profile written anew gets its pages anew
    added.saved.append(testpages.save(profile, "listing", url, listing.body, listing.content_type,
                                      listing.fetched_at))
    links = testpages.listing_of(listing.body, url, profile, listing.content_type).links
    for link, date in links[:articles_to_save]:
        try:
            page = fetch(link)
        except OSError as err:
            warnings.append(f"could not fetch the article {link} ({err}): not saved")
            continue
        added.saved.append(testpages.save(profile, "article", link, page.body, page.content_type,
                                          page.fetched_at, date))
    if not any(p.name.startswith("article-") for p in added.saved):
        warnings.append("no article page saved: the profile's tests need one (see crawler/testpages.py)")
    return added


def profile_yaml(url: str, name: str, found: Guess, sitemap_paths: list[str]) -> str:
    parts = urlsplit(url)
    listing_path = parts.path or "/"
    listings = "|".join([re.escape(listing_path) + r"(\?.*)?", *found.pages])
    lines = [
        f"# Made by `portal-archive add-portal {url}`: it crawls with the generic extraction rules.",
        f"# Check it with `portal-archive check {name}`, then add `rules:` selectors if anything is off",
        "# (see the other profiles and the README).",
        f"name: {name}",
        f"title: {parts.hostname}",
        f"base_url: {parts.scheme}://{parts.netloc}",
        "start_urls:",
        f"  - {listing_path}{'?' + parts.query if parts.query else ''}",
        "# Listing pages to walk: this one and the pagination links found on it.",
        f"listings: '{listings}'",
        "# Article pages" + (" (guessed from the listing's links)." if found.articles
                             else ": NOT FOUND, write the pattern by hand."),
        f"articles: '{found.articles or '/CHANGE-ME/.+'}'",
    ]
    if sitemap_paths:
        lines += ["sitemaps:", *[f"  - {path}" for path in sitemap_paths]]
    lines += ["politeness:", "  delay: 2.0", "  concurrency: 1", ""]
    return "\n".join(lines)

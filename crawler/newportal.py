"""`portal-archive add-portal URL`: a first profile for a portal, from one of its listing pages.

The profile crawls with the generic extraction rules. Its article-URL pattern is guessed from the
listing's links: the most common URL shape among links whose text reads like a headline.
"""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import parsel

from archive.text import clean, decode_html

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


def fetch(url: str, timeout: float = 20) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return decode_html(response.read(), response.headers.get("Content-Type"))


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

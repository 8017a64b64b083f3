"""Reading a listing page: its article links with the dates beside them, and the listing pages it leads to.

A portal's listing page is as heavy as an article page (menus, widgets, footers) and holds ten links:
parsing it costs the crawl's process more than everything else it does for those ten articles. It is a
pure function of the page and the profile, so the crawl runs it in its extraction workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.http import HtmlResponse

from archive.text import clean
from archive.urls import canonical
from crawler.profile import Profile


@dataclass
class Listing:
    links: list[tuple[str, str | None]]  # article URLs (canonical, each once, in page order) and dates
    listings: list[str]  # the listing pages to walk next: the "next" link, or every listing link
    pages: list[str]  # the other listing pages its pager links (profile's ``listing.pages``)
    # The profile's listing.item matched nothing (a redesign, or a profile never checked against the real
    # site): the links were read from the whole page, by the profile's URL patterns alone.
    fell_back: bool = False


def read_listing(body: bytes, url: str, encoding: str, profile: Profile) -> Listing:
    response = HtmlResponse(url, body=body, encoding=encoding)
    links: dict[str, str | None] = {}
    entries = response.css(profile.listing_item) if profile.listing_item else [response]
    fell_back = bool(profile.listing_item) and not entries
    if fell_back:
        entries = [response]
    for entry in entries:
        date = None
        if profile.listing_date and profile.listing_item and not fell_back:
            date = clean(entry.css(profile.listing_date).xpath("string()").get() or "") or None
        for href in entry.css("a::attr(href)").getall():
            link = canonical(response.urljoin(href))
            if profile.is_article(link):
                links.setdefault(link, date)
    if profile.listing_next and not fell_back:
        hrefs = [node.attrib.get("href", "") for node in response.css(profile.listing_next)[:1]]
    else:  # no "next" to follow, or a page the profile's selectors do not fit: every listing link on it
        hrefs = response.css("a::attr(href)").getall()
    pager = response.css(profile.listing_pages).xpath("@href").getall() if profile.listing_pages else []
    return Listing(list(links.items()), _listing_links(response, hrefs, profile),
                   _listing_links(response, pager, profile), fell_back)


def _listing_links(response: HtmlResponse, hrefs: list[str], profile: Profile) -> list[str]:
    return [link for link in (canonical(response.urljoin(h)) for h in hrefs) if profile.is_listing(link)]

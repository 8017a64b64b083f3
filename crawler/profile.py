"""Portal profiles: one YAML file per portal in ``crawler/profiles/``, read into :class:`Profile`.

A profile names the portal's real origin; ``with_origin`` swaps it (for the sample twins, or a mirror)
while every path and pattern stays the same.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml
from cssselect import SelectorError
from parsel.csstranslator import HTMLTranslator

from archive.model import Rules
from archive.urls import canonical

# The shipped profiles; PORTAL_ARCHIVE_PROFILES names another folder of them (e.g. a user's own).
PROFILE_DIR = Path(os.environ.get("PORTAL_ARCHIVE_PROFILES") or str(resources.files("crawler").joinpath("profiles")))


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the field and the problem."""


@dataclass(frozen=True)
class Politeness:
    delay: float = 1.0
    concurrency: int = 2


@dataclass(frozen=True)
class MediaLimits:
    """A profile's ``media:`` block: None keeps the crawl's settings (MEDIA_* in crawler/settings.py)."""

    enabled: bool | None = None
    max_bytes: int | None = None
    types: list[str] | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    base_url: str
    start_urls: list[str]
    articles: re.Pattern[str]
    listings: re.Pattern[str] | None = None
    listing_item: str | None = None
    listing_date: str | None = None
    listing_next: str | None = None  # the "next page" link: listings are walked page after page
    listing_pages: str | None = None  # the pager's page links: a walk with nowhere to stop early fans out
    overlap: int = 1  # listing pages walked past the first one that holds nothing new
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    recheck_days: float = 3.0  # articles younger than this are fetched again to catch edits
    rules: Rules = field(default_factory=Rules)
    politeness: Politeness = field(default_factory=Politeness)
    # The day the portal was retired (ISO date): nightly crawls leave it out, `recover` is the way in.
    retired: str | None = None
    media: MediaLimits = field(default_factory=MediaLimits)
    source: str = ""

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def with_origin(self, origin: str) -> Profile:
        """The same portal served from another origin (scheme://host[:port])."""
        return replace(self, base_url=origin.rstrip("/"))

    def rebase(self, url: str, served_by: Profile) -> str:
        """``url``, an address on ``served_by``'s origin, on this profile's origin instead (the same
        portal served elsewhere); any other URL as it is."""
        on_served = url == served_by.origin or url.startswith(served_by.origin + "/")
        if served_by.origin == self.origin or not on_served:
            return url
        return self.origin + url[len(served_by.origin):]

    def own(self, url: str) -> str | None:
        """``url`` on this portal's origin, canonical, when it names a page of the portal whatever its scheme,
        port or ``www.`` (as captures by others do), else None."""
        parts = urlsplit(url)
        if (parts.hostname or "").removeprefix("www.") != self.host.removeprefix("www."):
            return None
        return canonical(self.origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))

    def url(self, path: str) -> str:
        return urljoin(self.origin + "/", path)

    def _local(self, url: str) -> str | None:
        """Path and query of ``url`` when it is on this portal's origin, else None."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def is_article(self, url: str) -> bool:
        local = self._local(url)
        return local is not None and bool(self.articles.fullmatch(local))

    def is_listing(self, url: str) -> bool:
        local = self._local(url)
        return local is not None and self.listings is not None and bool(self.listings.fullmatch(local))


def _pattern(source: str, key: str, value: object) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ProfileError(f"{source}: field '{key}': expected a regular expression, got {value!r}")
    try:
        return re.compile(value)
    except re.error as err:
        raise ProfileError(f"{source}: field '{key}': invalid regular expression: {err}") from err


def parse_profile(data: object, source: str) -> Profile:
    """Validate the YAML data of one profile; ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping of fields, got {type(data).__name__}")
    for key in ("name", "base_url", "start_urls", "articles"):
        if key not in data:
            raise ProfileError(f"{source}: field '{key}': missing")
    if not re.fullmatch(r"[a-z0-9_-]+", str(data["name"])):
        raise ProfileError(f"{source}: field 'name': use lower-case letters, digits, '-' or '_'")
    base = urlsplit(str(data["base_url"]))
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ProfileError(f"{source}: field 'base_url': expected an http(s) URL, got {data['base_url']!r}")
    starts = data["start_urls"]
    if not isinstance(starts, list) or not starts or not all(isinstance(s, str) for s in starts):
        raise ProfileError(f"{source}: field 'start_urls': expected a non-empty list of paths or URLs")
    rules_data = data.get("rules") or {}
    known = {f.name for f in fields(Rules)}
    unknown = set(rules_data) - known if isinstance(rules_data, dict) else {"<not a mapping>"}
    if unknown:
        raise ProfileError(f"{source}: field 'rules': unknown keys {sorted(unknown)}; known: {sorted(known)}")
    listing = _listing(source, data.get("listing") or {})
    for key in ("sitemaps", "feeds"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{source}: field '{key}': expected a list of paths or URLs")
    try:
        overlap, recheck_days = int(listing.get("overlap", 1)), float(data.get("recheck_days", 3))
    except (TypeError, ValueError) as err:
        raise ProfileError(f"{source}: field 'listing.overlap' or 'recheck_days': {err}") from err
    politeness = data.get("politeness") or {}
    try:
        polite = Politeness(float(politeness.get("delay", 1.0)), int(politeness.get("concurrency", 2)))
    except (TypeError, ValueError) as err:
        raise ProfileError(f"{source}: field 'politeness': {err}") from err
    if polite.concurrency < 1 or polite.delay < 0:
        raise ProfileError(f"{source}: field 'politeness': concurrency must be >= 1 and delay >= 0")
    retired = data.get("retired")
    if retired is not None:
        try:  # YAML reads 2025-07-01 as a date already
            retired = (retired if isinstance(retired, date) else date.fromisoformat(str(retired))).isoformat()
        except ValueError as err:
            raise ProfileError(f"{source}: field 'retired': expected a date like 2025-07-01, got {retired!r}") from err
    media = data.get("media") or {}
    if not isinstance(media, dict) or set(media) - {"enabled", "max_bytes", "types"}:
        raise ProfileError(f"{source}: field 'media': expected a mapping of enabled, max_bytes, types")
    try:
        limits = MediaLimits(
            bool(media["enabled"]) if "enabled" in media else None,
            int(media["max_bytes"]) if "max_bytes" in media else None,
            [str(t).lower().lstrip(".") for t in media["types"]] if "types" in media else None,
        )
    except (TypeError, ValueError) as err:
        raise ProfileError(f"{source}: field 'media': {err}") from err
    return Profile(
        name=data["name"],
        title=str(data.get("title", data["name"])),
        base_url=str(data["base_url"]).rstrip("/"),
        start_urls=starts,
        articles=_pattern(source, "articles", data["articles"]),
        listings=_pattern(source, "listings", data["listings"]) if "listings" in data else None,
        listing_item=listing.get("item"),
        listing_date=listing.get("date"),
        listing_next=listing.get("next"),
        listing_pages=listing.get("pages"),
        overlap=overlap,
        sitemaps=data.get("sitemaps", []),
        feeds=data.get("feeds", []),
        recheck_days=recheck_days,
        rules=Rules(**rules_data),
        politeness=polite,
        retired=retired,
        media=limits,
        source=source,
    )


_LISTING_SELECTORS = ("item", "date", "next", "pages")


def _listing(source: str, listing: object) -> dict:
    """The ``listing`` block: known keys only, and CSS selectors that parse (else every listing page
    of every run would fail to be read, one error per page, long after the profile was written)."""
    if not isinstance(listing, dict):
        raise ProfileError(f"{source}: field 'listing': expected a mapping of selectors")
    known = {*_LISTING_SELECTORS, "overlap"}
    if unknown := set(listing) - known:
        raise ProfileError(f"{source}: field 'listing': unknown keys {sorted(unknown)}; known: {sorted(known)}")
    for key in _LISTING_SELECTORS:
        if key in listing:
            try:
                HTMLTranslator().css_to_xpath(str(listing[key]))
            except SelectorError as err:
                raise ProfileError(f"{source}: field 'listing.{key}': invalid CSS selector: {err}") from err
    return listing


def load_profile_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as err:
        raise ProfileError(f"{path}: cannot read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ProfileError(f"{path}: invalid YAML: {str(err).splitlines()[0]}") from err
    return parse_profile(data, str(path))


def profile_names(directory: Path = PROFILE_DIR) -> list[str]:
    if not directory.is_dir():
        named = " (PORTAL_ARCHIVE_PROFILES)" if os.environ.get("PORTAL_ARCHIVE_PROFILES") else ""
        raise ProfileError(f"{directory}: no such folder of portal profiles{named}")
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_profile(name: str, directory: Path = PROFILE_DIR) -> Profile:
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(profile_names(directory)) or "none"
        raise ProfileError(f"unknown portal {name!r}: no {path}; known: {known}")
    profile = load_profile_file(path)
    if profile.name != name:
        raise ProfileError(f"{path}: field 'name': {profile.name!r} differs from the file name {name!r}")
    return profile


def profile_for_url(url: str, directory: Path = PROFILE_DIR) -> Profile | None:
    """The profile whose portal hosts ``url`` (www. or not), if any."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for name in profile_names(directory):
        profile = load_profile(name, directory)
        if profile.host.removeprefix("www.") == host:
            return profile
    return None


def rules_for(name: str, directory: Path = PROFILE_DIR) -> Rules | None:
    """The extraction rules of portal ``name``; None (the generic rules alone) for a portal whose profile
    was removed. A broken profile raises ProfileError."""
    return load_profile(name, directory).rules if name in profile_names(directory) else None

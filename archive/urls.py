"""Canonical article URLs, so that one article is one row however a portal links to it."""

from __future__ import annotations

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that track a visit or a session, never which article is shown.
TRACKING = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "fbclid", "gclid",
    "zarsrc", "zpid", "_ga", "sessionid", "sid", "PHPSESSID", "jsessionid", "ASP.NET_SessionId",
)


def canonical(url: str) -> str:
    """Drop the fragment and tracking parameters, sort the query, normalise scheme and host case."""
    return canonicalize_url(url_query_cleaner(url, TRACKING, remove=True, keep_fragments=False))

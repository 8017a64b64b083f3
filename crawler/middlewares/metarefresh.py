"""Scrapy's MetaRefreshMiddleware, without decoding every page to find out that it has no refresh.

Scrapy looks for ``<meta http-equiv="refresh">`` in the first 4,096 characters of every HTML page's
``response.text``, which decodes the whole page first: on a real portal's page of a few hundred
kilobytes, a good share of what the crawl's process spends on it. A refresh tag spells "refresh" in
those characters, and so, in any encoding that writes ASCII as ASCII, in the page's first 16,384
bytes (4 bytes a character at most): a page whose first bytes do not hold it has none, and is passed
on undecoded. Every other page (one that holds the word, or NUL or ESC bytes, as UTF-16 and ISO-2022
pages do) goes to Scrapy's own middleware, which decides as it always has.
"""

from __future__ import annotations

import re

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse, Response

HEAD = 4 * 4096
_REFRESH = re.compile(rb"refresh", re.IGNORECASE)


def may_refresh(body: bytes) -> bool:
    """Whether Scrapy could find a meta refresh in a page that starts with these bytes."""
    head = body[:HEAD]
    return b"\x00" in head or b"\x1b" in head or _REFRESH.search(head) is not None


class MetaRefreshMiddleware(ScrapyMetaRefresh):
    def process_response(self, request: Request, response: Response) -> Request | Response:
        if isinstance(response, HtmlResponse) and not may_refresh(response.body):
            return response
        return super().process_response(request, response)

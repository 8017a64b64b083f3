"""Meta-refresh redirects are followed as Scrapy follows them, without decoding pages that have none."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares.metarefresh import HEAD, MetaRefreshMiddleware
from crawler.runner import project_settings

URL = "https://mongcai.gov.vn/tin-tuc/bai-1.html"
TEXT = "<p>Sáng 11/7, Thành ủy Móng Cái tổ chức hội nghị giao ban Thường trực Thành ủy.</p>"


def page(head: str = "", body: str = TEXT * 500, encoding: str = "utf-8") -> HtmlResponse:
    html = f"<html><head><meta charset='{encoding}'>{head}</head><body>{body}</body></html>"
    return HtmlResponse(URL, body=html.encode(encoding, "xmlcharrefreplace"), encoding=encoding)


REFRESH = "<meta http-equiv='refresh' content='0; url=/tin-tuc/bai-2.html'>"
CASES = {
    "none": page(),
    "a refresh": page(REFRESH),
    "a refresh in capitals": page(REFRESH.upper().replace("/TIN-TUC/BAI-2.HTML", "/tin-tuc/bai-2.html")),
    "a refresh in Windows-1258": page(REFRESH, encoding="cp1258"),
    "a refresh in UTF-16": page(REFRESH, encoding="utf-16"),
    "a refresh too far down to count": page(body=TEXT * 500 + REFRESH),
    "the word, but no refresh": page("<meta name='description' content='refresh'>"),
    "a refresh inside a script": page(f"<script>var s = \"{REFRESH}\";</script>"),
}


def outcomes(middleware: object, response: HtmlResponse) -> tuple[str, str | None]:
    result = middleware.process_response(Request(URL), response)  # type: ignore[attr-defined]
    return (type(result).__name__, getattr(result, "url", None) if result is not response else None)


@pytest.mark.parametrize("name", CASES)
def test_every_page_is_redirected_or_not_as_scrapy_would(name: str) -> None:
    crawler = get_crawler(settings_dict={})
    ours, scrapys = MetaRefreshMiddleware.from_crawler(crawler), ScrapyMetaRefresh.from_crawler(crawler)
    response = CASES[name]
    fresh = HtmlResponse(URL, body=response.body, encoding=response.encoding)
    assert outcomes(ours, response) == outcomes(scrapys, fresh)


def test_a_page_without_a_refresh_is_passed_on_undecoded() -> None:
    crawler = get_crawler(settings_dict={})
    response = page()
    assert len(response.body) > HEAD
    assert MetaRefreshMiddleware.from_crawler(crawler).process_response(Request(URL), response) is response
    assert response._cached_ubody is None  # Scrapy's own would have decoded the whole page
    ScrapyMetaRefresh.from_crawler(crawler).process_response(Request(URL), response)
    assert response._cached_ubody is not None


def test_the_crawl_uses_it_in_place_of_scrapys() -> None:
    middlewares = project_settings().getwithbase("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["crawler.middlewares.metarefresh.MetaRefreshMiddleware"] == 580

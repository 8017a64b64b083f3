"""A misbehaving twin of the city portal: every fault a government server has been seen to commit.

Its first listing page links, besides the real articles, one article page per fault below; listing
pages past the last keep offering a "next" link forever (a pagination trap); robots.txt forbids a
path that the listing links anyway. Tests crawl it and check that the rest of the portal is archived
and that each fault is handled as README's Reliability table says.
"""

from __future__ import annotations

import functools
import gzip
import threading
from collections import Counter
from dataclasses import replace

from archive.samples.families import CityCMS, Response, _text
from archive.samples.legacy import cp1258
from archive.samples.site import SampleArticle
from crawler.settings import DOWNLOAD_MAXSIZE

# id -> (slug, what the page does)
FAULTS = {
    900001: ("bao-tri-503", "503 twice, then the article"),
    900002: ("loi-may-chu-500", "always 500"),
    900003: ("may-chu-cham", "answers after 5 s"),
    900004: ("trang-bi-cat", "closes the connection half-way through the body"),
    900005: ("ket-noi-bi-ngat", "resets the connection"),
    900006: ("khong-tim-thay", "404"),
    900007: ("da-go-bo", "410"),
    900008: ("chuyen-huong-vong", "redirects to itself, forever"),
    900009: ("chuyen-huong-ra-ngoai", "redirects to another site"),
    900010: ("trang-50-mb", "a 50 MB page"),
    900011: ("tai-lieu-pdf", "a PDF served as text/html"),
    900012: ("ma-cu-khong-khai-bao", "Windows-1258, no charset declared"),
    900013: ("ma-cu-khai-bao-sai", "Windows-1258, declared as UTF-8"),
    900014: ("html-hong", "malformed HTML"),
    900015: ("rieng-tu-noi-bo", "forbidden by robots.txt"),
}
# Articles that must still be archived, correctly, despite their server's behaviour.
SURVIVABLE = {900001, 900012, 900013, 900014}
# Articles that cannot be read today and go on the retry schedule; the others are the portal's lasting
# state (404, 410, a PDF, another site, robots.txt), logged and left.
RETRIED = {900002, 900003, 900004, 900005, 900008, 900010}
TRACKED = "?utm_source=zalo&fbclid=IwAR0abc#binh-luan"  # the same article under a tracking URL


class FaultyCity(CityCMS):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[int] = Counter()
        self._lock = threading.Lock()

    def fault_article(self, article_id: int) -> SampleArticle:
        """The article a fault page would show if it behaved: a generated one under the fault's id."""
        base = self.twin.generated(article_id - 900_000 + 500)
        return replace(base, id=article_id, title=f"{base.title} ({FAULTS[article_id][0]})")

    def fault_path(self, article_id: int) -> str:
        return f"/vi-vn/tin/{FAULTS[article_id][0]}-p24021-c24087-n{article_id}"

    def robots(self, origin: str) -> str:
        return super().robots(origin).replace("Disallow: /admin/", "Disallow: /admin/\nDisallow: /vi-vn/tin/rieng-tu-")

    def render_listing(self, page: int) -> Response:
        response = super().render_listing(page)
        if response.status == 404:  # past the last page: an empty page that still says "next"
            body = (f'<html><body><div class="news-list"></div><div class="pager">'
                    f'<a class="next" href="{self.listing_path(page + 1)}">»</a></div></body></html>')
            return _text(200, body)
        if page == 1:
            first = self.twin.articles()[0]
            extra = "".join(
                f'<div class="news-item"><h3><a href="{self.fault_path(i)}">{FAULTS[i][0]}</a></h3>'
                f'<span class="date">{self.fault_article(i).published.strftime("%d/%m/%Y %H:%M")}</span></div>'
                for i in FAULTS
            ) + (f'<div class="news-item"><h3><a href="{self.article_path(first)}{TRACKED}">{first.title}</a>'
                 f'</h3><span class="date">{first.published.strftime("%d/%m/%Y %H:%M")}</span></div>')
            html = response.body.decode("utf-8").replace('<div class="news-list">', '<div class="news-list">' + extra)
            response = _text(200, html)
        return response

    def handle(self, target: str, origin: str) -> Response:
        path = target.split("?")[0]
        article_id = next((i for i in FAULTS if path == self.fault_path(i)), None)
        if article_id is None:
            return super().handle(target, origin)
        with self._lock:
            self.calls[article_id] += 1
            calls = self.calls[article_id]
        page = self.render_article(self.fault_article(article_id))
        ok = _text(200, page)
        match article_id:
            case 900001:
                return _text(503, "Bảo trì hệ thống") if calls <= 2 else ok
            case 900002:
                return _text(500, "Server Error in '/' Application.")
            case 900003:
                return replace(ok, delay=5.0)
            case 900004:
                return replace(ok, cut="truncate")
            case 900005:
                return replace(ok, cut="reset")
            case 900006 | 900007:
                return _text(404 if article_id == 900006 else 410, "<html><body>Không tìm thấy</body></html>")
            case 900008:
                return Response(302, "text/html", b"", {"Location": f"{origin}{path}?lan={calls}"})
            case 900009:
                return Response(302, "text/html", b"", {"Location": "https://tin-gia.example/vi-vn/tin/x-n1"})
            case 900010:
                padding = b"<!-- " + b"x" * (50 * 1024 * 1024) + b" -->"
                return Response(200, "text/html; charset=utf-8", page.encode() + padding)
            case 900011:
                pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n" + bytes(range(256)) * 64
                return Response(200, "text/html", pdf)
            case 900012:
                undeclared = page.replace('<meta charset="utf-8">', "")
                return Response(200, "text/html", cp1258(undeclared))
            case 900013:
                return Response(200, "text/html; charset=utf-8", cp1258(page))
            case 900014:
                broken = page.replace("</p>", "").replace("</li>", "").replace("</div>\n<div", "<div", 3)
                return _text(200, "<p><b><i>" + broken.replace("<body>", "<body></td></tr></table><font>"))
        return ok


class BombedListing(CityCMS):
    """The city portal whose second listing page is a gzip bomb (a few KB that decompress past
    DOWNLOAD_MAXSIZE), until ``defused``: the articles behind that page are reachable only through it."""

    defused = False

    @staticmethod
    @functools.cache
    def bomb() -> bytes:
        return gzip.compress(b" " * (DOWNLOAD_MAXSIZE + 2**20), compresslevel=9, mtime=0)

    def render_listing(self, page: int) -> Response:
        if page == 2 and not self.defused:
            return Response(200, "text/html; charset=utf-8", self.bomb(), {"Content-Encoding": "gzip"})
        return super().render_listing(page)


class RedesignedCity(CityCMS):
    """The city portal after a redesign of its listing pages: other classes, no "next" class, the same
    URLs. A profile written for the old markup matches nothing on it."""

    def render_listing(self, page: int) -> Response:
        response = super().render_listing(page)
        html = response.body.decode("utf-8")
        for old, new in (('class="news-list"', 'class="danh-sach-tin"'), ('class="news-item"', 'class="tin"'),
                         ('class="pager"', 'class="phan-trang"'), ('class="next"', 'class="trang-sau"'),
                         ('class="date"', 'class="ngay-dang"')):
            html = html.replace(old, new)
        return replace(response, body=html.encode("utf-8"))

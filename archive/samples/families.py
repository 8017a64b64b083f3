"""Page shapes of the three portal families: URL layout, listings, article pages, RSS and sitemap.

Each family renders a :class:`~archive.samples.site.PortalTwin` with the real portal's URL shapes
(see ``shared/portals.md``), so that the portal's profile crawls its twin with only the origin changed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape

from archive.samples.media import jpeg, pdf, photo_name
from archive.samples.site import PortalTwin, SampleArticle

PHOTO = re.compile(r"/(\d+)-(\d+)\.jpg$")
DOCUMENT = re.compile(r"/Uploads/files/(\d+)(-ban-scan)?\.pdf")

_ENV = Environment(
    loader=PackageLoader("archive.samples", "templates"), autoescape=select_autoescape(["html"])
)
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
SITEMAP_CHUNK = 5000


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    cut: str | None = None  # "truncate": close half-way through the body; "reset": reset the connection


def pager(page: int, last: int, around: int = 2) -> list[int]:
    """The page numbers a portal's pager shows: the first, the last, and a few around the current one."""
    return sorted({1, last, *range(max(1, page - around), min(last, page + around) + 1)})


def _text(status: int, body: str, content_type: str = "text/html; charset=utf-8") -> Response:
    return Response(status, content_type, body.encode("utf-8"))


class Family:
    """Routes requests of one twin; subclasses give the URL shapes and templates."""

    template: str
    page_size: int
    photo_size = 0  # bytes a photo is padded to: 0 for the tests; a portal's ~150 KB in bench/media.py
    listing: str  # path of the first listing page
    rss: str
    article_re: re.Pattern[str]

    def __init__(self, twin: PortalTwin) -> None:
        self.twin = twin

    # URL shapes ---------------------------------------------------------------------------
    def article_path(self, article: SampleArticle) -> str:
        raise NotImplementedError

    page_param = "page"  # the query parameter that numbers listing pages (?page=2)

    def listing_path(self, page: int) -> str:
        return self.listing if page == 1 else f"{self.listing}?{self.page_param}={page}"

    def listing_page(self, path: str, query: dict[str, list[str]]) -> int | None:
        """The page number when ``path`` is a listing page, else None."""
        return _page_param(query, self.page_param) if path == self.listing else None

    def article_id(self, path: str, query: dict[str, list[str]]) -> int | None:
        match = self.article_re.fullmatch(path)
        return int(match.group("id")) if match else None

    def is_article(self, target: str) -> bool:
        """Whether a request target (path and query, as logged) asks for an article page."""
        parts = urlsplit(target)
        return self.article_id(parts.path, parse_qs(parts.query)) is not None

    # Routing ------------------------------------------------------------------------------
    def handle(self, target: str, origin: str) -> Response:
        """Answer a request for ``target`` (path and query) on the twin served at ``origin``."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/robots.txt":
            return _text(200, self.robots(origin), "text/plain; charset=utf-8")
        if path == "/sitemap.xml" or re.fullmatch(r"/sitemap-\d+\.xml", path):
            return self.sitemap(path, origin)
        if path == self.rss:
            return _text(200, self.rss_feed(origin), "application/rss+xml; charset=utf-8")
        page = self.listing_page(path, query)
        if page is not None:
            return self.render_listing(page)
        if media := self.media(path):
            return media
        article_id = self.article_id(path, query)
        article = self.twin.article(article_id) if article_id is not None else None
        if article is None:
            return _text(404, "<html><body><h1>404 - Không tìm thấy trang</h1></body></html>")
        response = _text(200, self.render_article(article))
        response.headers = {"ETag": article.etag,
                            "Last-Modified": formatdate((article.modified or article.published).timestamp(),
                                                        usegmt=True)}
        return response

    def media(self, path: str) -> Response | None:
        """A photo of an article (``…/<id>-<n>.jpg``, n its block in the story) or its attached document.
        The first photo of one article in thirteen is missing (404), as on real portals."""
        if found := PHOTO.search(path):
            article = self.twin.article(int(found.group(1)))
            index = int(found.group(2))
            if article is None or not 0 < index <= len(article.blocks) or (article.id % 13 == 0 and index == min(
                    n for n, b in enumerate(article.blocks, 1) if b.kind == "caption")):
                return _text(404, "<html><body>404</body></html>")
            story = "\n".join(article.paragraphs)
            return Response(200, "image/jpeg", jpeg(photo_name(story, index), self.photo_size))
        if found := DOCUMENT.fullmatch(path):
            article = self.twin.article(int(found.group(1)))
            if article is None or article.attachment != path:
                return _text(404, "<html><body>404</body></html>")
            size = 50 * 1024 * 1024 if found.group(2) else 0
            return Response(200, "application/pdf", pdf(f"Quyet dinh so {article.id}/QD-UBND", size))
        return None

    # Pages --------------------------------------------------------------------------------
    def _item(self, article: SampleArticle) -> dict:
        first = article.paragraphs[0]
        return {
            "id": article.id, "href": self.article_path(article), "title": article.title,
            "published": article.published, "date": article.published.strftime("%d/%m/%Y"),
            "sapo": first[:200] + ("…" if len(first) > 200 else ""),
        }

    def render_listing(self, page: int) -> Response:
        ids = self.twin.article_ids()
        pages = max(1, math.ceil(len(ids) / self.page_size))
        if page > pages:
            return _text(404, "<html><body>Không có dữ liệu</body></html>")
        chunk = ids[(page - 1) * self.page_size : page * self.page_size]
        items = [self._item(self.twin.article(i)) for i in chunk]
        html = _ENV.get_template(f"{self.template}/listing.html").render(
            items=items, page=page, pages=pager(page, pages), href=self.listing_path, place=self.place
        )
        return _text(200, html)

    def render_article(self, article: SampleArticle) -> str:
        at = self.twin.position(article.id) or 0
        related = [self._item(self.twin.article(i)) for _, i, _ in self.twin.timeline[at + 1 : at + 6]]
        return render_article(self.template, article, related, place=self.place)

    @property
    def place(self) -> str | None:
        """The city or province the portal is of, as its pages name it (None: the template's own)."""
        return PLACES.get(self.twin.name)

    def robots(self, origin: str) -> str:
        return f"User-agent: *\nDisallow: /admin/\n\nSitemap: {origin}/sitemap.xml\n"

    def rss_feed(self, origin: str) -> str:
        items = "".join(
            f"<item><title>{escape(a.title)}</title><link>{origin}{escape(self.article_path(a))}</link>"
            f"<pubDate>{_rfc822(a.published)}</pubDate></item>"
            for a in (self.twin.article(i) for i in self.twin.article_ids()[:20])
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(self.twin.name)}</title><link>{origin}/</link>{items}</channel></rss>"
        )

    def sitemap(self, path: str, origin: str) -> Response:
        ids = self.twin.article_ids()
        chunks = max(1, math.ceil(len(ids) / SITEMAP_CHUNK))
        xml = '<?xml version="1.0" encoding="UTF-8"?>'
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if path == "/sitemap.xml" and chunks > 1:
            entries = "".join(
                f"<sitemap><loc>{origin}/sitemap-{n}.xml</loc></sitemap>" for n in range(1, chunks + 1)
            )
            return _text(200, f"{xml}<sitemapindex {ns}>{entries}</sitemapindex>", "application/xml")
        n = 1 if path == "/sitemap.xml" else int(re.sub(r"\D", "", path))
        if not 1 <= n <= chunks:
            return _text(404, "not found", "text/plain")
        timeline = self.twin.timeline[(n - 1) * SITEMAP_CHUNK : n * SITEMAP_CHUNK]
        entries = "".join(
            f"<url><loc>{origin}{escape(self._path_of(article_id, seed))}</loc>"
            f"<lastmod>{published.isoformat()}</lastmod></url>"
            for published, article_id, seed in timeline
        )
        return _text(200, f"{xml}<urlset {ns}>{entries}</urlset>", "application/xml")

    def _path_of(self, article_id: int, seed: SampleArticle | None) -> str:
        return self.article_path(seed or self.twin.article(article_id))


def render_article(layout: str, article: SampleArticle, related: list[dict], place: str | None = None) -> str:
    """An article page in one of the layouts under templates/ (a family's, or legacy/modern)."""
    jsonld = json.dumps(
        {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": article.title,
            "datePublished": article.published.isoformat(),
            "author": {"@type": "Person", "name": article.author},
        },
        ensure_ascii=False,
    ).replace("</", "<\\/")
    return _ENV.get_template(f"{layout}/article.html").render(
        article=article, related=related, weekday=WEEKDAYS[article.published.weekday()], jsonld=jsonld,
        **({"place": place} if place else {}),
    )


def _rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")


def _page_param(query: dict[str, list[str]], name: str) -> int | None:
    value = query.get(name, ["1"])[0]
    return int(value) if value.isdigit() and int(value) >= 1 else None


class CityCMS(Family):
    """mongcai.gov.vn and the city portals built on the same CMS."""

    template = "city"
    page_size = 10
    listing = "/vi-vn/trang/tin-tuc-p24021"
    rss = "/vi-vn/rss/tin-tuc.rss"
    page_param = "pageindex"
    article_re = re.compile(r"/vi-vn/tin/[a-z0-9-]+-p24021-c24087-n(?P<id>\d+)")

    def article_path(self, article: SampleArticle) -> str:
        return f"/vi-vn/tin/{article.slug}-p24021-c24087-n{article.id}"



class SharePoint(Family):
    """quangninh.gov.vn, the provincial SharePoint portal."""

    template = "sharepoint"
    page_size = 15
    listing = "/Trang/tin-tuc-su-kien.aspx"
    rss = "/so/sothongtinTT/Trang/Qnp-rss.aspx"
    page_param = "Page"
    article_re = re.compile(r"/Trang/ChiTietTinTuc\.aspx")

    def article_path(self, article: SampleArticle) -> str:
        return f"/Trang/ChiTietTinTuc.aspx?nid={article.id}"

    def article_id(self, path: str, query: dict[str, list[str]]) -> int | None:
        nid = query.get("nid", [""])[0]
        return int(nid) if path == "/Trang/ChiTietTinTuc.aspx" and nid.isdigit() else None



class Newspaper(Family):
    """baoquangninh.vn, the provincial newspaper."""

    template = "newspaper"
    page_size = 12
    listing = "/chinh-tri"
    rss = "/rss/chinh-tri.rss"
    article_re = re.compile(r"/[a-z0-9-]+-(?:post)?(?P<id>\d+)\.html")

    def article_path(self, article: SampleArticle) -> str:
        post = "post" if article.id % 3 == 0 else ""
        return f"/{article.slug}-{post}{article.id}.html"

    def listing_path(self, page: int) -> str:
        return self.listing if page == 1 else f"{self.listing}/trang-{page}.html"

    def listing_page(self, path: str, query: dict[str, list[str]]) -> int | None:
        if path == self.listing:
            return 1
        match = re.fullmatch(re.escape(self.listing) + r"/trang-(\d+)\.html", path)
        return int(match.group(1)) if match and int(match.group(1)) >= 1 else None


PLACES = {"mongcai": "Móng Cái", "halong": "Hạ Long"}
# The real portal each twin stands for (its profile's base_url): the address its articles are archived
# under, whichever port the twin is served on.
ORIGINS = {
    "mongcai": "https://mongcai.gov.vn", "quangninh": "https://www.quangninh.gov.vn",
    "baoquangninh": "https://baoquangninh.vn", "halong": "https://halong.gov.vn",
}
# The twins and their families: halong.gov.vn runs the same city CMS as mongcai.gov.vn.
FAMILIES: dict[str, type[Family]] = {
    "mongcai": CityCMS, "quangninh": SharePoint, "baoquangninh": Newspaper, "halong": CityCMS,
}

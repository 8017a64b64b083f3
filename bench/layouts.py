"""Pages of layouts the sample twins do not draw, served behind generated listings for bench/crawl.py.

Each layout is a set of saved pages (the extraction fixtures of tests/fixtures/extraction, or the real
third-party pages of ../shared/benchmarks) served on a port of its own: ``/tin-tuc?page=N`` lists
``PER_LISTING`` articles and links the next page, ``/bai/<n>.html`` is page ``n % len(pages)`` with its
number in the ``<title>`` and, on a fixture page, at the end of its first paragraph (found from the
fixture's expected output), so that no two articles are the same page or the same story: a story
printed many times over is archived as reposts of one another, which a crawl seldom meets. Profiles
for them name URL patterns only, so that portal-archive extracts them on its generic path.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from archive.text import decode_html

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "extraction"
PER_LISTING = 50
ARTICLE = re.compile(r"/bai/(\d+)\.html")
_TITLE = re.compile(rb"<title[^>]*>", re.I)


@dataclass
class Page:
    html: bytes
    mark: int | None = None  # where the article's number goes: the end of its first paragraph


def _marked(path: Path) -> Page:
    """A fixture page and the end of its first expected paragraph in it. The page is served as extraction
    reads it, NFC UTF-8 (whatever charset it declares: extraction takes valid UTF-8 as such), so that
    the expected text can be found in it."""
    html = decode_html(path.read_bytes(), None).encode("utf-8")
    paragraphs = json.loads(path.with_suffix(".json").read_text("utf-8"))["expected"]["paragraphs"]
    for size in (40, 24, 12):
        tail = paragraphs[0][-size:].encode("utf-8") if paragraphs else b""
        if tail and (at := html.find(tail)) >= 0:
            return Page(html, at + len(tail))
    return Page(html)


def fixture_layouts() -> dict[str, list[Page]]:
    """The saved pages of each fixture layout (city CMS, SharePoint, newspaper, table era, JSON-LD only)."""
    return {folder.name: [_marked(page) for page in sorted(folder.glob("*.html"))]
            for folder in sorted(FIXTURES.iterdir()) if folder.is_dir() and any(folder.glob("*.html"))}


def real_pages(root: Path) -> list[Page]:
    """The real third-party pages of ../shared/benchmarks (ScrapingHub's benchmark, Fundus's test pages):
    hundreds of them, so that a story is printed a few times at most."""
    return [Page(gzip.decompress(page.read_bytes())) for page in
            sorted([*root.glob("scrapinghub/html/*.html.gz"), *root.glob("fundus/*.html.gz")])]


def generic_profile(name: str, base_url: str = "") -> dict:
    """A profile with URL patterns only: no listing selectors, no extraction rules."""
    return {
        "name": name, "title": f"bench layout {name}", "base_url": base_url or f"https://{name}.example.vn",
        "start_urls": ["/tin-tuc"], "listings": r"/tin-tuc(\?page=\d+)?", "articles": r"/bai/\d+\.html",
    }


@dataclass
class LayoutSite:
    """One layout's pages on 127.0.0.1, ``count`` articles behind listings; a context manager."""

    pages: list[Page]
    count: int
    served: list[int] = field(default_factory=list)  # article numbers answered 200, in order
    server: ThreadingHTTPServer = field(init=False)

    def __enter__(self) -> LayoutSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, body = site.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, bytes]:
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n"
        if path == "/tin-tuc" or path.startswith("/tin-tuc?page="):
            return self.listing(int(path.partition("=")[2] or 1))
        if (match := ARTICLE.fullmatch(path)) and int(match[1]) < self.count:
            n = int(match[1])
            self.served.append(n)
            page = self.pages[n % len(self.pages)]
            html, at = page.html, page.mark
            if at is not None:
                html = html[:at] + f" ({n})".encode() + html[at:]
            return 200, _TITLE.sub(lambda m: m[0] + f"{n} ".encode(), html, count=1)
        return 404, b"not found"

    def listing(self, number: int) -> tuple[int, bytes]:
        first = (number - 1) * PER_LISTING
        if number < 1 or first >= self.count:
            return 404, b"not found"
        items = "".join(f'<li><a href="/bai/{n}.html">Tin {n}</a></li>'
                        for n in range(first, min(first + PER_LISTING, self.count)))
        more = ""
        if first + PER_LISTING < self.count:
            more = f'<a class="next" href="/tin-tuc?page={number + 1}">Trang sau</a>'
        return 200, f"<html><body><h1>Tin tức</h1><ul>{items}</ul>{more}</body></html>".encode()

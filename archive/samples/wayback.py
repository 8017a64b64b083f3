"""A twin of the Internet Archive's Wayback Machine, served on 127.0.0.1: the CDX API and ``id_``
mementos of the sample portals, captured over the months before they were retired.

What a recovery meets on the real service is here on purpose:

- the CDX server's two formats (plain lines, and JSON with a header row), ``matchType`` exact,
  prefix, host and domain (or a trailing ``*``), ``from``/``to``, ``filter`` (regular expressions,
  ``!`` negated), ``collapse`` of adjacent equal fields, ``limit`` with resume keys
  (``showResumeKey``), and ``page``/``showNumPages`` paging;
- articles captured several times, identically (collapsed by ``collapse=digest``) and after an edit
  (a new digest); articles taken down later (a 404 capture, dropped by ``filter=statuscode:200``);
  articles never captured; captures missing from the CDX index, reachable only through a listing
  page that links them (the memento nearest the listing's capture, by redirect);
- mementos whose true time is a second off the CDX's (a redirect between captures);
- 429 answers: past the service's own limits (30 CDX and 600 memento requests in any minute), during a
  storm a test asks for (:meth:`WaybackTwin.storm`), and to a client that does not wait the
  ``Retry-After`` out, which is counted in :attr:`WaybackTwin.violations` and blocks it twice as long.

Every request is logged (:attr:`WaybackTwin.hits`), so that a test can count what a recovery asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from base64 import b32encode
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from archive.samples.families import FAMILIES, ORIGINS, Family
from archive.samples.site import make_twins

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
LIMITS = {"cdx": 30, "memento": 600}  # the service's own limits, per minute
DEFAULT_RETRY_AFTER = 60.0
# A request that comes within this long of a 429 was on its way before the client could read it: it is
# refused too, but not counted against the client.
IN_FLIGHT = 0.25
PAGE_ROWS = 25  # CDX rows per `page=` page (the real service: blocks of its ZipNum index)


def surt(url: str) -> str:
    """The CDX server's key of a URL: scheme and ``www.`` dropped, host reversed, lower-cased."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ",".join(reversed(host.split("."))) + ")" + path.lower()


def stamp(moment: datetime) -> str:
    """A Wayback timestamp: 14 digits, UTC."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def moment(timestamp: str) -> datetime:
    return datetime.strptime(timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class Capture:
    """One capture of one URL: what the crawler got, and when."""

    original: str
    served: str  # the memento's true timestamp
    status: int
    body: bytes
    mimetype: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    listed: str | None = None  # the timestamp the CDX index gives, when a second off the memento's
    indexed: bool = True  # in the CDX index (some captures are not, as on the real service)

    @property
    def urlkey(self) -> str:
        return surt(self.original)

    @property
    def timestamp(self) -> str:
        return self.listed or self.served

    @property
    def digest(self) -> str:
        return b32encode(hashlib.sha1(self.body).digest()).decode()

    def row(self) -> list[str]:
        return [self.urlkey, self.timestamp, self.original, self.mimetype, str(self.status), self.digest,
                str(len(self.body))]


@dataclass(frozen=True)
class Hit:
    kind: str  # "cdx", "memento" or "other"
    target: str
    status: int
    at: float  # time.monotonic() when it came in


class WaybackTwin:
    """The captures of some sample portals, and the service that answers for them."""

    def __init__(self, portals: tuple[str, ...] = ("halong",), count: int = 12) -> None:
        self.twins = make_twins(count)
        self.captures: list[Capture] = []
        self.hits: list[Hit] = []
        self.violations = 0  # requests sent before a 429's Retry-After was over
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {kind: deque() for kind in LIMITS}
        self._blocked: dict[str, tuple[float, float, float]] = {}  # kind -> (since, until, how long)
        self._storms: dict[str, list[int | float]] = {}  # kind -> [requests before it, answers left, retry-after]
        self._server: ThreadingHTTPServer | None = None
        self.families: dict[str, Family] = {}
        for name in portals:
            self.families[name] = FAMILIES[name](self.twins[name])
            self._history(name)

    # The captures ---------------------------------------------------------------------------
    def _render(self, name: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        response = self.families[name].handle(path, ORIGINS[name])
        return response.status, response.body, response.headers

    def _history(self, name: str) -> None:
        """Captures of the portal's articles after each was published, some again after an edit, some
        taken down; then its listing pages, shortly before the portal was retired (40 days after its
        last article)."""
        twin, family, origin = self.twins[name], self.families[name], ORIGINS[name]
        articles = twin.articles()
        retired = max(a.published.astimezone(UTC) for a in articles) + timedelta(days=40)
        for i, article in enumerate(articles):
            if i % 7 == 6:
                continue  # never captured: linked from the listings, but lost
            path = family.article_path(article)
            url = origin + path
            at = article.published.astimezone(UTC) + timedelta(hours=6, minutes=i)
            status, body, headers = self._render(name, path)
            capture = Capture(url, stamp(at), status, body, headers=headers, indexed=i % 6 != 5)
            if i % 8 == 3:  # the index's time is a second off the memento's: the service redirects
                capture.listed = stamp(at - timedelta(seconds=1))
            self.captures.append(capture)
            if i % 5 == 1:  # captured again, unchanged
                self.captures.append(Capture(url, stamp(at + timedelta(days=10)), status, body, headers=headers,
                                             indexed=capture.indexed))
            if i % 4 == 2:  # edited by the portal, then captured again
                twin.edit(article.id)
                status, body, headers = self._render(name, path)
                self.captures.append(Capture(url, stamp(at + timedelta(days=20)), status, body, headers=headers,
                                             indexed=capture.indexed))
            if i % 9 == 4:  # taken down: the next capture is a 404
                twin.remove(article.id)
                status, body, headers = self._render(name, path)
                self.captures.append(Capture(url, stamp(at + timedelta(days=30)), status, body,
                                             indexed=capture.indexed))
        page, listed_at = 1, retired - timedelta(days=1)
        while True:
            path = family.listing_path(page)
            status, body, headers = self._render(name, path)
            if status != 200:
                break
            self.captures.append(Capture(origin + path, stamp(listed_at + timedelta(minutes=page)), status, body))
            page += 1

    def add(self, name: str, article_id: int, at: datetime) -> Capture:
        """A new capture of an article after an edit (for an incremental recovery)."""
        twin, family = self.twins[name], self.families[name]
        twin.edit(article_id)
        article = twin.article(article_id)
        assert article is not None
        path = family.article_path(article)
        status, body, headers = self._render(name, path)
        capture = Capture(ORIGINS[name] + path, stamp(at), status, body, headers=headers)
        with self._lock:
            self.captures.append(capture)
        return capture

    def reachable(self, name: str) -> dict[str, list[Capture]]:
        """What a recovery can archive: the 200 captures of every article URL that is in the index or
        linked from a captured listing page, by portal URL, oldest first."""
        family, origin = self.families[name], ORIGINS[name]
        linked = set()
        for capture in self.captures:
            if capture.original.startswith(origin) and family.listing_page(
                    urlsplit(capture.original).path, parse_qs(urlsplit(capture.original).query)) is not None:
                linked |= {origin + href for href in re.findall(r'href="(/[^"]+)"', capture.body.decode())}
        found: dict[str, list[Capture]] = {}
        for capture in sorted(self.captures, key=lambda c: c.served):
            target = capture.original[len(origin):]
            if not capture.original.startswith(origin) or not family.is_article(target) or capture.status != 200:
                continue
            if capture.indexed or capture.original in linked:
                found.setdefault(capture.original, []).append(capture)
        return found

    # The service ----------------------------------------------------------------------------
    def storm(self, kind: str, after: int, answers: int, retry_after: float = 1.0) -> None:
        """Answer 429 to ``answers`` requests of ``kind`` ("cdx" or "memento"), after ``after`` more."""
        with self._lock:
            self._storms[kind] = [after, answers, retry_after]

    def _refused(self, kind: str) -> float | None:
        """The Retry-After of a 429 for this request, or None to answer it."""
        now = time.monotonic()
        with self._lock:
            since, until, length = self._blocked.get(kind, (0.0, 0.0, 0.0))
            if now < until:
                if now - since > IN_FLIGHT:  # it did not wait: blocked twice as long, as the service does
                    self.violations += 1
                    self._blocked[kind] = (now, now + 2 * length, 2 * length)
                return until - now
            storm = self._storms.get(kind)
            if storm and storm[0] > 0:
                storm[0] -= 1
            elif storm and storm[1] > 0:
                storm[1] -= 1
                self._blocked[kind] = (now, now + storm[2], storm[2])
                return float(storm[2])
            recent = self._recent[kind]
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= LIMITS[kind]:
                wait = recent[0] + 60 - now
                self._blocked[kind] = (now, now + wait, wait)
                return wait
            recent.append(now)
        return None

    def cdx(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        """The CDX server's answer: status, content type, body."""
        arg = {key: values[-1] for key, values in query.items()}
        url = arg.get("url", "")
        if not url:
            return 400, "text/plain", b"org.archive.wayback.exception.BadQueryException: Request must have url\n"
        match = arg.get("matchType", "exact")
        if url.endswith("*"):
            url, match = url[:-1], "prefix"
        key = surt(url)
        host = key.split(")")[0]
        tests = {
            "exact": lambda k: k == key, "prefix": lambda k: k.startswith(key),
            "host": lambda k: k.split(")")[0] == host,
            "domain": lambda k: k.split(")")[0] == host or k.split(")")[0].startswith(host + ","),
        }
        if match not in tests:
            return 400, "text/plain", f"Unknown matchType {match}\n".encode()
        with self._lock:
            rows = sorted((c for c in self.captures if c.indexed and tests[match](c.urlkey)),
                          key=lambda c: (c.urlkey, c.timestamp))
        low, high = arg.get("from", "").ljust(14, "0"), arg.get("to", "").ljust(14, "9")
        rows = [c for c in rows if low <= c.timestamp <= high]
        for rule in query.get("filter", []):
            negate, (name, _, pattern) = rule.startswith("!"), rule.lstrip("!").partition(":")
            if name not in FIELDS:
                return 400, "text/plain", f"Bad filter field {name}\n".encode()
            rows = [c for c in rows if bool(re.fullmatch(pattern, c.row()[FIELDS.index(name)])) != negate]
        for rule in query.get("collapse", []):
            name, _, width = rule.partition(":")
            index, chars = FIELDS.index(name), int(width) if width else None
            kept: list[Capture] = []
            for c in rows:
                if not kept or kept[-1].row()[index][:chars] != c.row()[index][:chars]:
                    kept.append(c)
            rows = kept
        if arg.get("showNumPages") == "true":
            return 200, "text/plain", f"{max(1, -(-len(rows) // PAGE_ROWS))}\n".encode()
        if "page" in arg:
            page = int(arg["page"])
            rows = rows[page * PAGE_ROWS:(page + 1) * PAGE_ROWS]
        if "resumeKey" in arg:
            after = tuple(unquote(arg["resumeKey"]).rsplit(" ", 1))
            rows = [c for c in rows if (c.urlkey, c.timestamp) > after]
        limit = int(arg.get("limit", 10_000))
        more, rows = len(rows) > limit, rows[:limit]
        resume = None
        if more and arg.get("showResumeKey") == "true":
            resume = quote(f"{rows[-1].urlkey} {rows[-1].timestamp}")
        table = [c.row() for c in rows]
        if arg.get("output") == "json":
            lines = [list(FIELDS), *table] if table else []
            if resume:
                lines += [[], [resume]]
            return 200, "application/json", json.dumps(lines).encode()
        text = "".join(" ".join(r) + "\n" for r in table) + (f"\n{resume}\n" if resume else "")
        return 200, "text/plain", text.encode()

    def memento(self, timestamp: str, mode: str, original: str) -> tuple[int, dict[str, str], bytes]:
        """A capture as the service replays it: ``id_`` the bytes as captured; any other mode with the
        service's banner inserted. A time with no capture redirects to the nearest one."""
        key = surt(original)
        with self._lock:
            captures = [c for c in self.captures if c.urlkey == key]
        if not captures:
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not in the archive.</body></html>"
        asked = moment(timestamp)
        nearest = min(captures, key=lambda c: abs((moment(c.served) - asked).total_seconds()))
        if nearest.served != timestamp.ljust(14, "0")[:14]:
            return 302, {"Location": f"/web/{nearest.served}{mode}/{nearest.original}",
                         "Content-Type": "text/plain"}, b""
        headers = {"Content-Type": nearest.headers.get("Content-Type", f"{nearest.mimetype}; charset=utf-8"),
                   "Memento-Datetime": format_datetime(moment(nearest.served), usegmt=True),
                   "Link": f'<{nearest.original}>; rel="original"'}
        headers.update({f"X-Archive-Orig-{k}": v for k, v in nearest.headers.items()})
        body = nearest.body
        if mode != "id_":
            body = b"<!-- BEGIN WAYBACK TOOLBAR INSERT --><div id='wm-ipp'>Wayback Machine</div>" \
                   b"<!-- END WAYBACK TOOLBAR INSERT -->" + body
        return nearest.status, headers, body

    # Serving --------------------------------------------------------------------------------
    def start(self) -> WaybackTwin:
        twin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                began = time.monotonic()
                parts = urlsplit(self.path)
                found = re.fullmatch(r"/web/(\d{1,14})([a-z]{2}_)?/(.+)", self.path)
                kind = "cdx" if parts.path == "/cdx/search/cdx" else "memento" if found else "other"
                retry_after = twin._refused(kind) if kind != "other" else None
                if retry_after is not None:
                    status, headers, body = 429, {"Retry-After": str(max(1, round(retry_after))),
                                                  "Content-Type": "text/html"}, b"<h1>429 Too Many Requests</h1>"
                elif kind == "cdx":
                    status, content_type, body = twin.cdx(parse_qs(parts.query))
                    headers = {"Content-Type": content_type}
                elif found:
                    status, headers, body = twin.memento(found.group(1), found.group(2) or "", found.group(3))
                elif parts.path == "/robots.txt":
                    status, headers, body = 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
                else:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found\n"
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                with twin._lock:
                    twin.hits.append(Hit(kind, self.path, status, began))

            def log_message(self, format: str, *args: object) -> None:
                log.debug("wayback twin: %s", format % args)

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="wayback-twin", daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> WaybackTwin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

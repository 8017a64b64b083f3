"""Serve the sample portals on 127.0.0.1, one port per twin, each at the root of its own origin.

A twin at its own origin keeps the real site's root-relative links, its own robots.txt and
sitemap.xml, so the portal's profile needs nothing but the origin swapped. Every request is logged
(portal, path, status), which lets tests check what a crawl fetched.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archive.samples.families import FAMILIES, ORIGINS, Family
from archive.samples.site import PortalTwin, make_twins

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Hit:
    portal: str
    path: str
    status: int
    began: float = 0.0  # time.monotonic() when the request came in and when its answer was written,
    ended: float = 0.0  # so that a test can tell how many requests a portal served at once


class _Handler(BaseHTTPRequestHandler):
    server: _TwinServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.began = time.monotonic()
        twin = self.server.twin_for(self.headers.get("Host", ""))
        if twin is None:
            self.send_error(404, "no sample portal of that name here")
            return
        try:
            response = twin.family.handle(self.path, twin.origin)
        except Exception:  # a bug in a sample page must not take the whole twin down
            log.exception("sample portal %s failed on %s", twin.name, self.path)
            self.send_error(500)
            return
        if response.delay or twin.latency:
            time.sleep(response.delay + twin.latency)
        if response.cut == "reset":  # an RST instead of an answer
            twin.log(self.path, 0, self.began)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        etag = response.headers.get("ETag")
        if etag and self.headers.get("If-None-Match") == etag:
            twin.log(self.path, 304, self.began)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        # The answer ends for the log before its last bytes go out: once they are out the client may
        # ask again at once, while this thread is still waiting for the GIL to write its log line.
        twin.log(self.path, response.status, self.began)
        if response.cut == "truncate":  # the connection drops half-way through the body
            self.wfile.write(response.body[: len(response.body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.headers.get("Host", "") if hasattr(self, "headers") else "", format % args)


class _TwinServer(ThreadingHTTPServer):
    daemon_threads = True
    # A real server's backlog (nginx: 511), not socketserver's 5: a burst of new connections must
    # not be dropped and retried a second later by TCP.
    request_queue_size = 128
    twin: RunningTwin

    def twin_for(self, host: str) -> RunningTwin | None:
        return self.twin

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-request (a killed crawl) is routine, not a server fault.
        log.debug("sample portal: client %s went away", client_address, exc_info=True)


class _HostsServer(_TwinServer):
    """Many twins on one port, told apart by the Host their requests name."""

    request_queue_size = 1024
    twins: dict[str, RunningTwin]

    def twin_for(self, host: str) -> RunningTwin | None:
        return self.twins.get(host.rsplit(":", 1)[0].lower())


@dataclass
class RunningTwin:
    name: str
    family: Family
    server: _TwinServer
    hits: list[Hit] = field(default_factory=list)
    latency: float = 0.0
    host: str = HOST  # the name it is asked for by (HostedSites: one name per twin, all on 127.0.0.1)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def log(self, path: str, status: int, began: float) -> None:
        self.hits.append(Hit(self.name, path, status, began, time.monotonic()))

    def most_at_once(self) -> int:
        """The most requests this twin was serving at the same moment, from its own log."""
        events = sorted([(hit.began, 1) for hit in self.hits] + [(hit.ended, -1) for hit in self.hits])
        busy = most = 0
        for _, change in events:
            busy += change
            most = max(most, busy)
        return most


class SampleSite:
    """The running twins; use as a context manager so the ports are always released."""

    def __init__(self, count: int = 30, port: int = 0, latency: float = 0.0,
                 families: dict[str, type[Family]] | None = None) -> None:
        """``latency``: seconds every answer takes, so that requests overlap as on a real server;
        ``families``: another way of rendering some twins (tests/support/faults.py's misbehaving portal)."""
        self.twins: dict[str, PortalTwin] = make_twins(count)
        self.families = {**FAMILIES, **(families or {})}
        self.running: dict[str, RunningTwin] = {}
        self._port = port
        self.latency = latency
        self._threads: list[threading.Thread] = []

    def start(self) -> SampleSite:
        for offset, (name, twin) in enumerate(self.twins.items()):
            port = self._port + offset if self._port else 0
            server = _TwinServer((HOST, port), _Handler)
            running = RunningTwin(name, self.families[name](twin), server, latency=self.latency)
            server.twin = running
            self.running[name] = running
            thread = threading.Thread(target=server.serve_forever, name=f"sample-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for running in self.running.values():
            running.server.shutdown()
            running.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SampleSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origins(self) -> dict[str, str]:
        return {name: running.origin for name, running in self.running.items()}

    def expected(self) -> list[dict]:
        """The clean article expected from every page currently published, across the twins: ``url`` its
        address on the real portal, ``fetched_from`` where the twin serves it."""
        return [
            {**article.expected(ORIGINS[name] + path), "fetched_from": running.origin + path}
            for name, running in self.running.items()
            for article in self.twins[name].articles()
            for path in [running.family.article_path(article)]
        ]


class HostedSites:
    """Twins under host names of their own, all served by one server on 127.0.0.1 that tells them apart by
    the Host header (a crawl resolves the names to 127.0.0.1): a thousand portals need no thousand ports.
    ``twins``: host name -> (twin, its family's Family class)."""

    def __init__(self, twins: dict[str, tuple[PortalTwin, type[Family]]]) -> None:
        self.server = _HostsServer((HOST, 0), _Handler)
        self.server.twins = {host: RunningTwin(twin.name, family(twin), self.server, host=host)
                             for host, (twin, family) in twins.items()}
        self._thread = threading.Thread(target=self.server.serve_forever, name="sample-hosts", daemon=True)

    def __enter__(self) -> HostedSites:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    @property
    def running(self) -> dict[str, RunningTwin]:
        return self.server.twins


def serve_until_interrupted() -> None:
    """Block until Ctrl-C, while the twins serve on their threads."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass

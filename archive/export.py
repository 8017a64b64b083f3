"""Export the archive's pages as WARC/1.1 (ISO 28500) or WACZ, for other archives and replay tools
(pywb, ReplayWeb.page). warcio writes the records and their digests; py-wacz packs the WACZ.

Each stored page becomes, under its address on the portal:

- a ``request`` record, for a page this archive fetched itself: the request line and headers it sent;
- a ``response`` record: the status line and headers as received, and the page's bytes. Those are stored
  decoded, so ``Content-Encoding`` and ``Transfer-Encoding`` are left out and ``Content-Length`` is the
  stored length. A page recovered from the Wayback Machine gets the original server's headers (its
  ``X-Archive-Orig-*``), dated by its capture;
- a ``revisit`` record instead, when the same payload was written before (identical-payload-digest).

The file opens with a ``warcinfo`` record: software, format, robots policy, user agent, operator.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import tempfile
import zlib
from base64 import b32encode
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import responses
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.db import Archive
from archive.mediastore import MediaStore, media_path

HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}
ORIGINAL = "x-archive-orig-"


@dataclass
class Exported:
    pages: int = 0
    responses: int = 0
    revisits: int = 0
    requests: int = 0
    media: int = 0  # photos and documents


def _warc_date(value: str | None) -> str:
    moment = datetime.fromisoformat(value) if value else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _response_headers(http: dict | None, content_type: str | None, size: int) -> tuple[str, list[tuple[str, str]]]:
    """The status line and headers to write: the original server's, less what the stored bytes no longer are."""
    if not http:
        return "200 OK", [("Content-Type", content_type or "text/html"), ("Content-Length", str(size))]
    headers = [(name, value) for name, value in http["headers"]]
    original = [(name[len(ORIGINAL):], value) for name, value in headers if name.lower().startswith(ORIGINAL)]
    if original:  # a Wayback memento: the portal's own headers, as the archive recorded them
        headers = [*original, *[(n, v) for n, v in headers if n.lower() == "content-type"]]
    kept = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP]
    status = http.get("status") or 200
    return f"{status} {responses.get(status, 'OK')}", [*kept, ("Content-Length", str(size))]


def _rows(archive: Archive, portal: str | None, since: datetime | None) -> list[dict]:
    where, args = [], []
    if portal:
        where.append("a.portal = ?")
        args.append(portal)
    if since:
        where.append("coalesce(p.captured_at, p.last_fetched) >= ?")
        args.append(since.astimezone(UTC).isoformat())
    query = ("select a.url, a.title, a.portal, p.raw_html, p.content_type, p.http, p.captured_at, p.last_fetched, "
             "p.fetched_from from pages p join articles a on a.url = p.url "
             f"{'where ' + ' and '.join(where) if where else ''} order by a.id")
    cursor = archive.db.execute(query, args)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def write_warc(archive: Archive, out: Path, portal: str | None = None, since: datetime | None = None,
               operator: str | None = None) -> tuple[Exported, list[dict]]:
    """The pages as one gzipped WARC/1.1 file; returns the counts and the pages written (for pages.jsonl)."""
    result, pages = Exported(), []
    rows = _rows(archive, portal, since)
    agent = next((dict(json.loads(r["http"])["request"]["headers"]).get("User-Agent") for r in rows if r["http"]),
                 None)
    written: dict[str, tuple[str, str]] = {}  # payload digest -> the first record's URI and date
    with out.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        info = {"software": f"portal-archive/{version('portal-archive')} (warcio)",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "robots": "obey", "http-header-user-agent": agent or "", "operator": operator or "",
                "description": "Vietnamese government news archived by portal-archive"}
        writer.write_record(writer.create_warcinfo_record(out.name, {k: v for k, v in info.items() if v}))
        for row in rows:
            raw = zlib.decompress(row["raw_html"])
            http = json.loads(row["http"]) if row["http"] else None
            date = _warc_date(row["captured_at"] or (http or {}).get("at") or row["last_fetched"])
            extra = {"WARC-Date": date}
            if row["fetched_from"] and row["fetched_from"] != row["url"]:
                extra["WARC-Source-URI"] = row["fetched_from"]  # where this copy was fetched from (WARC 1.1)
            status, headers = _response_headers(http, row["content_type"], len(raw))
            http_headers = StatusAndHeaders(status, headers, protocol=(http or {}).get("protocol") or "HTTP/1.1")
            digest = "sha1:" + b32encode(hashlib.sha1(raw).digest()).decode()
            if digest in written:
                record = writer.create_revisit_record(row["url"], digest, *written[digest], http_headers=http_headers,
                                                      warc_headers_dict=extra)
                result.revisits += 1
            else:
                record = writer.create_warc_record(row["url"], "response", payload=io.BytesIO(raw),
                                                   http_headers=http_headers, warc_headers_dict=extra)
                written[digest] = (row["url"], date)
                result.responses += 1
            writer.write_record(record)
            if http and not row["captured_at"]:  # this archive's own request, as sent
                parts = urlsplit(row["url"])
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                request = StatusAndHeaders(f"{http['request']['method']} {target} {http_headers.protocol}",
                                           [("Host", parts.netloc), *map(tuple, http["request"]["headers"])],
                                           is_http_request=True)
                concurrent = {"WARC-Date": date, "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID")}
                writer.write_record(writer.create_warc_record(row["url"], "request", http_headers=request,
                                                              warc_headers_dict=concurrent))
                result.requests += 1
            result.pages += 1
            pages.append({"url": row["url"], "ts": date, "title": row["title"] or ""})
        for media in _media(archive, {row["url"] for row in rows}):
            http = json.loads(media["http"]) if media["http"] else None
            date = _warc_date(media["first_fetched"])
            status, headers = _response_headers(http, media["content_type"], media["size"])
            http_headers = StatusAndHeaders(status, headers, protocol=(http or {}).get("protocol") or "HTTP/1.1")
            digest = "sha1:" + b32encode(hashlib.sha1(media["bytes"]).digest()).decode()
            if digest in written:
                continue  # a photo is one file however many articles show it
            writer.write_record(writer.create_warc_record(
                media["source_url"], "response", payload=io.BytesIO(media["bytes"]), http_headers=http_headers,
                warc_headers_dict={"WARC-Date": date, "WARC-Source-URI": media["fetched_from"] or media["source_url"]}))
            written[digest] = (media["source_url"], date)
            result.media += 1
    return result, pages


def _media(archive: Archive, urls: set[str]) -> Iterator[dict]:
    """The media files the exported articles link to, each once, from the media file beside the archive
    (one at a time: the media file may be far larger than memory)."""
    path = media_path(archive.path)
    if not path.is_file() or "article_media" not in archive.db.table_names():
        return
    digests = {d for (url, d) in archive.db.execute("select url, sha256 from article_media where sha256 is not null")
               if url in urls}
    store = MediaStore(path, readonly=True)
    try:
        cursor = store.db.execute("select sha256, cast(bytes as blob) as bytes, content_type, size, source_url, "
                                  "fetched_from, first_fetched, http from media order by first_fetched")
        names = [c[0] for c in cursor.description]
        for values in cursor:
            if (row := dict(zip(names, values, strict=True)))["sha256"] in digests:
                yield row
    finally:
        store.close()


def write_wacz(archive: Archive, out: Path, portal: str | None = None, since: datetime | None = None,
               operator: str | None = None) -> Exported:
    """The WARC packed by py-wacz, with its CDXJ index, ``pages/pages.jsonl`` and ``datapackage.json``."""
    from wacz.main import main as wacz

    with tempfile.TemporaryDirectory() as scratch:
        warc = Path(scratch) / f"{out.stem}.warc.gz"
        result, pages = write_warc(archive, warc, portal, since, operator)
        listing = Path(scratch) / "pages.jsonl"
        with listing.open("w", encoding="utf-8") as lines:
            lines.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}) + "\n")
            for page in pages:
                lines.write(json.dumps(page, ensure_ascii=False) + "\n")
        with contextlib.redirect_stdout(sys.stderr):  # py-wacz reports its steps on stdout
            code = wacz(["create", "-o", str(out), "-p", str(listing), "--title", "portal-archive export", str(warc)])
        if code not in (0, None):
            raise RuntimeError(f"{out}: py-wacz could not pack the export (exit {code})")
    return result

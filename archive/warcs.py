"""Recover articles from WARC and WACZ files others captured (Browsertrix, ArchiveTeam, Heritrix,
``wget --warc-file``), read with warcio.

Each ``response`` record of a portal's article URL with a 200 and an HTML payload goes through the same
extraction and storage as a crawled page: ``fetched_from`` names the file and the record's offset in it,
``captured_at`` is its WARC-Date, and each distinct text becomes a version in capture order. A
``revisit`` record repeats an earlier payload (nothing new to archive); other statuses, other record
types and other URLs are counted and left. Every record dealt with goes in the ``captures`` ledger,
so a second import of the same files archives nothing twice, and one cut short goes on where it
stopped.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.dates import capture_stamp
from archive.db import Archive
from archive.model import Hints, Rules
from archive.text import not_html
from archive.workers import Extracted, extract_page, shared_pool

SOURCE = "warc"
MAX_PAYLOAD = 20 * 1024 * 1024  # as a crawl's DOWNLOAD_MAXSIZE
BATCH = 100


class WarcError(ValueError):
    """A file that cannot be read as WARC or WACZ; the message says which and why, in one line."""


@dataclass
class Record:
    url: str  # the record's target URI, as captured
    captured_at: datetime
    where: str  # the file and the record's offset in it
    status: int | None = None
    content_type: str | None = None
    payload: bytes = b""
    kind: str = "response"


@dataclass
class WarcResult:
    records: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    revisits: int = 0
    not_ok: int = 0  # responses other than 200
    skipped: int = 0  # other portals' URLs, other pages of the portal, not HTML, too large, no text
    done_before: int = 0  # already imported


def _date(value: str | None) -> datetime:
    moment = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read(stream: IO[bytes], where: str) -> Iterator[Record]:
    iterator = ArchiveIterator(stream)
    for record in iterator:
        if record.rec_type not in ("response", "revisit"):
            continue
        headers = record.rec_headers
        found = Record(headers.get_header("WARC-Target-URI") or "", _date(headers.get_header("WARC-Date")),
                       where, kind=record.rec_type)
        if record.http_headers is not None:
            found.status = int(record.http_headers.get_statuscode() or 0)
            found.content_type = record.http_headers.get_header("Content-Type")
        if record.rec_type == "response" and found.status == 200:
            found.payload = _payload(record.content_stream())
        found.where = f"{where}#offset={iterator.get_record_offset()}"  # after the payload: it reads the record
        yield found


def _payload(stream: IO[bytes]) -> bytes:
    """The payload, up to one byte past MAX_PAYLOAD (warcio's readers answer one large read() with nothing)."""
    chunks, size = [], 0
    while size <= MAX_PAYLOAD and (chunk := stream.read(65536)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def records(path: str | Path) -> Iterator[Record]:
    """The response and revisit records of a WARC (``.warc``, ``.warc.gz``) or a WACZ (its ``archive/``)."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as wacz:
                members = sorted(n for n in wacz.namelist() if n.startswith("archive/") and ".warc" in n)
                if not members:
                    raise WarcError(f"{path}: a zip with no archive/*.warc[.gz] in it: not a WACZ")
                for member in members:
                    with wacz.open(member) as stream:
                        yield from _read(stream, f"{path.resolve()}!/{member}")
            return
        with path.open("rb") as stream:
            yield from _read(stream, str(path.resolve()))
    except OSError as err:
        raise WarcError(f"{path}: cannot read: {err.strerror or err}") from err
    except (ArchiveLoadFailed, zipfile.BadZipFile, EOFError, ValueError) as err:
        raise WarcError(f"{path}: not a readable WARC or WACZ file: {str(err).splitlines()[0] if str(err) else err}"
                        ) from err


def _extract(job: tuple[Record, str, str, Rules | None]) -> tuple[Record, int, Extracted]:
    """In a worker: the record's article; the record comes back without its payload (its size instead)."""
    record, url, portal, rules = job
    extracted = extract_page(record.payload, url, portal, rules, Hints(fetched_at=record.captured_at),
                             record.content_type)
    return replace(record, payload=b""), len(record.payload), extracted


def recover_warcs(archive: Archive, portal: str, own_article: Callable[[str], str | None], rules: Rules | None,
                  paths: list[str], workers: int | None = None,
                  ) -> WarcResult:
    """Import the portal's articles from ``paths`` into ``archive``. ``own_article(uri)`` is the article's
    portal URL for a captured URI of one of its articles, else None. Raises WarcError on the first file
    that cannot be read; what was imported before it stays."""
    result = WarcResult()
    done = archive.captures_done(portal, SOURCE)
    broken: list[WarcError] = []

    def readable() -> Iterator[Record]:
        """Every record up to the first that cannot be read: those are archived before the error is raised."""
        try:
            for path in paths:
                yield from records(path)
        except WarcError as err:
            broken.append(err)

    def jobs() -> Iterator[tuple[Record, str, str, Rules | None]]:
        for record in readable():
            result.records += 1
            url = own_article(record.url)
            if url is None:
                result.skipped += 1
            elif record.kind == "revisit":
                result.revisits += 1
            elif record.status != 200:
                result.not_ok += 1
            elif (url, capture_stamp(record.captured_at)) in done:
                result.done_before += 1
            elif len(record.payload) > MAX_PAYLOAD or not_html(record.payload):
                result.skipped += 1
            else:
                yield record, url, portal, rules

    pool = shared_pool(workers)
    pool.join()
    try:
        batch: list[tuple[Record, int, Extracted]] = []
        for done_job in pool.map(_extract, jobs()):
            batch.append(done_job)
            if len(batch) >= BATCH:
                _write(archive, portal, batch, result)
        _write(archive, portal, batch, result)
    finally:
        pool.leave()
    if broken:
        raise broken[0]
    return result


def _write(archive: Archive, portal: str, batch: list[tuple[Record, int, Extracted]], result: WarcResult) -> None:
    with archive.batch():
        for record, size, extracted in batch:
            article = extracted.article
            if not article.paragraphs:
                result.skipped += 1
                continue
            outcome = archive.save(article, b"", packed=extracted.packed, raw_size=size, sha256=extracted.sha256,
                                   status=200,
                                   content_type=record.content_type, fetched_from=record.where,
                                   captured_at=record.captured_at.astimezone(UTC).isoformat())
            stamp = capture_stamp(record.captured_at)
            archive.record_capture(SOURCE, article.url, stamp, portal, outcome, record.where)
            setattr(result, outcome, getattr(result, outcome) + 1)
    batch.clear()

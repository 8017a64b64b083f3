"""Fixity: every stored page hashed again and compared with the digest taken when it was fetched, as
digital preservation asks (NDSA levels of preservation, "fixity"). A page whose bytes changed on disk
(bit rot, a bad copy, a hand edit) is reported; nothing is repaired behind the user's back."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from archive.db import Archive
from archive.mediastore import MediaStore, media_path


@dataclass
class Fixity:
    checked: int = 0  # pages and media files
    undigested: int = 0  # pages archived before digests were kept: nothing to compare with
    failed: list[str] = field(default_factory=list)  # URLs whose bytes no longer match, or cannot be read


def _pages(archive: Archive, portal: str | None) -> Iterator[tuple[str, bytes, str | None]]:
    where, args = ("where a.portal = ?", [portal]) if portal else ("", [])
    query = (f"select p.url, cast(p.raw_html as blob), p.sha256 from pages p join articles a on a.url = p.url {where} "
             "order by a.id")
    yield from archive.db.execute(query, args)


def _media(archive: Archive, portal: str | None) -> Iterator[tuple[str, bytes, str]]:
    """The media files the archive's articles link to (of one portal, or all), from the media file."""
    path = media_path(archive.path)
    if not path.is_file():
        return
    store = MediaStore(path, readonly=True)
    try:
        if portal:
            wanted = {row[0] for row in archive.db.execute(
                "select distinct m.sha256 from article_media m join articles a on a.url = m.url "
                "where a.portal = ? and m.sha256 is not null", [portal])}
        for digest, body, source in store.db.execute("select sha256, cast(bytes as blob), source_url from media"):
            if not portal or digest in wanted:
                yield source, body, digest
    finally:
        store.close()


def verify(archive: Archive, portal: str | None = None) -> Fixity:
    """Every stored page, and every photo and document of the media file, hashed again."""
    result = Fixity()
    for source, body, digest in _media(archive, portal):
        result.checked += 1
        if hashlib.sha256(body or b"").hexdigest() != digest:
            result.failed.append(source)
    for url, blob, digest in _pages(archive, portal):
        if not digest:
            result.undigested += 1
            continue
        result.checked += 1
        try:
            ok = hashlib.sha256(zlib.decompress(blob)).hexdigest() == digest
        except (zlib.error, TypeError):
            ok = False
        if not ok:
            result.failed.append(url)
    return result

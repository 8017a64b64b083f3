"""Fixity: every stored page hashed again and compared with the digest taken when it was fetched, as
digital preservation asks (NDSA levels of preservation, "fixity"). A page whose bytes changed on disk
(bit rot, a bad copy, a hand edit) is reported; nothing is repaired behind the user's back."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from archive.db import Archive


@dataclass
class Fixity:
    checked: int = 0
    undigested: int = 0  # pages archived before digests were kept: nothing to compare with
    failed: list[str] = field(default_factory=list)  # URLs whose bytes no longer match, or cannot be read


def _pages(archive: Archive, portal: str | None) -> Iterator[tuple[str, bytes, str | None]]:
    where, args = ("where a.portal = ?", [portal]) if portal else ("", [])
    query = (f"select p.url, p.raw_html, p.sha256 from pages p join articles a on a.url = p.url {where} "
             "order by a.id")
    yield from archive.db.execute(query, args)


def verify(archive: Archive, portal: str | None = None) -> Fixity:
    result = Fixity()
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

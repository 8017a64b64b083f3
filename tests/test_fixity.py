"""What a court or a historian asks of an archived page: the whole HTTP exchange it came from, and proof
that its bytes are the ones fetched (`portal-archive verify`)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import zlib
from pathlib import Path

from archive.samples.server import SampleSite
from tests.conftest import cli, rows


def test_every_page_keeps_its_http_exchange_and_digest(crawled: Path, sample_site: SampleSite) -> None:
    pages = rows(crawled, "select url, fetched_from, raw_html, sha256, http from pages")
    assert pages
    for page in pages:
        assert page["sha256"] == hashlib.sha256(zlib.decompress(page["raw_html"])).hexdigest()
        http = json.loads(page["http"])
        sent = dict(http["request"]["headers"])
        assert http["request"]["url"] == page["fetched_from"] and http["request"]["method"] == "GET"
        assert sent["User-Agent"].startswith("portal-archive/")
        assert http["status"] == 200 and http["protocol"].startswith("HTTP/") and http["ip"] == "127.0.0.1"
        received = {name.lower(): value for name, value in http["headers"]}
        assert received["content-type"].startswith("text/html") and "etag" in received


def _flip(db: Path, url: str, compressed: bool) -> None:
    conn = sqlite3.connect(db)
    (blob,) = conn.execute("select raw_html from pages where url = ?", [url]).fetchone()
    if compressed:  # the stored bytes themselves rot: zlib cannot even read them
        blob = blob[:10] + bytes([blob[10] ^ 0xFF]) + blob[11:]
    else:  # one byte of the page changed, stored as cleanly as the rest
        raw = bytearray(zlib.decompress(blob))
        raw[len(raw) // 2] ^= 0x01
        blob = zlib.compress(bytes(raw))
    conn.execute("update pages set raw_html = ? where url = ?", [blob, url])
    conn.commit()
    conn.close()


def test_verify_finds_a_flipped_byte(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    media = db.with_name("archive-media.db")
    shutil.copy(crawled.with_name("archive-media.db"), media)
    total = rows(db, "select count(*) from pages")[0][0] + rows(media, "select count(*) from media")[0][0]
    assert rows(media, "select count(*) from media")[0][0] > 0
    clean = json.loads(cli("verify", "--db", str(db), "--json").stdout)
    assert clean == {"checked": total, "undigested": 0, "failed": []}
    urls = [r["url"] for r in rows(db, "select url from pages order by url limit 2")]
    _flip(db, urls[0], compressed=False)
    _flip(db, urls[1], compressed=True)
    found = cli("verify", "--db", str(db), check=False)
    assert found.returncode == 1
    assert sorted(line.split(": ", 1)[1] for line in found.stdout.splitlines() if line.startswith("changed")) == urls
    assert f"{total} stored pages and media files checked, 2 changed" in found.stdout
    only = cli("verify", "--db", str(db), "--portal", "nowhere", "--json").stdout
    assert json.loads(only)["checked"] == 0
    conn = sqlite3.connect(media)  # a photo rots in the media file
    (digest, source) = conn.execute("select sha256, source_url from media limit 1").fetchone()
    conn.execute("update media set bytes = substr(bytes, 1, 20) || x'00' || substr(bytes, 22) where sha256 = ?",
                 [digest])
    conn.commit()
    conn.close()
    found = cli("verify", "--db", str(db), check=False)
    assert found.returncode == 1 and f"changed since it was fetched: {source}" in found.stdout

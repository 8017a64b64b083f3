"""`portal-archive export warc|wacz`: files other archives can take, checked with warcio's checker and
`wacz validate`, and replayed with pywb on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT, cli, rows
from tests.support.servers import child_server, free_port

BIN = Path(sys.executable).parent
PYWB = ROOT / ".venv-pywb" / "bin"  # made by `make test` (pywb pins redis 2: it has a virtualenv of its own)


def _records(warc: Path) -> list:
    with warc.open("rb") as stream:
        return [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(stream)]


def test_export_warc_writes_every_page_with_its_request_and_passes_warcio_check(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    shutil.copy(crawled.with_name("archive-media.db"), tmp_path / "archive-media.db")
    first, second = [r["url"] for r in rows(db, "select url from pages order by url limit 2")]
    conn = sqlite3.connect(db)  # the same payload under two addresses: the second is a revisit
    conn.execute("update pages set raw_html = (select raw_html from pages where url = ?), sha256 = "
                 "(select sha256 from pages where url = ?) where url = ?", [first, first, second])
    conn.commit()
    conn.close()
    warc = tmp_path / "out.warc.gz"
    done = json.loads(cli("export", "warc", str(warc), "--db", str(db), "--operator", "test", "--json").stdout)
    pages = rows(db, "select url, raw_html, http from pages")
    assert done["pages"] == len(pages) and done["revisits"] == 1 and done["requests"] == len(pages)
    checked = subprocess.run([str(BIN / "warcio"), "check", str(warc)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    records = _records(warc)
    assert records[0][0] == "warcinfo" and b"portal-archive/" in records[0][3] and b"operator: test" in records[0][3]
    assert all(h.protocol == "WARC/1.1" for _, h, _, _ in records)
    responses = {h.get_header("WARC-Target-URI"): (http, body) for kind, h, http, body in records if kind == "response"}
    revisit = next(h for kind, h, _, _ in records if kind == "revisit")  # the later of the two in the export
    again, original = revisit.get_header("WARC-Target-URI"), revisit.get_header("WARC-Refers-To-Target-URI")
    assert {again, original} == {first, second}
    for page in pages:
        if page["url"] == again:
            continue
        http, body = responses[page["url"]]  # under the portal's address, with the bytes as fetched
        assert body == zlib.decompress(page["raw_html"])
        assert http.get_header("Content-Length") == str(len(body)) and http.get_header("ETag")
    requests = [(h, http) for kind, h, http, _ in records if kind == "request"]
    assert all(http.get_header("User-Agent").startswith("portal-archive/") and h.get_header("WARC-Concurrent-To")
               for h, http in requests)
    assert revisit.get_header("WARC-Profile").endswith("identical-payload-digest")
    media = {r["source_url"]: r["bytes"] for r in rows(tmp_path / "archive-media.db", "select * from media")}
    assert done["media"] == len(media) > 0  # every photo and document, each once
    for source, body in media.items():
        http, payload = responses[source]
        assert payload == body and http.get_header("Content-Type") in ("image/jpeg", "application/pdf")
    bad = cli("export", "pdf", str(tmp_path / "x"), "--db", str(db), check=False)
    assert bad.returncode == 2 and "pdf" in bad.stderr


def test_export_wacz_validates_and_pywb_replays_an_article_byte_for_byte(crawled: Path, tmp_path: Path) -> None:
    wacz = tmp_path / "mongcai.wacz"
    done = json.loads(cli("export", "wacz", str(wacz), "--db", str(crawled), "--portal", "mongcai", "--json").stdout)
    assert done["pages"] == rows(crawled, "select count(*) from articles where portal = 'mongcai'")[0][0]
    valid = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(wacz)], capture_output=True, text=True)
    assert valid.returncode == 0 and "valid" in valid.stdout, valid.stdout + valid.stderr
    assert (PYWB / "wayback").exists(), "pywb is missing: `make test` installs it into .venv-pywb"
    home = tmp_path / "pywb"
    home.mkdir()
    for step in (["init", "portals"], ["add", "--unpack-wacz", "portals", str(wacz)]):
        subprocess.run([str(PYWB / "wb-manager"), *step], cwd=home, check=True, capture_output=True)
    page = rows(crawled, "select url, raw_html from pages join articles using (url) where portal = 'mongcai' "
                         "order by url limit 1")[0]
    port = free_port()
    replay = f"http://127.0.0.1:{port}/portals/2100id_/{page['url']}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    with (child_server([str(PYWB / "wayback"), "-p", str(port), "-b", "127.0.0.1"], answers, 60, cwd=home),
          urllib.request.urlopen(replay, timeout=30) as response):
        got = response.read()
        encoding = response.headers.get("Content-Encoding")
    got = gzip.decompress(got) if encoding == "gzip" else got
    want = zlib.decompress(page["raw_html"])
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()

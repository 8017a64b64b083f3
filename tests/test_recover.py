"""`portal-archive recover`: a retired portal's news from the Wayback Machine (its twin on 127.0.0.1) and
from WARC/WACZ files written here with warcio."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.samples.wayback import Capture, WaybackTwin, moment
from tests.conftest import ROOT, cli, rows

PORTAL = "halong"
FAST = ["--cdx-per-minute", "60", "--mementos-per-minute", "600"]  # the service's own limits, for speed


def recover(twin: WaybackTwin, db: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return cli("recover", PORTAL, "--from", "wayback", "--wayback", twin.url, "--db", str(db), "--json",
               "--log-level", "WARNING", "--workers", "0", *extra, check=check)


def texts(captures: list[Capture]) -> int:
    """The distinct texts a URL's captures hold, one per change (what becomes versions)."""
    digests = [c.digest for c in captures]
    return sum(1 for n, d in enumerate(digests) if n == 0 or d != digests[n - 1])


def archived(db: Path) -> dict[str, int]:
    return {r["url"]: r["version"] for r in rows(db, "select url, version from articles")}


def test_cdx_twin_answers_as_the_real_api() -> None:
    with WaybackTwin() as twin:
        base = f"{twin.url}/cdx/search/cdx?url=halong.gov.vn/vi-vn/tin/&matchType=prefix"
        plain = urllib.request.urlopen(base + "&limit=3&showResumeKey=true").read().decode()
        lines, key = plain.split("\n\n")
        assert len(lines.splitlines()) == 3 and len(lines.splitlines()[0].split(" ")) == 7 and key.strip()
        rest = json.load(urllib.request.urlopen(f"{base}&output=json&resumeKey={key.strip()}"))
        assert rest[0][:3] == ["urlkey", "timestamp", "original"] and f"{rest[1][1]} {rest[1][2]}" not in lines
        everything = json.load(urllib.request.urlopen(base + "&output=json"))[1:]
        assert len(everything) == 3 + len(rest) - 1
        ok = json.load(urllib.request.urlopen(base + "&output=json&filter=statuscode:200&collapse=digest"))[1:]
        assert all(r[4] == "200" for r in ok) and len(ok) < len(everything)
        pages = int(urllib.request.urlopen(base + "&showNumPages=true").read())
        assert pages >= 1


def test_recover_archives_every_capturable_article_once_within_the_limits(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with WaybackTwin(count=12) as twin:
        twin.storm("memento", after=4, answers=2, retry_after=1)  # a 429 storm, waited out
        done = recover(twin, db)  # the Internet Archive's limits: 24 CDX and 480 memento requests a minute
        reachable = twin.reachable(PORTAL)
        hits, violations = list(twin.hits), twin.violations
    result = json.loads(done.stdout)
    assert result["status"] == "finished" and result["waited"] >= 2
    assert violations == 0  # every 429 waited out
    got = archived(db)
    assert set(got) == set(reachable)  # every capturable article, each once, under its portal address
    assert got == {url: texts(captures) for url, captures in reachable.items()}  # a version per distinct text
    assert any(v > 1 for v in got.values())
    assert result["missing"] >= 1  # linked from a listing, never captured
    cdx = [h.at for h in hits if h.kind == "cdx"]
    mementos = [h.at for h in hits if h.kind == "memento"]
    assert len(cdx) >= 2 and all(b - a >= 60 / 24 - 0.05 for a, b in pairwise(cdx))
    # At most 480 a minute: any nine mementos in a row span at least eight intervals of 1/8 s.
    assert all(mementos[n + 8] - mementos[n] >= 8 * 60 / 480 - 0.05 for n in range(len(mementos) - 8))
    pages = rows(db, "select fetched_from, captured_at from pages")
    assert all(p["fetched_from"].startswith(twin.url + "/web/") and "id_/" in p["fetched_from"] for p in pages)
    assert all(p["captured_at"].endswith("+00:00") for p in pages)
    run = rows(db, "select source, status, through from crawl_runs order by id desc limit 1")[0]
    assert (run["source"], run["status"]) == ("wayback", "finished") and run["through"]
    status = cli("status", "--db", str(db)).stdout
    assert f"recovered {len(reachable)} articles" in status


def test_a_second_recovery_asks_only_for_new_captures(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with WaybackTwin(count=8) as twin:
        recover(twin, db, *FAST)
        before = archived(db)
        first_hits = len(twin.hits)
        edited = rows(db, "select url from articles limit 1")[0]["url"]
        article_id = int(edited.rsplit("-n", 1)[1])
        twin.add(PORTAL, article_id, moment(max(c.served for c in twin.captures)).replace(year=2026))
        again = json.loads(recover(twin, db, *FAST).stdout)
        later = twin.hits[first_hits:]
    assert again["status"] == "finished" and again["captures"] == 1 and again["changed"] == 1
    assert [h.kind for h in later].count("memento") == 1  # only the new capture is fetched
    assert all("from=" in h.target for h in later if h.kind == "cdx")  # newer than the last complete run
    assert archived(db) == {**before, edited: before[edited] + 1}


def test_a_killed_recovery_goes_on_where_it_stopped(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with WaybackTwin(count=24) as twin:
        args = [sys.executable, "-m", "portal_archive", "recover", PORTAL, "--from", "wayback", "--wayback", twin.url,
                "--db", str(db), "--workers", "0", "--cdx-per-minute", "60", "--mementos-per-minute", "120"]
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=os.environ.copy())
        deadline = time.monotonic() + 120
        while not db.exists() or not rows(db, "select count(*) from sqlite_master where name = 'captures'")[0][0] \
                or rows(db, "select count(*) from captures")[0][0] < 3:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kept = {(r["url"], r["timestamp"]) for r in rows(db, "select url, timestamp from captures")}
        start = len(twin.hits)
        recover(twin, db, *FAST)
        refetched = [h.target for h in twin.hits[start:] if h.kind == "memento"]
        reachable = twin.reachable(PORTAL)
    assert set(archived(db)) == set(reachable)
    assert archived(db) == {url: texts(captures) for url, captures in reachable.items()}
    assert not [t for t in refetched if any(f"/web/{ts}id_/" in t and t.endswith(url.split("/", 3)[3])
                                            for url, ts in kept)]  # nothing archived before is fetched again


def _warc(path: Path, captures: list[Capture], gzip: bool = True) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        first: dict[str, tuple[str, str]] = {}
        for c in captures:
            http = StatusAndHeaders(f"{c.status} {'OK' if c.status == 200 else 'Not Found'}",
                                    [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            date = moment(c.served).strftime("%Y-%m-%dT%H:%M:%SZ")
            if c.digest in first and c.status == 200:  # the same payload again: a revisit, as crawlers write
                record = writer.create_revisit_record(c.original, "sha1:" + c.digest, *first[c.digest],
                                                      http_headers=http, warc_headers_dict={"WARC-Date": date})
            else:
                record = writer.create_warc_record(c.original, "response", payload=io.BytesIO(c.body),
                                                   http_headers=http, warc_headers_dict={"WARC-Date": date})
                first.setdefault(c.digest, (c.original, date))
            writer.write_record(record)


def test_warc_and_wacz_files_are_imported_once(tmp_path: Path) -> None:
    twin = WaybackTwin(count=12)
    captures = sorted(twin.captures, key=lambda c: c.served)
    half = len(captures) // 2
    warc, wacz = tmp_path / "crawl.warc.gz", tmp_path / "crawl.wacz"
    _warc(warc, captures[:half])
    _warc(tmp_path / "rest.warc", captures[half:], gzip=False)
    with zipfile.ZipFile(wacz, "w") as packed:
        packed.write(tmp_path / "rest.warc", "archive/rest.warc")
        packed.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": []}))
        packed.writestr("pages/pages.jsonl", '{"format": "json-pages-1.0"}\n')
    db = tmp_path / "archive.db"
    first = json.loads(cli("recover", PORTAL, str(warc), str(wacz), "--from", "warc", "--db", str(db), "--json",
                           "--workers", "0").stdout)
    family, origin = twin.families[PORTAL], "https://halong.gov.vn"
    articles = {}
    for c in captures:
        if c.status == 200 and family.is_article(c.original[len(origin):]):
            articles.setdefault(c.original, []).append(c)
    assert archived(db) == {url: texts(caps) for url, caps in articles.items()}
    assert first["revisits"] >= 1 and first["not_ok"] >= 1  # handled, not crashed on
    pages = rows(db, "select fetched_from, captured_at from pages")
    assert all("#offset=" in p["fetched_from"] for p in pages)
    assert any("crawl.wacz!/archive/rest.warc" in p["fetched_from"] for p in pages)
    again = json.loads(cli("recover", PORTAL, str(warc), str(wacz), "--from", "warc", "--db", str(db), "--json",
                           "--workers", "0").stdout)
    assert again["new"] == again["changed"] == 0
    assert again["done_before"] == first["new"] + first["changed"] + first["unchanged"]


@pytest.mark.parametrize("content", [b"not a warc at all\n" * 50, b"\x1f\x8b\x08\x00broken gzip"])
def test_a_file_that_is_not_a_warc_ends_in_one_line_and_keeps_the_archive(tmp_path: Path, content: bytes) -> None:
    db, good, bad = tmp_path / "archive.db", tmp_path / "good.warc.gz", tmp_path / "bad.warc.gz"
    _warc(good, WaybackTwin(count=4).captures)
    bad.write_bytes(content)
    done = cli("recover", PORTAL, str(good), str(bad), "--from", "warc", "--db", str(db), check=False)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()
    assert len(last) == 1 and str(bad.name) in last[0] and "WARC" in last[0]
    assert rows(db, "select count(*) from articles")[0][0] > 0  # the good file's articles are kept


def test_recover_refuses_wrong_arguments_in_one_line(tmp_path: Path) -> None:
    for args, why in ((["--from", "warc"], "needs one or more WARC"), (["--from", "wayback", "--wayback", "ftp://x"],
                                                                      "expected an http(s) URL")):
        done = cli("recover", PORTAL, *args, "--db", str(tmp_path / "a.db"), check=False)
        assert done.returncode == 2 and why in done.stderr

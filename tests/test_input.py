"""Bad input ends in one line, never a traceback, never a write; archives of another release or
altered by hand are refused or migrated, never silently rebuilt; read-only archives are archives too."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import lock
from archive.db import SCHEMA_VERSION
from archive.samples.server import SampleSite
from tests.conftest import cli, rows
from tests.support.servers import serving


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def usage_error(result: subprocess.CompletedProcess[str]) -> str:
    """A usage error: click's usage lines, then the one line that says what is wrong."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.returncode == 2 and len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


@pytest.mark.parametrize("origin", ["mongcai=http://[::1", "mongcai=http://", "mongcai=http://127.0.0.1:99999",
                                    "mongcai=ftp://127.0.0.1:8000", "mongcai"])
def test_a_bad_origin_is_refused_before_anything_is_written(tmp_path: Path, origin: str) -> None:
    db = tmp_path / "a.db"
    result = cli("crawl", "mongcai", "--db", str(db), "--origin", origin, check=False)
    assert "--origin" in usage_error(result)
    assert not db.exists()


@pytest.mark.parametrize("delay", ["-5", "nan", "inf", "soon"])
def test_a_bad_delay_is_refused(tmp_path: Path, delay: str) -> None:
    result = cli("crawl", "mongcai", "--db", str(tmp_path / "a.db"), "--delay", delay, check=False)
    assert "--delay" in usage_error(result)
    assert not (tmp_path / "a.db").exists()


def test_an_unusable_log_folder_is_one_line(tmp_path: Path) -> None:
    result = cli("crawl", "mongcai", "--db", str(tmp_path / "a.db"), "--log-dir", "/proc/nope", check=False)
    assert result.returncode == 1 and "/proc/nope" in one_line(result)
    assert not (tmp_path / "a.db").exists()


def test_a_missing_profiles_folder_is_named(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "PORTAL_ARCHIVE_PROFILES": "/nonexistent"}
    result = cli("crawl", "--db", str(tmp_path / "a.db"), check=False, env=env)
    assert result.returncode == 1
    assert one_line(result) == "Error: /nonexistent: no such folder of portal profiles (PORTAL_ARCHIVE_PROFILES)"


def test_merging_into_an_archive_that_cannot_be_written_is_one_line(crawled: Path, tmp_path: Path) -> None:
    shard = tmp_path / "shard.db"
    shutil.copy(crawled, shard)
    result = cli("merge", str(shard), "--into", "/proc/archive.db", check=False)
    assert result.returncode == 1 and "/proc/archive.db" in one_line(result)


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the page is empty"),
    (b"%PDF-1.4\n" + bytes(range(256)) * 8, "a PDF, not an HTML page"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary data, not an HTML page"),
    ("<html><body><p>Trang chủ</p></body></html>".encode(), "no article text found"),
])
def test_extract_of_a_page_the_crawl_would_skip_says_why(tmp_path: Path, content: bytes, reason: str) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(content)
    result = cli("extract", str(page), "--url", "https://mongcai.gov.vn/vi-vn/tin/a-p1-c2-n3", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert one_line(result) == f"Error: {page}: {reason}"


def test_extract_reads_a_bounded_amount() -> None:
    result = cli("extract", "/dev/zero", "--url", "https://mongcai.gov.vn/x", check=False, timeout=60)
    assert result.returncode == 1 and "larger than 20 MiB" in one_line(result)


def test_a_search_of_thousands_of_words_is_refused(crawled: Path) -> None:
    result = cli("search", " ".join(["dang", "uy"] * 2000), "--db", str(crawled), check=False, timeout=60)
    assert "search query too long" in usage_error(result)


@pytest.mark.parametrize("query", ["*", "'", "%", "\\"])
def test_a_search_for_no_word_finds_nothing_on_the_cli_and_in_datasette(crawled: Path, query: str) -> None:
    result = cli("search", query, "--db", str(crawled), "--json")
    assert result.stdout == ""
    import urllib.parse
    import urllib.request

    with serving(crawled) as base:
        url = f"{base}/archive/articles.json?_shape=array&" + urllib.parse.urlencode({"_search": query})
        assert json.load(urllib.request.urlopen(url)) == []


def test_reextract_while_a_crawl_writes_is_refused_with_75(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    lock.acquire(db)  # as a crawl in another process would hold it
    try:
        result = cli("reextract", "--db", str(db), check=False)
    finally:
        lock.release(db)
    assert result.returncode == 75 and "another crawl is writing this archive" in one_line(result)


# Archives from another release, or altered by hand. ----------------------------------------------------
@pytest.fixture
def archive_copy(crawled: Path, tmp_path: Path) -> Path:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    return db


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_the_archive_records_its_schema_version(archive_copy: Path) -> None:
    assert rows(archive_copy, "pragma user_version")[0][0] == SCHEMA_VERSION > 0


@pytest.mark.parametrize("command", [["status"], ["search", "dang uy"], ["crawl", "mongcai"], ["serve"],
                                     ["reextract"]])
def test_an_archive_of_a_newer_release_is_refused_in_one_line(archive_copy: Path, command: list[str]) -> None:
    _sql(archive_copy, f"pragma user_version = {SCHEMA_VERSION + 1}", "create table future_things (x)")
    before = archive_copy.read_bytes()
    result = cli(command[0], *command[1:], "--db", str(archive_copy), check=False)
    assert result.returncode == 1 and "written by a newer portal-archive" in one_line(result)
    assert archive_copy.read_bytes() == before


@pytest.mark.parametrize("command", [["status"], ["crawl", "mongcai"]])
def test_a_dropped_table_is_never_silently_recreated(archive_copy: Path, command: list[str]) -> None:
    _sql(archive_copy, "drop table crawl_runs")
    result = cli(command[0], *command[1:], "--db", str(archive_copy), check=False)
    assert result.returncode == 1 and "table crawl_runs missing (dropped?)" in one_line(result)
    assert "crawl_runs" not in {r[0] for r in rows(archive_copy, "select name from sqlite_master")}


def test_an_older_archive_is_migrated_when_written(archive_copy: Path, sample_site: SampleSite) -> None:
    """An archive of schema 0 (before versions were kept, before the retry schedule) is brought up to date."""
    _sql(archive_copy, "pragma user_version = 0", "drop table retries", "alter table crawl_runs drop column retrying")
    count = rows(archive_copy, "select count(*) from articles")[0][0]
    status = cli("status", "--db", str(archive_copy))  # reading it changes nothing
    assert "mongcai" in status.stdout and rows(archive_copy, "pragma user_version")[0][0] == 0
    cli("crawl", "mongcai", "--db", str(archive_copy), "--delay", "0",
        f"--origin=mongcai={sample_site.origins['mongcai']}")
    assert rows(archive_copy, "pragma user_version")[0][0] == SCHEMA_VERSION
    assert rows(archive_copy, "select count(*) from retries")[0][0] == 0
    assert rows(archive_copy, "select count(*) from articles")[0][0] == count


# Read-only copies. ---------------------------------------------------------------------------------
@pytest.fixture
def read_only_copy(crawled: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy on nothing anyone may write: the file and its folder immutable (chattr +i, as root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "archive.db"
    shutil.copy(crawled, db)
    subprocess.run(["chattr", "+i", str(db), str(folder)], check=True)
    try:
        yield db
    finally:
        subprocess.run(["chattr", "-i", str(db), str(folder)], check=True)


def test_a_read_only_archive_can_be_searched_served_and_asked_for_status(read_only_copy: Path) -> None:
    import urllib.request

    assert "mongcai:" in cli("status", "--db", str(read_only_copy)).stdout
    hits = cli("search", "dang uy", "--db", str(read_only_copy), "--json").stdout.splitlines()
    assert hits
    with serving(read_only_copy) as base:
        articles = json.load(urllib.request.urlopen(f"{base}/archive/articles.json?_shape=array&_search=dang+uy"))
        assert articles
        snapshot = urllib.request.urlopen(f"{base}/archive.db").read()
        assert snapshot.startswith(b"SQLite format 3")
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == ["archive.db"]  # nothing written beside it


def test_writing_to_a_read_only_archive_is_refused_in_one_line(read_only_copy: Path) -> None:
    result = cli("crawl", "mongcai", "--db", str(read_only_copy), "--origin=mongcai=http://127.0.0.1:9",
                 check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr

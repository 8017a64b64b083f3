"""A full disk or a read-only archive: one clear error, a non-zero exit, and the archive intact.

Both need root (a tiny tmpfs, an immutable file): skipped on a developer's machine without it,
never in CI, which runs as root.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.samples.server import SampleSite
from tests.conftest import cli, crawl_args, rows

if os.geteuid() != 0:
    if os.environ.get("CI"):
        raise RuntimeError("CI runs as root: these tests must run there")
    pytest.skip("needs root to mount a small tmpfs and make a file immutable", allow_module_level=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("media", [False, True])
def test_a_full_disk_stops_the_crawl_with_a_clear_error(sample_site: SampleSite, small_disk: Path,
                                                        media: bool) -> None:
    db = small_disk / "archive.db"
    result = cli(*crawl_args(sample_site, db), *([] if media else ["--no-media"]), check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "database or disk is full" in last and ("cannot write the" in last)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    articles = conn.execute("select count(*) from articles").fetchone()[0]
    assert articles < len(sample_site.expected())
    if not media:  # with photos, the media file may fill the disk before the first batch of articles
        assert articles > 0
    else:
        assert "archive-media.db" in last or "cannot write the archive" in last
    assert conn.execute("select count(*) from pages").fetchone()[0] == articles
    conn.close()


def test_a_read_only_archive_is_refused_before_any_fetch(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    sqlite3.connect(db).execute("pragma wal_checkpoint(truncate)").close()
    before, count = db.read_bytes(), rows(db, "select count(*) from articles")[0][0]
    subprocess.run(["chattr", "+i", str(db)], check=True)
    try:
        result = cli("crawl", "mongcai", "--db", str(db), "--origin=mongcai=http://127.0.0.1:9", check=False)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write the archive" in lines[0], result.stderr
    assert db.read_bytes() == before
    assert rows(db, "select count(*) from articles")[0][0] == count

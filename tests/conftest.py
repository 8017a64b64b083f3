"""Shared fixtures: the sample portals served on 127.0.0.1, and one archive crawled from them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.samples.server import SampleSite

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, check: bool = True, timeout: float = 300, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run `portal-archive ARGS` in a fresh process, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "portal_archive", *args], capture_output=True, text=True, timeout=timeout,
        cwd=ROOT, env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"portal-archive {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def crawl_args(site: SampleSite, db: Path, *portals: str) -> list[str]:
    names = portals or tuple(site.origins)
    origins = [f"--origin={name}={site.origins[name]}" for name in names]
    return ["crawl", *names, "--db", str(db), "--delay", "0", "--log-level", "WARNING", *origins]


def rows(db: Path, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def sample_site() -> Iterator[SampleSite]:
    with SampleSite(count=30) as site:
        yield site


@pytest.fixture(scope="session")
def crawled(sample_site: SampleSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive holding one full crawl of the three sample portals."""
    db = tmp_path_factory.mktemp("crawl") / "archive.db"
    cli(*crawl_args(sample_site, db))
    return db

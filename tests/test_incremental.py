"""Nightly crawls: only what is new, edits kept as versions, removals marked, kills survived."""

from __future__ import annotations

import json
import math
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import lock
from archive.samples.server import SampleSite
from archive.samples.site import EPOCH
from tests.conftest import ROOT, cli, crawl_args, rows

# "Now" for re-checks: a day after the newest sample article, so the last few days' articles are young.
SOON = (EPOCH.replace(hour=23)).isoformat()


@pytest.fixture
def site() -> Iterator[SampleSite]:
    with SampleSite(count=80) as running:
        yield running


def article_hits(site: SampleSite) -> list[tuple[str, str, int]]:
    """(portal, path, status) of every article page request so far."""
    return [(name, hit.path, hit.status) for name, running in site.running.items()
            for hit in running.hits if running.family.is_article(hit.path)]


def hit_counts(site: SampleSite) -> dict[str, int]:
    return {name: len(running.hits) for name, running in site.running.items()}


def new_hits(site: SampleSite, before: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(name, h.path, h.status) for name, running in site.running.items()
            for h in running.hits[before[name]:]]


def is_article(site: SampleSite, portal: str, path: str) -> bool:
    return site.running[portal].family.is_article(path)


def stored(db: Path) -> dict[str, dict]:
    return {r["url"]: dict(r) for r in rows(db, "select * from articles")}


def test_a_first_crawl_walks_the_pager_not_only_next(site: SampleSite, tmp_path: Path) -> None:
    # Nothing archived yet, so the walk goes to the end: it follows every page the pager links (here
    # 1, 2, 3 and the last from page 1) instead of waiting for page N to learn of page N + 1.
    cli(*crawl_args(site, tmp_path / "archive.db"))
    for name, running in site.running.items():
        family = running.family
        walked = [h.path for h in running.hits if h.path.startswith(family.listing) and h.status == 200]
        last = math.ceil(len(family.twin.article_ids()) / family.page_size)
        pages = [family.listing_path(page) for page in range(1, last + 1)]
        assert sorted(walked) == sorted(pages), (name, walked)  # each listing page once
        assert walked.index(pages[-1]) < walked.index(pages[3]), (name, walked)


def test_nightly_runs_fetch_only_what_is_new(site: SampleSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli(*crawl_args(site, db))
    assert sorted(stored(db)) == sorted(e["url"] for e in site.expected())
    first_night = sum(e["portal"] == "mongcai" for e in site.expected())

    # Between two nights each portal publishes three articles.
    for twin in site.twins.values():
        twin.publish(3)
    before = hit_counts(site)
    cli(*crawl_args(site, db))
    archived = stored(db)
    assert sorted(archived) == sorted(e["url"] for e in site.expected())
    fetched = [(p, path, status) for p, path, status in new_hits(site, before) if is_article(site, p, path)]
    assert len(fetched) == 3 * len(site.twins) and all(status == 200 for _, _, status in fetched)
    # The walk stopped early: the page with the new articles, the first all-old one, one page of overlap.
    for name, running in site.running.items():
        family = running.family
        walked = [h.path for h in running.hits[before[name]:] if h.path.startswith(family.listing)]
        assert walked == [family.listing_path(page) for page in (1, 2, 3)], (name, walked)

    # A night where nothing changed: listing pages (and feeds, sitemaps, robots.txt) only.
    before = hit_counts(site)
    result = cli(*crawl_args(site, db))
    assert not [h for h in new_hits(site, before) if is_article(site, h[0], h[1])]
    assert all(0 < len(site.running[n].hits) - before[n] <= 6 for n in before), new_hits(site, before)
    assert "finished" in result.stdout
    runs = rows(db, "select portal, status, new from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["finished"] * 3 * len(site.twins)  # three nights
    assert [r["new"] for r in runs if r["portal"] == "mongcai"] == [first_night, 3, 0]


def test_edits_become_versions_and_removals_get_gone_at(site: SampleSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli(*crawl_args(site, db))
    twin = site.twins["mongcai"]
    young, removed = twin.articles()[0], twin.articles()[1]
    old = twin.articles()[-1]  # the oldest: outside the re-check window
    urls = {e["title"] + e["published"]: e["url"] for e in site.expected()}
    young_url = urls[young.title + young.published.isoformat()]
    removed_url = urls[removed.title + removed.published.isoformat()]
    old_url = urls[old.title + old.published.isoformat()]
    before_text = stored(db)[young_url]["text"]
    twin.edit(young.id)
    twin.edit(old.id)
    twin.remove(removed.id)

    result = cli(*crawl_args(site, db, "mongcai"), f"--now={SOON}")
    archived = stored(db)
    assert archived[young_url]["version"] == 2
    assert archived[young_url]["text"].endswith("(Bài viết được cập nhật lần 1.)")
    versions = rows(db, "select * from article_versions where url = ?", (young_url,))
    assert len(versions) == 1 and versions[0]["version"] == 1 and versions[0]["text"] == before_text
    assert archived[removed_url]["gone_at"] and archived[removed_url]["text"]  # kept, marked
    assert archived[old_url]["version"] == 1  # not young: not re-checked in a nightly run
    assert re.search(r"mongcai\s+\d+\s+0\s+1\s+1", result.stdout), result.stdout
    # Unchanged young articles were asked for conditionally and answered 304.
    assert any(status == 304 for _, _, status in article_hits(site))

    cli(*crawl_args(site, db, "mongcai"), "--full")
    archived = stored(db)
    assert archived[old_url]["version"] == 2 and "cập nhật lần 1" in archived[old_url]["text"]
    assert rows(db, "select count(*) from article_versions")[0][0] == 2
    assert archived[removed_url]["gone_at"]


def test_since_bounds_a_backfill(site: SampleSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli(*crawl_args(site, db), "--since=2025-06-25")
    want = {e["url"] for e in site.expected() if e["published"] >= "2025-06-25"}
    assert want and set(stored(db)) == want


def test_a_second_concurrent_crawl_is_refused(site: SampleSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli(*crawl_args(site, db, "mongcai"))
    before = db.read_bytes()
    lock.acquire(db)  # a crawl in progress
    try:
        result = cli(*crawl_args(site, db), check=False)
    finally:
        lock.release(db)
    assert result.returncode == 75
    assert "another crawl is writing this archive" in result.stderr
    assert db.read_bytes() == before


def test_a_killed_crawl_resumes_without_losing_or_duplicating(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with SampleSite(count=150) as site:
        args = [sys.executable, "-m", "portal_archive", *crawl_args(site, db)]
        args[args.index("0")] = "0.01"  # --delay: slow enough to be caught mid-way
        at_kill = []
        for threshold in (40, 160, 300):
            process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if db.exists() and _count(db) >= threshold:
                    break
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait()
            at_kill.append(_count(db))
        cli(*crawl_args(site, db))
        expected = sorted(e["url"] for e in site.expected())
    assert all(0 < n < len(expected) for n in at_kill), at_kill  # every kill came mid-way
    assert sorted(stored(db)) == expected
    assert rows(db, "select count(*) from articles")[0][0] == len(expected)
    assert rows(db, "pragma integrity_check")[0][0] == "ok"
    statuses = [r["status"] for r in rows(db, "select status from crawl_runs order by id")]
    assert statuses[-3:] == ["finished"] * 3 and statuses.count("interrupted") >= 3  # the killed runs
    report = cli("status", "--db", str(db))
    assert "interrupted" in report.stdout


def _count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("select count(*) from articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_status_flags_broken_portals(site: SampleSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli(*crawl_args(site, db))
    healthy = cli("status", "--db", str(db))
    assert healthy.returncode == 0 and "!" not in healthy.stdout
    # The mongcai profile pointed at a site whose pages no longer look like it (a redesign).
    cli("crawl", "mongcai", "--db", str(db), "--delay", "0", "--log-level", "ERROR",
        f"--origin=mongcai={site.origins['quangninh']}", check=False)
    report = cli("status", "--db", str(db), "--json", check=False)
    mongcai = next(r for r in json.loads(report.stdout) if r["portal"] == "mongcai")
    assert any("no article link" in flag for flag in mongcai["flags"])
    # A dead portal: the run failed outright, and status exits non-zero.
    from tests.support.servers import free_port

    cli("crawl", "quangninh", "--db", str(db), "--delay", "0", "--log-level", "ERROR",
        f"--origin=quangninh=http://127.0.0.1:{free_port()}", check=False)
    failed = cli("status", "--db", str(db), check=False)
    assert failed.returncode == 1 and "failed outright" in failed.stdout


def test_twenty_kills_at_random_moments_lose_nothing(tmp_path: Path) -> None:
    """SIGKILL a crawl twenty times, at moments drawn at random, then let one run finish."""
    import random

    db = tmp_path / "archive.db"
    chance = random.Random(7)
    with SampleSite(count=60) as site:
        args = [sys.executable, "-m", "portal_archive", *crawl_args(site, db)]
        args[args.index("0")] = "0.01"
        kills = 0
        while kills < 20:
            process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chance.uniform(0.2, 2.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
        cli(*crawl_args(site, db))
        expected = sorted(e["url"] for e in site.expected())
    assert sorted(stored(db)) == expected
    assert rows(db, "select count(*) from pages")[0][0] == len(expected)
    assert rows(db, "pragma integrity_check")[0][0] == "ok"
    conn = sqlite3.connect(db)
    conn.execute("insert into articles_fts(articles_fts) values('integrity-check')")
    conn.close()

"""Nothing lost: a run that could not read a discovery page, or write an article, is never called
complete, and keeps everything else."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from archive.samples.server import SampleSite
from tests.conftest import cli, crawl_args, rows
from tests.support.faults import BombedListing, RedesignedCity


def test_a_gzip_bomb_listing_leaves_the_run_incomplete_and_its_articles_are_found_later(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with SampleSite(count=40, families={"mongcai": BombedListing}) as site:
        family = site.running["mongcai"].family
        first = cli(*crawl_args(site, db, "mongcai"), "--json")
        summary = json.loads(first.stdout.splitlines()[0])
        assert summary["status"] == "partial" and summary["errors"] >= 1  # not "finished", not "ignored"
        assert "discovery page failed" in first.stderr
        expected = {e["url"] for e in site.expected() if e["portal"] == "mongcai"}
        assert 0 < len(rows(db, "select url from articles")) < len(expected)
        family.defused = True  # the next night the page reads: the walk goes past the first run's stop
        second = json.loads(cli(*crawl_args(site, db, "mongcai"), "--json").stdout.splitlines()[0])
        assert second["status"] == "finished"
        assert {r["url"] for r in rows(db, "select url from articles")} == expected


def test_an_article_the_archive_refuses_fails_loudly_and_the_others_are_kept(sample_site: SampleSite,
                                                                             tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    cli("crawl", "mongcai", "--db", str(db), "--origin", f"mongcai={sample_site.origins['mongcai']}",
        "--delay", "0", "--since", "2999-01-01")  # the schema, and no article
    expected = sorted(e["url"] for e in sample_site.expected() if e["portal"] == "mongcai")
    refused = expected[len(expected) // 2]
    conn = sqlite3.connect(db)
    conn.execute(f"create trigger refuse before insert on articles when new.url = '{refused}' "
                 "begin select raise(abort, 'refused by a trigger'); end")
    conn.commit()
    conn.close()
    result = cli(*crawl_args(sample_site, db, "mongcai"), "--json", check=False)
    assert result.returncode == 1
    assert "refused by a trigger" in result.stderr and refused in result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "Error: the archive refused 1 articles (the others are kept); see the log"
    assert sorted(r["url"] for r in rows(db, "select url from articles")) == [u for u in expected if u != refused]
    run = rows(db, "select status from crawl_runs order by id desc limit 1")[0]
    assert run["status"] == "partial"  # the next run walks past it and tries again


def test_a_redesigned_listing_falls_back_to_the_profiles_url_patterns_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with SampleSite(count=35, families={"mongcai": RedesignedCity}) as site:
        result = cli(*crawl_args(site, db, "mongcai"), "--json")
        expected = {e["url"] for e in site.expected() if e["portal"] == "mongcai"}
    assert {r["url"] for r in rows(db, "select url from articles")} == expected  # every article, all the same
    run = rows(db, "select status, listing_fallbacks from crawl_runs order by id desc limit 1")[0]
    assert json.loads(result.stdout.splitlines()[0])["new"] == len(expected)
    assert run["listing_fallbacks"] > 0
    status = cli("status", "--db", str(db))
    assert "matched none of the profile's listing selectors" in status.stdout

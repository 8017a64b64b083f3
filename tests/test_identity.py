"""An article is its address on the portal: whichever origin served it (a twin on a free port, a mirror),
it is one row under the profile's base_url, with where it came from kept as provenance."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
from pathlib import Path

from archive.db import SCHEMA_VERSION, Archive
from archive.migrate import on_portal
from archive.samples.server import SampleSite
from crawler.profile import load_profile
from tests.conftest import ROOT, cli, crawl_args, rows

V1_ARCHIVE = ROOT / "tests" / "fixtures" / "archives" / "v1-demo-twice.db.gz"


def test_crawling_from_two_twins_keeps_one_row_per_article_on_the_portals_origin(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    seen = []
    for _ in range(2):  # as `make demo` twice: the twins come up on other ports
        with SampleSite(count=4) as site:
            cli(*crawl_args(site, db))
            seen.append(({e["url"] for e in site.expected()}, dict(site.origins)))
    (first, first_origins), (second, second_origins) = seen
    assert first == second and first_origins != second_origins
    archived = rows(db, "select a.url, a.portal, p.fetched_from from articles a join pages p using (url)")
    assert sorted(r["url"] for r in archived) == sorted(first)  # the same rows, each once
    for row in archived:  # the second run fetched only what was young enough to re-check
        twin = next(o[row["portal"]] for o in (second_origins, first_origins)
                    if row["fetched_from"].startswith(o[row["portal"]] + "/"))
        assert row["url"] == on_portal(row["fetched_from"], load_profile(row["portal"]).origin)
        assert row["fetched_from"] == on_portal(row["url"], twin)
    portals = {r["name"]: (r["base_url"], r["crawled_from"]) for r in rows(db, "select * from portals")}
    assert portals == {name: (load_profile(name).base_url, second_origins[name]) for name in second_origins}


def _v1_copy(tmp_path: Path) -> Path:
    db = tmp_path / "v1.db"
    with gzip.open(V1_ARCHIVE) as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return db


def test_an_archive_of_the_last_release_is_migrated_to_portal_addresses(tmp_path: Path) -> None:
    """The file was written by the release before schema 2: `make demo` run twice, so every story twice,
    under two twins' origins."""
    db = _v1_copy(tmp_path)
    before = rows(db, "select url, portal, story, title from articles")
    assert rows(db, "pragma user_version")[0][0] == 1
    origins = {name: load_profile(name).origin for name in {r["portal"] for r in before}}
    assert not any(r["url"].startswith(origins[r["portal"]]) for r in before)
    # An edit that release recorded, under the twin's address: it must survive the move.
    edited = before[0]
    assert rows(db, "select * from pages where url = ?", (edited["url"],))
    conn = sqlite3.connect(db)
    conn.execute("insert into article_versions (url, version, title, text, content_hash, fetched_at) "
                 "values (?, 1, 'Tiêu đề cũ', 'Bản cũ', 'old-hash', '2025-01-01T00:00:00+00:00')", [edited["url"]])
    conn.execute("update articles set version = 2 where url = ?", [edited["url"]])
    conn.commit()
    conn.close()

    cli("reextract", "--db", str(db), "--workers", "0")  # any command that writes migrates the file
    after = rows(db, "select url, portal, story, version, copy_of from articles")
    assert rows(db, "pragma user_version")[0][0] == SCHEMA_VERSION >= 2
    want = {on_portal(r["url"], origins[r["portal"]]) for r in before}
    assert sorted(r["url"] for r in after) == sorted(want)  # every row under its portal URL, each once
    assert len(after) < len(before)  # the twice-fetched stories are one article each
    assert all(r["copy_of"] is None or r["copy_of"] in want for r in after)
    pages = rows(db, "select url, fetched_from from pages")
    assert {p["url"] for p in pages} == want
    assert all(p["fetched_from"].startswith("http://127.0.0.1:") for p in pages)  # where it was fetched
    target = on_portal(edited["url"], origins[edited["portal"]])
    versions = rows(db, "select url, text from article_versions where url = ?", (target,))
    assert [v["text"] for v in versions] == ["Bản cũ"]
    assert not rows(db, "select 1 from article_versions where url like 'http://127.0.0.1:%'")
    # The full-text index still finds what it found, once per story.
    title = edited["title"].split()[0]
    found = cli("search", title, "--db", str(db), "--json", "--limit", "100").stdout
    assert target in found and "127.0.0.1" not in found


def test_a_retired_portal_is_left_out_of_the_nightly_crawl(tmp_path: Path, sample_site: SampleSite) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for name in ("mongcai", "halong"):
        text = (ROOT / "crawler" / "profiles" / f"{name}.yaml").read_text("utf-8")
        if name == "halong":
            text += "\nretired: 2025-07-01\n"
        (profiles / f"{name}.yaml").write_text(text, "utf-8")
    env = {**os.environ, "PORTAL_ARCHIVE_PROFILES": str(profiles)}
    db = tmp_path / "archive.db"
    done = cli("crawl", "--db", str(db), "--delay", "0", "--log-level", "WARNING", "--json",
               f"--origin=mongcai={sample_site.origins['mongcai']}", env=env)
    assert "left out, retired (use portal-archive recover): halong" in done.stderr
    assert {r["portal"] for r in rows(db, "select distinct portal from articles")} == {"mongcai"}
    broken = profiles / "halong.yaml"
    broken.write_text(broken.read_text("utf-8").replace("retired: 2025-07-01", "retired: soon"), "utf-8")
    refused = cli("crawl", "--db", str(db), env=env, check=False)
    assert refused.returncode == 1 and "field 'retired'" in refused.stderr.strip().splitlines()[-1]


def test_an_article_saved_from_an_older_capture_becomes_an_earlier_version(tmp_path: Path) -> None:
    from archive.model import Article

    def article(text: str) -> Article:
        return Article(url="https://halong.gov.vn/vi-vn/tin/a-p1-c1-n1", portal="halong", title="Tin", text=text,
                       paragraphs=[text], captions=[], author=None, unit=None, published=None,
                       published_from=None, content_hash=text, extractor="profile", story=text)

    archive = Archive(tmp_path / "a.db")
    try:
        assert archive.save(article("live"), b"<p>live</p>") == "new"  # crawled today
        assert archive.save(article("2023"), b"x", captured_at="2023-05-01T00:00:00+00:00",
                            fetched_from="w/2023") == "changed"
        assert archive.save(article("2021"), b"x", captured_at="2021-05-01T00:00:00+00:00") == "changed"
        assert archive.save(article("2021"), b"x", captured_at="2022-01-01T00:00:00+00:00") == "unchanged"
        current = archive.db.execute("select text, version from articles").fetchone()
        versions = archive.db.execute("select version, text, captured_at, fetched_from from article_versions "
                                      "order by version").fetchall()
    finally:
        archive.close()
    assert current == ("live", 3)  # the live text stays current
    assert [v[1] for v in versions] == ["2021", "2023"] and versions[1][3] == "w/2023"


def test_the_demo_twice_gives_the_same_rows_with_the_retired_portal_recovered(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    first = cli("demo", "--db", str(db), "--count", "4", "--no-serve").stdout
    before = rows(db, "select url, portal, version from articles order by url")
    second = cli("demo", "--db", str(db), "--count", "4", "--no-serve").stdout
    after = rows(db, "select url, portal, version from articles order by url")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert all(r["url"].startswith(load_profile(r["portal"]).origin + "/") for r in after)
    retired = [name for name in {r["portal"] for r in after} if load_profile(name).retired]
    assert retired == ["halong"] and "recovered from the Wayback Machine's twin" in first
    sources = {r["portal"]: r["source"] for r in rows(db, "select distinct portal, source from crawl_runs")}
    assert sources["halong"] == "wayback" and sources["mongcai"] is None
    assert any(r["version"] > 1 for r in after if r["portal"] == "halong")  # edits between captures
    assert "halong            0 captures recovered" in second  # only newer captures are asked for

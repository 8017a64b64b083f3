"""`portal-archive merge`: shards written by separate crawls become the archive one crawl would have
written, whatever the order, and merging again changes nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from archive.samples.server import SampleSite
from archive.samples.site import EPOCH
from tests.conftest import cli, crawl_args, rows


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three shards and, for comparison, one archive that saw every crawl itself.

    a: mongcai and quangninh (which reposts mongcai news); then mongcai edits one article and takes
    another down; b: a fresh worker crawling mongcai and baoquangninh; c: a worker that started from
    a copy of a and crawled mongcai again, so it holds the edit as a new version and the removal.
    """
    scratch = tmp_path_factory.mktemp("merge")
    paths = {name: scratch / f"{name}.db" for name in ("a", "b", "c", "single")}
    later = f"--now={EPOCH.replace(hour=23).isoformat()}"
    with SampleSite(count=12) as site:
        cli(*crawl_args(site, paths["a"], "mongcai", "quangninh"))
        cli(*crawl_args(site, paths["single"], "mongcai", "quangninh"))
        shutil.copy(paths["a"], paths["c"])
        twin = site.twins["mongcai"]
        twin.edit(twin.articles()[0].id)
        twin.remove(twin.articles()[1].id)
        cli(*crawl_args(site, paths["c"], "mongcai"), later)
        cli(*crawl_args(site, paths["b"], "mongcai", "baoquangninh"), later)
        cli(*crawl_args(site, paths["single"], "mongcai", "baoquangninh"), later)
    return paths


def content(db: Path) -> dict[str, object]:
    """What an archive says, leaving out ids and the times of its own crawls."""
    return {
        "articles": {r["url"]: (r["title"], r["text"], r["published"], r["version"], r["gone_at"] is not None,
                                r["copy_of"], r["story"]) for r in rows(db, "select * from articles")},
        "versions": sorted(tuple(r) for r in rows(db, "select url, version, content_hash from article_versions")),
        "pages": {r["url"]: (r["content_hash"], r["http_status"]) for r in rows(db, "select * from pages")},
        "indexed": sorted(r[0] for r in rows(
            db, "select a.url from articles_fts f join articles a on a.search_key = f.rowid")),
    }


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_merged_shards_hold_what_one_archive_would(shards: dict[str, Path], tmp_path: Path) -> None:
    merged = tmp_path / "archive.db"
    out = cli("merge", str(shards["a"]), str(shards["b"]), str(shards["c"]), "--into", str(merged)).stdout
    assert f"{shards['a']}: " in out and " new, " in out
    expected = content(shards["single"])
    got = content(merged)
    assert got["articles"] == expected["articles"]
    assert got["versions"] == expected["versions"] and expected["versions"]  # the edit kept its old text
    assert any(v[4] for v in got["articles"].values())  # the removal kept as gone_at
    assert got["pages"] == expected["pages"]
    assert got["indexed"] == expected["indexed"]  # one copy of each story in the index
    conn = sqlite3.connect(merged)
    conn.execute("insert into articles_fts(articles_fts, rank) values('integrity-check', 1)")  # raises if not
    conn.close()


def test_merge_order_does_not_matter_and_merging_again_changes_nothing(shards: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    forward, backward = tmp_path / "forward.db", tmp_path / "backward.db"
    cli("merge", str(shards["a"]), str(shards["b"]), str(shards["c"]), "--into", str(forward))
    cli("merge", str(shards["c"]), str(shards["b"]), str(shards["a"]), "--into", str(backward))
    assert content(forward) == content(backward)
    before = dump(forward)
    again = cli("merge", str(shards["b"]), str(shards["a"]), str(shards["c"]), "--into", str(forward)).stdout
    assert again.count(" 0 new, 0 changed, ") == 3 and again.count(" 0 crawl runs") == 3
    assert dump(forward) == before


def test_a_bad_shard_is_reported_and_the_others_merged(shards: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    merged = tmp_path / "archive.db"
    result = cli("merge", str(broken), str(shards["a"]), str(tmp_path / "missing.db"), "--into", str(merged),
                 check=False)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and str(broken) in errors[0] and "missing.db" in errors[1]
    assert content(merged)["articles"] == content(shards["a"])["articles"]

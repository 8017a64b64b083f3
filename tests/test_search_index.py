"""The search index holds each article's portal: a search within one portal asks the index for it, a
query's words never match it, and an archive indexed before it is still searched right."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from archive.db import SEARCHED, Archive
from archive.search import search
from tests.conftest import rows


def index_columns(db: Path) -> list[str]:
    return [r[1] for r in rows(db, "pragma table_info(articles_fts)")]


def hits(db: Path, query: str, **filters: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [h.url for h in search(conn, query, limit=1000, **filters)]
    finally:
        conn.close()


def test_a_search_within_a_portal_is_the_whole_search_filtered(crawled: Path) -> None:
    assert "portal" in index_columns(crawled)
    everywhere = hits(crawled, "thanh uy")
    portals = {r["url"]: r["portal"] for r in rows(crawled, "select url, portal from articles")}
    for portal in sorted(set(portals.values())):
        mine = hits(crawled, "thanh uy", portal=portal)
        assert mine and mine == [url for url in everywhere if portals[url] == portal]


def test_query_words_never_match_the_portal_the_index_holds(crawled: Path) -> None:
    for (portal,) in rows(crawled, "select distinct portal from articles"):
        written = {r["url"] for r in rows(crawled, f"select url from articles where copy_of is null and ("
                                                   f"{' or '.join(f'{c} like ?' for c in SEARCHED)})",
                                          tuple(f"%{portal}%" for _ in SEARCHED))}
        assert set(hits(crawled, portal)) == written  # only where the name is written in the article


def test_an_archive_indexed_before_portals_is_searched_right_and_reindexed(crawled: Path, tmp_path: Path) -> None:
    old = tmp_path / "archive.db"
    shutil.copy(crawled, old)
    conn = sqlite3.connect(old)
    view = conn.execute("select sql from sqlite_master where name = 'articles_search'").fetchone()[0]
    conn.executescript(f"""
        drop table articles_fts; drop view articles_search;
        {view.replace(", portal from articles", " from articles")};
        create virtual table articles_fts using fts5({", ".join(SEARCHED)}, content='articles_search',
            content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
        insert into articles_fts(articles_fts) values('rebuild');
    """)
    conn.close()
    assert "portal" not in index_columns(old)
    for portal in ("mongcai", "quangninh"):
        assert hits(old, "thanh uy", portal=portal) == hits(crawled, "thanh uy", portal=portal)
    Archive(old).close()  # a writing command rebuilds the index with the portals
    assert "portal" in index_columns(old)
    assert hits(old, "thanh uy", portal="mongcai") == hits(crawled, "thanh uy", portal="mongcai")

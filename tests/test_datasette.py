"""The archive in Datasette, over HTTP: accent-insensitive search, facets, canned queries, feeds,
exports, and a download that is a consistent snapshot even while a crawl writes."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from archive.samples.server import SampleSite
from archive.samples.site import EPOCH
from archive.text import fold
from tests.conftest import cli, crawl_args, rows
from tests.support.servers import serving

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Served:
    base: str
    db: Path
    site: SampleSite


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def get_json(url: str) -> object:
    return json.loads(get(url))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Three crawled sample portals, one article edited and one taken down, served by Datasette."""
    db = tmp_path_factory.mktemp("served") / "archive.db"
    with SampleSite(count=30) as site:
        cli(*crawl_args(site, db))
        twin = site.twins["mongcai"]
        twin.edit(twin.articles()[0].id)
        twin.remove(twin.articles()[1].id)
        cli(*crawl_args(site, db, "mongcai"), f"--now={EPOCH.replace(hour=23).isoformat()}")
        with serving(db) as base:
            yield Served(base, db, site)


def search_ids(served: Served, query: str) -> set[int]:
    args = urllib.parse.urlencode({"_search": query, "_shape": "array", "_col": "id", "_size": "max"})
    return {row["id"] for row in get_json(f"{served.base}/archive/articles.json?{args}")}


def truth(served: Served, *words: str, phrase: bool = False) -> set[int]:
    """Originals (not reposts) whose folded title, text or captions hold every word (or the phrase)."""
    found = set()
    for row in rows(served.db, "select id, title, text, captions from articles where copy_of is null"):
        fields = [fold(row["title"] or ""), fold(row["text"] or ""), fold(" ".join(json.loads(row["captions"])))]
        if phrase:
            pattern = r"\b" + r"\W+".join(words) + r"\b"
            ok = any(re.search(pattern, f) for f in fields)
        else:
            ok = all(any(re.search(rf"\b{w}\b", f) for f in fields) for w in words)
        if ok:
            found.add(row["id"])
    return found


@pytest.mark.parametrize("variants", [
    ["Móng Cái", "mong cai", "MÓNG CÁI", "Mong Cai"],
    ["Đảng ủy", "dang uy", "ĐẢNG ỦY", "đang uy", "Dang Uy"],
    ["dang uy mong cai", "Đảng ủy Móng Cái"],
])
def test_search_box_ignores_accents_case_and_d(served: Served, variants: list[str]) -> None:
    results = [search_ids(served, v) for v in variants]
    assert results[0], variants
    assert all(r == results[0] for r in results), variants
    assert results[0] == truth(served, *fold(variants[0]).split())


def test_phrase_queries_match_words_in_order(served: Served) -> None:
    phrase = search_ids(served, '"thanh uy mong cai"')
    loose = search_ids(served, "thanh uy mong cai")
    assert phrase == truth(served, "thanh", "uy", "mong", "cai", phrase=True)
    assert phrase and phrase < loose


def in_title(served: Served, ids: list[int], *words: str) -> list[bool]:
    titles = dict(rows(served.db, "select id, title from articles"))
    return [all(re.search(rf"\b{w}\b", fold(titles[i])) for w in words) for i in ids]


def test_canned_search_ranks_titles_first_with_highlighted_snippets(served: Served) -> None:
    hits = get_json(f"{served.base}/archive/search.json?q=Mong+Cai&_shape=array")
    matching = truth(served, "mong", "cai")
    assert {h["id"] for h in hits} <= matching and len(hits) == min(50, len(matching))
    titled = in_title(served, [h["id"] for h in hits], "mong", "cai")
    assert True in titled and False in titled  # the query tells the two apart
    assert titled == sorted(titled, reverse=True)  # every title match before any other
    all_titled = {i for i, t in zip(matching, in_title(served, list(matching), "mong", "cai"), strict=True) if t}
    assert all_titled <= {h["id"] for h in hits}  # none of the best left out
    texts = dict(rows(served.db, "select id, text from articles"))
    in_text = [bool(re.search(r"\bmong\W+cai\b", fold(texts[h["id"]]))) for h in hits]
    assert [bool(re.search(r"<mark>Móng</mark>\W+<mark>Cái</mark>", h["snippet"])) for h in hits] == in_text
    page = get(f"{served.base}/archive/search?q=dang+uy").decode()
    assert "<mark>" in page  # highlighted, not escaped, in the HTML table
    assert get_json(f"{served.base}/archive/search.json?q=&_shape=array") == []  # the empty form


def test_canned_search_within_a_portal_and_since_a_day(served: Served) -> None:
    day = rows(served.db, "select substr(published, 1, 10) from articles where copy_of is null "
                          "order by published limit 1 offset 20")[0][0]
    query = urllib.parse.urlencode({"q": "mong cai", "portal": "quangninh", "since": day, "_shape": "array"})
    hits = get_json(f"{served.base}/archive/search.json?{query}")
    expected = {r["id"] for r in rows(served.db, "select id, portal, published from articles")
                if r["portal"] == "quangninh" and r["published"][:10] >= day} & truth(served, "mong", "cai")
    assert hits and {h["id"] for h in hits} == expected
    bad = urllib.parse.urlencode({"q": "mong cai", "since": "last week"})
    with pytest.raises(urllib.error.HTTPError) as err:
        get(f"{served.base}/archive/search.json?{bad}")
    assert "not a date" in err.value.read().decode()


def table_json(served: Served, query: str) -> dict:
    """A table's JSON with its row count and facets, on Datasette 0.65 (which gives them all) and 1.0 (which
    gives what `_extra` asks for), as 0.65 shapes them."""
    data = get_json(f"{served.base}/archive/articles.json?{query}&_shape=objects&_extra=count,facet_results")
    facets = data.get("facet_results", {})
    return {**data, "count": data.get("filtered_table_rows_count", data.get("count")),
            "facet_results": facets.get("results", facets)}


def test_articles_newest_first_with_facets(served: Served) -> None:
    data = table_json(served, "_size=max")
    published = [row["published"] for row in data["rows"]]
    assert published == sorted(published, reverse=True)
    facets = data["facet_results"]
    assert {f["value"]: f["count"] for f in facets["portal"]["results"]} == {
        r["portal"]: r["n"] for r in rows(served.db, "select portal, count(*) n from articles group by portal")
    }
    assert {"year", "month", "author"} <= set(facets)
    page = get(f"{served.base}/archive/articles").decode()
    assert "raw_html" not in page and "Binary" not in page  # readable columns only
    assert 'href="http://127.0.0.1' in page  # each row links to the original article


def test_canned_queries(served: Served) -> None:
    per_month = get_json(f"{served.base}/archive/articles_per_portal_per_month.json?_shape=array")
    assert sum(r["articles"] for r in per_month) == rows(served.db, "select count(*) from articles")[0][0]
    latest = get_json(f"{served.base}/archive/latest_per_portal.json?_shape=array")
    counts = rows(served.db, "select portal, count(*) as n from articles group by portal")
    per_portal = {r["portal"]: r["n"] for r in counts}
    assert {r["portal"] for r in latest} == set(per_portal)
    assert len(latest) == sum(min(10, n) for n in per_portal.values())
    changed = get_json(f"{served.base}/archive/changed_articles.json?_shape=array")
    assert len(changed) == 1 and changed[0]["version"] == 2
    removed = get_json(f"{served.base}/archive/removed_articles.json?_shape=array")
    assert len(removed) == 1 and removed[0]["gone_at"]


def test_reposts_are_one_story_searchable_once(served: Served) -> None:
    reposts = get_json(f"{served.base}/archive/reposts.json?_shape=array")
    assert reposts and all(r["first_portal"] == "mongcai" and r["copies"] == 1 for r in reposts)
    assert all("quangninh" in r["reposted"] for r in reposts)
    title = reposts[0]["title"]
    copies = rows(served.db, "select url, portal, published, copy_of from articles where title = ?", (title,))
    assert len(copies) == 2 and {c["portal"] for c in copies} == {"mongcai", "quangninh"}
    hits = get_json(f"{served.base}/archive/search.json?" + urllib.parse.urlencode(
        {"q": f'"{title}"', "_shape": "array"}))
    assert [h["url"] for h in hits if h["title"] == title] == [reposts[0]["url"]]  # found once
    assert next(h for h in hits if h["title"] == title)["reposts"] == 1


def test_atom_feeds_overall_and_per_portal(served: Served) -> None:
    feed = ElementTree.fromstring(get(f"{served.base}/archive/latest_feed.atom"))
    entries = feed.findall(f"{ATOM}entry")
    newest = rows(served.db, "select title from articles where copy_of is null order by published desc limit 1")
    assert len(entries) == 50 and newest[0][0] in {e.findtext(f"{ATOM}title") for e in entries}
    mongcai = ElementTree.fromstring(get(f"{served.base}/archive/portal_feed.atom?portal=mongcai"))
    links = [e.find(f"{ATOM}link").get("href") for e in mongcai.findall(f"{ATOM}entry")]
    assert links and all(link.startswith("https://mongcai.gov.vn/") for link in links)  # the portal's own address


def test_search_exports_as_csv_and_json(served: Served) -> None:
    ids = search_ids(served, "mong cai")
    text = get(f"{served.base}/archive/articles.csv?_search=mong+cai&_stream=on").decode()
    assert {int(r["id"]) for r in csv.DictReader(io.StringIO(text))} == ids
    objects = get_json(f"{served.base}/archive/articles.json?_search=mong+cai&_shape=objects&_size=max")
    assert {r["id"] for r in objects["rows"]} == ids


def test_download_is_a_whole_consistent_snapshot_while_a_crawl_writes(served: Served, tmp_path: Path) -> None:
    before = rows(served.db, "select count(*) from articles")[0][0]
    for twin in served.site.twins.values():
        twin.publish(20)
    published = 20 * len(served.site.twins)
    crawl = threading.Thread(target=cli, args=crawl_args(served.site, served.db))
    crawl.start()
    snapshots = []
    while crawl.is_alive() or not snapshots:
        target = tmp_path / f"snapshot-{len(snapshots)}.db"
        target.write_bytes(get(f"{served.base}/archive.db"))
        snapshots.append(target)
    crawl.join()
    counts = []
    for snapshot in snapshots:
        conn = sqlite3.connect(snapshot)
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        conn.execute("insert into articles_fts(articles_fts) values('integrity-check')")
        counts.append(conn.execute("select count(*) from articles").fetchone()[0])
        pages = conn.execute("select count(*) from pages").fetchone()[0]
        assert pages == counts[-1]  # never an article without its page: whole transactions only
        conn.close()
    assert all(before <= n <= before + published for n in counts)
    final = tmp_path / "final.db"
    final.write_bytes(get(f"{served.base}/archive.db"))
    assert sqlite3.connect(final).execute("select count(*) from articles").fetchone()[0] == before + published
    assert 'href="/archive.db"' in get(f"{served.base}/").decode()  # the reading room links it


def test_readers_are_never_locked_out_while_a_crawl_writes(served: Served) -> None:
    for twin in served.site.twins.values():
        twin.publish(5)
    crawl = threading.Thread(target=cli, args=crawl_args(served.site, served.db))
    crawl.start()
    seen = []
    while crawl.is_alive() or not seen:
        seen.append(table_json(served, "_size=1&_nofacet=1")["count"])  # raises on any error
    crawl.join()
    assert seen == sorted(seen)  # never half-written: counts only grow


def test_the_public_archive_cannot_be_written(served: Served) -> None:
    count = rows(served.db, "select count(*) from articles")[0][0]
    for sql in ("delete from articles", "insert into portals (name) values ('x')", "drop table articles"):
        url = f"{served.base}/archive.json?" + urllib.parse.urlencode({"sql": sql})
        with pytest.raises(urllib.error.HTTPError) as err:
            get(url)
        assert err.value.code in (400, 403)
    request = urllib.request.Request(f"{served.base}/archive/articles", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code >= 400  # refused (Datasette 0.65 answers a POST to a table with an error)
    assert rows(served.db, "select count(*) from articles")[0][0] == count
    settings = get_json(f"{served.base}/-/settings.json")
    assert settings["sql_time_limit_ms"] <= 3000 and settings["max_returned_rows"] <= 1000
    # Datasette 1.0 keeps queries in its configuration, 0.65 in its metadata
    configured = get_json(f"{served.base}/-/config.json" if served_1_0(served) else f"{served.base}/-/metadata.json")
    queries = configured["databases"]["archive"]["queries"]
    assert "search" in queries and not any(q.get("write") for q in queries.values())


def served_1_0(served: Served) -> bool:
    return get_json(f"{served.base}/-/versions.json")["datasette"]["version"].startswith("1.")


def _pages(db: Path, path: str) -> list[int]:
    """Every id a table search lists, page after page through `_next`, in the order shown."""
    import asyncio

    from archive.serve import build

    async def walk() -> list[int]:
        ds = build(db)
        await ds.invoke_startup()
        ids, url = [], path
        while url:
            body = (await ds.client.get(url)).json()
            assert "rows" in body, (url, body)
            ids += [row["id"] for row in body["rows"]]
            url = body["next_url"] and body["next_url"].removeprefix("http://localhost")
        return ids

    return asyncio.run(walk())


@pytest.mark.parametrize("query", ["dang uy", '"thanh uy mong cai"', "ocop", "xyzzy"])
@pytest.mark.parametrize("view", ["", "&portal=mongcai", "&_sort=title", "&year__gte=2020"])
def test_broad_searches_list_exactly_what_narrow_ones_do(served: Served, monkeypatch: pytest.MonkeyPatch,
                                                         query: str, view: str) -> None:
    """A small archive made "broad" (NARROW=1) pages through the index window or the row-by-row lookups,
    and must list the same articles in the same order as the gathering path (NARROW above any count)."""
    from archive import datasette_plugin

    path = "/archive/articles.json?_shape=objects&_size=3&_col=title&" + urllib.parse.urlencode({"_search": query})
    path += view
    monkeypatch.setattr(datasette_plugin, "NARROW", 10**9)
    narrow = _pages(served.db, path)
    monkeypatch.setattr(datasette_plugin, "NARROW", 1)
    broad = _pages(served.db, path)
    assert broad == narrow
    if query != "xyzzy":
        assert len(narrow) > 3  # more than a page: the cursor was used

"""The reading room (archive.room) in-process through `datasette.client`, and over HTTP where it is the
point: the article page, people's search with Telex and VNI, the charts, Vietnamese first, the download
and robots conventions. `make test` runs this module on Datasette's stable release and on the 1.0 alpha."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest

from archive.keyboard import readings
from archive.mediastore import media_path
from archive.room.i18n import DAYS, MESSAGES
from archive.samples.server import SampleSite
from archive.samples.site import EPOCH
from archive.samples.wayback import WaybackTwin
from tests.conftest import cli, crawl_args, rows
from tests.support.servers import serving

RETIRED = "halong"


@dataclass
class Room:
    db: Path
    base: str  # `portal-archive serve` on it, for what goes over HTTP

    def get(self, path: str, headers: dict[str, str] | None = None, **settings: object) -> object:
        """The response of an in-process Datasette (archive.serve.build) to GET ``path``."""
        from archive.serve import build

        async def fetch() -> object:
            ds = build(self.db, **settings)
            await ds.invoke_startup()
            return await ds.client.get(path, headers=headers or {})

        return asyncio.run(fetch())

    def html(self, path: str, lang: str | None = None) -> str:
        response = self.get(path, {"Accept-Language": lang} if lang else None)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.text


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    """Three crawled sample portals (one article edited, one taken down) and the retired one recovered
    from the Wayback twin, served."""
    db = tmp_path_factory.mktemp("room") / "archive.db"
    with SampleSite(count=30) as site:
        live = [name for name in site.origins if name != RETIRED]
        cli(*crawl_args(site, db, *live))
        twin = site.twins["mongcai"]
        twin.edit(twin.articles()[0].id)
        twin.remove(twin.articles()[1].id)
        cli(*crawl_args(site, db, "mongcai"), f"--now={EPOCH.replace(hour=23).isoformat()}")
    with WaybackTwin(portals=(RETIRED,), count=30) as wayback:
        cli("recover", RETIRED, "--from", "wayback", "--wayback", wayback.url, "--db", str(db), "--log-level",
            "WARNING", "--cdx-per-minute", "60", "--mementos-per-minute", "600")
    with serving(db) as base:
        yield Room(db, base)


def label(key: str, lang: str = "vi") -> str:
    return MESSAGES[key][0 if lang == "vi" else 1]


def vietnamese_time(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{DAYS['vi'][moment.weekday()]}, {moment:%d/%m/%Y %H:%M}"


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def one(db: Path, sql: str, args: tuple = ()) -> sqlite3.Row:
    found = rows(db, sql, args)
    assert found, f"the sample archive has no row for: {sql}"
    return found[0]


# The article page


def test_the_article_page_shows_the_article_in_vietnamese(room: Room) -> None:
    article = one(room.db, "select a.* from articles a where author is not null and exists "
                           "(select 1 from article_media m where m.url = a.url and m.sha256 is not null "
                           "and m.kind = 'image' and m.caption is not null) order by id limit 1")
    html = room.html(f"/archive/articles/{article['id']}")
    assert '<html lang="vi">' in html
    assert f"<h1>{article['title']}</h1>" in unescape(html)
    assert vietnamese_time(article["published"]) in html and article["published"] in html
    assert article["author"] in unescape(html)
    shown = text_of(html)
    for paragraph in article["text"].split("\n"):
        assert paragraph in shown
    photos = rows(room.db, "select * from article_media where url = ? and kind = 'image' order by position",
                  (article["url"],))
    for photo in photos:
        if photo["sha256"]:
            assert f'src="/-/media/{photo["sha256"]}"' in html
        if photo["caption"]:
            assert f"<figcaption>{photo['caption']}</figcaption>" in unescape(html)
    assert f'href="{article["url"]}"' in html  # the original address, on the portal
    assert f'src="/-/page/{article["id"]}"' in html and "sandbox" in html
    for key in ("published", "author", "original", "versions"):
        assert label(key) in html and label(key, "en") not in html


def test_documents_are_linked_and_missing_photos_said(room: Room) -> None:
    document = one(room.db, "select a.id, m.sha256 from articles a join article_media m on m.url = a.url "
                            "where m.kind = 'document' and m.sha256 is not null limit 1")
    assert f'href="/-/media/{document["sha256"]}"' in room.html(f"/archive/articles/{document['id']}")
    missing = one(room.db, "select a.id from articles a join article_media m on m.url = a.url "
                           "where m.kind = 'image' and m.sha256 is null limit 1")
    assert label("photo_missing") in room.html(f"/archive/articles/{missing['id']}")


def test_an_edited_article_shows_what_changed_word_by_word(room: Room) -> None:
    article = one(room.db, "select * from articles where version > 1 and gone_at is null order by id limit 1")
    earlier = one(room.db, "select * from article_versions where url = ? order by version desc limit 1",
                  (article["url"],))
    html = room.html(f"/archive/articles/{article['id']}")
    old, new = set(earlier["text"].split()), set(article["text"].split())
    deleted = " ".join(text_of(m) for m in re.findall(r"<del>(.*?)</del>", html, re.S)).split()
    inserted = " ".join(text_of(m) for m in re.findall(r"<ins>(.*?)</ins>", html, re.S)).split()
    assert deleted or inserted
    assert set(deleted) - {"¶"} <= old and set(inserted) - {"¶"} <= new
    assert (old - new) <= set(deleted) and (new - old) <= set(inserted)
    assert MESSAGES["changes"][0].format(a=earlier["version"], b=article["version"]) in html


def test_a_taken_down_article_has_a_banner_and_reposts_are_listed(room: Room) -> None:
    gone = one(room.db, "select * from articles where gone_at is not null limit 1")
    html = room.html(f"/archive/articles/{gone['id']}")
    assert 'class="room-banner room-gone"' in html
    assert MESSAGES["gone"][0].split("{date}")[0] in html
    fine = one(room.db, "select id from articles where gone_at is null limit 1")
    assert "room-gone" not in room.html(f"/archive/articles/{fine['id']}")
    original = one(room.db, "select o.id, o.url from articles o where exists "
                            "(select 1 from articles c where c.copy_of = o.url) limit 1")
    html = room.html(f"/archive/articles/{original['id']}")
    for copy in rows(room.db, "select id from articles where copy_of = ?", (original["url"],)):
        assert f'href="/archive/articles/{copy["id"]}"' in html
    repost = one(room.db, "select id from articles where copy_of = ?", (original["url"],))
    assert f'href="/archive/articles/{original["id"]}"' in room.html(f"/archive/articles/{repost['id']}")


def test_the_archived_page_is_served_as_fetched_with_no_script_allowed(room: Room) -> None:
    page = one(room.db, "select a.id, p.raw_html from articles a join pages p on p.url = a.url limit 1")
    response = room.get(f"/-/page/{page['id']}")
    assert response.status_code == 200 and response.content == zlib.decompress(page["raw_html"])
    policy = response.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
    assert room.get("/-/page/999999999").status_code == 404


def test_photos_and_documents_come_from_the_media_file(room: Room) -> None:
    conn = sqlite3.connect(media_path(room.db))
    digest, body, kind = conn.execute("select sha256, bytes, content_type from media limit 1").fetchone()
    conn.close()
    response = room.get(f"/-/media/{digest}")
    assert response.status_code == 200 and response.content == body
    assert hashlib.sha256(response.content).hexdigest() == digest
    assert response.headers["content-type"] == kind and "sandbox" in response.headers["content-security-policy"]
    assert room.get("/-/media/" + "0" * 64).status_code == 404


def test_english_is_one_switch_or_header_away(room: Room) -> None:
    article = one(room.db, "select id, published from articles where published is not null limit 1")
    path = f"/archive/articles/{article['id']}"
    english = room.html(path, lang="en-GB,en;q=0.9")
    assert '<html lang="en">' in english and label("published", "en") in english
    assert datetime.fromisoformat(article["published"]).strftime("%A") in english
    assert '<html lang="vi">' in room.html(path, lang="vi-VN,vi;q=0.9,en;q=0.5")
    switched = room.get(path + "?lang=en")
    assert '<html lang="en">' in switched.text and "lang=en" in switched.headers["set-cookie"]
    remembered = room.get(path, {"Cookie": "lang=en", "Accept-Language": "vi"})
    assert '<html lang="en">' in remembered.text


# People's search


def page_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<h3><a href="/archive/articles/(\d+)">', html)]


def search_http(room: Room, query: str, **args: str) -> tuple[list[int], int]:
    """The first page of the search page's cards, and the count it says (over HTTP, as a reader's browser)."""
    url = f"{room.base}/search?" + urllib.parse.urlencode({"q": query, **args})
    with urllib.request.urlopen(url, timeout=60) as response:
        html = response.read().decode()
    total = re.search(r'<p class="room-summary">\D*?([\d.]+)', html)
    return page_ids(html), int(total.group(1).replace(".", "")) if total else 0


def api_ids(room: Room, query: str) -> set[int]:
    args = urllib.parse.urlencode({"_search": query, "_shape": "array", "_col": "id", "_size": "max"})
    with urllib.request.urlopen(f"{room.base}/archive/articles.json?{args}", timeout=60) as response:
        return {row["id"] for row in json.load(response)}


@pytest.mark.parametrize(("typed", "accented"), [
    ("dangr uy", "đảng ủy"), ("dang3 uy", "đảng ủy"), ("Mong Cai", "Móng Cái"), ("nuwowcs sachj", "nước sạch"),
    ("nu7o7c1 sach5", "nước sạch"), ("dang uy mong cai", "Đảng ủy Móng Cái"),
])
def test_telex_and_vni_find_what_the_accented_words_find(room: Room, typed: str, accented: str) -> None:
    ids, total = search_http(room, accented)
    assert ids and total > 0
    assert search_http(room, typed) == (ids, total)
    assert api_ids(room, typed) == api_ids(room, accented)  # the table's search box and JSON API as well


def test_a_word_that_only_looks_like_telex_keeps_its_literal_reading(tmp_path: Path) -> None:
    from archive.db import Archive
    from archive.extract import extract

    filler = "Đoạn văn bản dài của bài viết để trích xuất được nội dung chính của trang tin này. " * 3
    stories = {"xe-bus-n1": "Thêm tuyến xe bus điện nối Hạ Long với Móng Cái",  # `bus` as written
               "be-bu-n2": "Hướng dẫn cho trẻ bú đúng cách tại trạm y tế phường"}  # what Telex reads in it
    archive = Archive(tmp_path / "archive.db")
    for slug, title in stories.items():
        page = (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{title}. {filler}</p>"
                f"<p>{filler}</p></article></body></html>").encode()
        archive.save(extract(page, f"https://mongcai.gov.vn/vi-vn/tin/{slug}", portal="mongcai"), page)
    archive.close()
    assert readings("bus") == ("bus", "bu")
    html = Room(tmp_path / "archive.db", "").html("/search?q=bus")
    titles = {unescape(t) for t in re.findall(r'<h3><a href="/archive/articles/\d+">([^<]+)</a>', html)}
    assert titles == set(stories.values())


def test_the_search_page_ranks_as_the_command_line_does(room: Room) -> None:
    query = "thanh uy"
    found = cli("search", query, "--db", str(room.db), "--json", "--limit", "20").stdout.splitlines()
    urls = [json.loads(line)["url"] for line in found]
    ids = dict(rows(room.db, "select url, id from articles"))
    assert search_http(room, query)[0] == [ids[u] for u in urls]


def test_facets_count_the_matches_and_filter_them(room: Room) -> None:
    html = room.html("/search?q=" + urllib.parse.quote("thanh uy"))
    counts = {name: int(n.replace(".", "")) for name, n in re.findall(
        r'data-facet="portal" href="[^"]*portal=([^"&]+)[^"]*">[^<]*</a> <span class="room-count">([\d.]+)', html)}
    total = int(re.search(r'<p class="room-summary">([\d.]+)', html).group(1).replace(".", ""))
    assert len(counts) > 1 and sum(counts.values()) == total
    portal = max(counts, key=counts.get)
    filtered = room.html("/search?" + urllib.parse.urlencode({"q": "thanh uy", "portal": portal}))
    shown = page_ids(filtered)
    assert shown and {r["portal"] for r in rows(room.db, f"select portal from articles where id in "
                                                          f"({','.join(map(str, shown))})")} == {portal}
    years = re.findall(r'data-facet="year" href="[^"]*">(\d{4})</a>', html)
    assert years and all(len(y) == 4 for y in years)
    in_year = page_ids(room.html("/search?" + urllib.parse.urlencode({"q": "thanh uy", "year": years[0]})))
    assert {r["year"] for r in rows(room.db, f"select year from articles where id in ({','.join(map(str, in_year))})"
                                    )} == {int(years[0])}


def test_the_search_page_has_no_sql_and_pages_on(room: Room) -> None:
    html = room.html("/search?q=" + urllib.parse.quote("ủy"))
    assert "select " not in html.lower() and 'href="/archive/search?' in html  # SQL one click away
    first, second = page_ids(html), page_ids(room.html("/search?q=" + urllib.parse.quote("ủy") + "&page=2"))
    assert len(first) == 20 and second and not set(first) & set(second)
    long = room.get("/search?q=" + "+".join(["tin"] * 40))
    assert long.status_code == 400 and "too long" in long.text



@pytest.mark.parametrize("failing", ["RANKED", "FACETS"])
def test_a_search_query_that_fails_is_a_503_page_whichever_of_the_two_it_is(
        room: Room, failing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.room import pages

    # The ranking and the facets run at once: either one failing (SQLite refusing it, here a table that
    # is not there) is the page's error, and the other's answer is not shown half-done.
    monkeypatch.setattr(pages, failing, "select * from no_such_table")
    response = room.get("/search?q=" + urllib.parse.quote("ủy"), {"Accept-Language": "vi"})
    assert response.status_code == 503
    assert unescape(label("search_failed")) in unescape(response.text) and not page_ids(response.text)


# Charts


def specs(html: str) -> dict[str, dict]:
    found = re.findall(r'data-chart="([^"]+)">\s*<div class="room-chart-view"></div>\s*'
                       r'<script type="application/json" class="room-spec">(.*?)</script>', html, re.S)
    return {key: json.loads(body.replace("<\\/", "</")) for key, body in found}


def test_charts_draw_articles_per_month_with_the_retirement_marked(room: Room) -> None:
    html = room.html("/charts")
    charts = specs(html)
    months = rows(room.db, "select month, count(*) as n from articles where month is not null group by month")
    bars = charts["all"]["layer"][0]["data"]["values"]
    assert [(b["month"][:7], b["articles"]) for b in bars] == [(m["month"], m["n"]) for m in months]
    retired = one(room.db, "select retired from portals where name = ?", (RETIRED,))["retired"]
    rules = [layer for layer in charts[f"portal-{RETIRED}"]["layer"] if layer["mark"]["type"] == "rule"]
    assert rules and rules[0]["data"]["values"][0]["month"] == retired
    assert not [layer for layer in charts["portal-mongcai"]["layer"] if layer["mark"]["type"] == "rule"]
    runs = rows(room.db, "select pages, errors, fallbacks from crawl_runs where started is not null")
    health = charts["health"]["data"]["values"]
    assert len(health) == 3 * len(runs)
    assert sum(v["value"] for v in health if v["measure"] == label("pages")) == sum(r["pages"] or 0 for r in runs)
    for script in re.findall(r'<script src="([^"]+)"', html):
        assert script.startswith("/-/static-plugins/")  # served by the archive itself
        assert room.get(script).status_code == 200


# Conventions


def test_archive_db_is_the_snapshot_and_the_old_address_sends_there(room: Room) -> None:
    download = room.get("/archive.db")
    assert download.status_code == 200 and download.content.startswith(b"SQLite format 3\x00")
    moved = room.get("/-/archive.db")
    assert moved.status_code == 302 and moved.headers["location"] == "/archive.db"
    with urllib.request.urlopen(f"{room.base}/archive.db", timeout=60) as response:
        snapshot = response.read()
    assert snapshot.startswith(b"SQLite format 3\x00")


def test_robots_are_kept_off_unless_the_operator_allows_them(room: Room) -> None:
    assert room.get("/robots.txt").text == "User-agent: *\nDisallow: /\n"
    assert '<meta name="robots" content="noindex, nofollow">' in room.html("/")
    assert room.get("/robots.txt", allow_robots=True).text == "User-agent: *\nAllow: /\n"


def test_the_home_page_lists_every_portal_with_its_count(room: Room) -> None:
    html = room.html("/")
    for portal in rows(room.db, "select p.name, p.title, p.retired, count(a.id) as n from portals p "
                                "join articles a on a.portal = p.name group by p.name"):
        assert portal["title"] in unescape(html)
        assert MESSAGES["articles_count"][0].format(n=f"{portal['n']:,}".replace(",", ".")) in html
    assert MESSAGES["retired"][0].split("{date}")[0] in html
    browse = room.html(f"/search?portal={RETIRED}")
    assert set(page_ids(browse)) <= {r["id"] for r in rows(room.db, "select id from articles where portal = ?",
                                                           (RETIRED,))}
    assert page_ids(browse)

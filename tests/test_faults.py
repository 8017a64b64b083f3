"""A misbehaving portal (archive/samples/faults.py): every fault is survived, recorded, and harmless."""

from __future__ import annotations

import json

import pytest

from archive.samples.server import SampleSite
from crawler.profile import load_profile
from tests.conftest import cli, rows
from tests.support.faults import FAULTS, RETRIED, SURVIVABLE, TRACKED, FaultyCity


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("faults") / "archive.db"
    with SampleSite(count=20, families={"mongcai": FaultyCity}) as site:
        args = ["crawl", "mongcai", "--db", str(db), "--delay", "0", "--timeout", "2", "--log-level", "INFO",
                f"--origin=mongcai={site.origins['mongcai']}", "--json"]
        first = cli(*args)
        before = {r["url"]: dict(r) for r in rows(db, "select * from articles")}
        second = cli(*args, "--full")
        yield site, db, before, first, second


def fault_url(site: SampleSite, article_id: int) -> str:
    family: FaultyCity = site.running["mongcai"].family
    return load_profile("mongcai").origin + family.fault_path(article_id)  # archived under the portal's address


def test_the_rest_of_the_portal_is_archived_and_survivable_pages_too(faulty) -> None:
    site, db, _, _, _ = faulty
    archived = {r["url"] for r in rows(db, "select url from articles")}
    normal = {e["url"] for e in site.expected() if e["portal"] == "mongcai"}
    assert normal <= archived
    assert archived - normal == {fault_url(site, i) for i in SURVIVABLE}


@pytest.mark.parametrize("article_id", sorted(SURVIVABLE))
def test_survivable_faults_still_give_the_exact_article(faulty, article_id: int) -> None:
    site, db, _, _, _ = faulty
    family: FaultyCity = site.running["mongcai"].family
    want = family.fault_article(article_id)
    got = rows(db, "select title, text, captions, author from articles where url = ?",
               (fault_url(site, article_id),))[0]
    assert got["title"] == want.title  # Windows-1258 pages, declared or not, decode to the same text
    assert got["text"].split("\n") == want.paragraphs
    assert json.loads(got["captions"]) == want.captions and got["author"] == want.author


@pytest.mark.parametrize("article_id", sorted(set(FAULTS) - SURVIVABLE))
def test_broken_pages_are_never_stored(faulty, article_id: int) -> None:
    _, db, _, _, _ = faulty
    assert not rows(db, "select 1 from articles where url like ?", (f"%n{article_id}",))


def test_failures_are_recorded_in_the_run_log(faulty) -> None:
    site, db, _, first, _ = faulty
    summary = json.loads(first.stdout.splitlines()[0])
    # Every page it could not read is logged, and on the retry schedule: the run is complete all the same.
    assert summary["status"] == "finished" and summary["errors"] >= len(RETRIED)
    assert summary["retrying"] == len(RETRIED)
    run = rows(db, "select status, errors, retrying from crawl_runs order by id limit 1")[0]
    assert tuple(run) == ("finished", summary["errors"], len(RETRIED))
    scheduled = {r["url"] for r in rows(db, "select url from retries")}
    assert scheduled == {fault_url(site, i) for i in RETRIED}
    log = first.stderr
    for sign in ("500 Internal Server Error", "took longer than", "max redirections", "download max size",
                 "answered 404", "answered 410", "not an HTML page"):
        assert sign in log, sign


def test_retries_back_off_and_a_503_burst_is_survived(faulty) -> None:
    site, _, _, _, _ = faulty
    hits = [h.status for h in site.running["mongcai"].hits if h.path.endswith("n900001")]
    assert hits[:3] == [503, 503, 200]


def test_robots_offsite_and_tracking_urls(faulty) -> None:
    site, db, _, _, _ = faulty
    paths = [h.path for h in site.running["mongcai"].hits]
    assert not any("rieng-tu" in p for p in paths)  # forbidden by robots.txt: never requested
    first = site.twins["mongcai"].articles()[0]
    url = load_profile("mongcai").origin + site.running["mongcai"].family.article_path(first)
    assert rows(db, "select count(*) from articles where url like ?", (url + "%",))[0][0] == 1
    assert TRACKED.split("#")[0] not in "".join(r["url"] for r in rows(db, "select url from articles"))


def test_the_pagination_trap_is_left_at_once(faulty) -> None:
    site, _, _, _, _ = faulty
    family = site.running["mongcai"].family
    pages = len(family.twin.article_ids()) // family.page_size + 1
    walked = {h.path for h in site.running["mongcai"].hits if h.path.startswith(family.listing)}
    assert family.listing_path(pages + 2) not in walked


def test_a_second_run_changes_nothing_already_archived(faulty) -> None:
    _, db, before, _, second = faulty
    after = {r["url"]: dict(r) for r in rows(db, "select * from articles")}
    for url, row in before.items():
        assert {k: after[url][k] for k in ("title", "text", "captions", "published", "version")} == \
            {k: row[k] for k in ("title", "text", "captions", "published", "version")}
    assert json.loads(second.stdout.splitlines()[0])["new"] == 0
    assert rows(db, "pragma integrity_check")[0][0] == "ok"


def test_only_http_links_on_the_portals_host_are_followed() -> None:
    from crawler.listing import read_listing
    from crawler.profile import load_profile

    profile = load_profile("mongcai").with_origin("http://127.0.0.1:9")
    links = "".join(f'<div class="news-item"><a href="{h}">x</a></div>' for h in [
        "file:///etc/passwd", "javascript:alert(1)", "ftp://127.0.0.1:9/vi-vn/tin/a-p1-c2-n3",
        "http://evil.example/vi-vn/tin/a-p1-c2-n3", "http://127.0.0.1:9/vi-vn/tin/a-p1-c2-n3"])
    body = f'<html><body><div class="news-list">{links}</div></body></html>'.encode()
    listing = read_listing(body, "http://127.0.0.1:9/vi-vn/trang/tin-tuc-p24021", "utf-8", profile)
    assert [url for url, _ in listing.links] == ["http://127.0.0.1:9/vi-vn/tin/a-p1-c2-n3"]


def test_a_lasting_failure_is_retried_on_a_schedule_not_every_night(faulty, tmp_path) -> None:
    """One article answering 500 forever: later runs ask for it again only when it is due, ever less
    often, and the portal's runs stay complete (a partial run would make every night walk everything)."""
    import shutil
    from datetime import datetime, timedelta

    from archive.db import RETRY_FIRST

    site, db, _, _, _ = faulty
    copy = tmp_path / "archive.db"
    shutil.copy(db, copy)
    url = fault_url(site, 900002)
    first = rows(copy, "select failures, next_try from retries where url = ?", (url,))[0]
    due = datetime.fromisoformat(first["next_try"])

    def night(at: datetime) -> dict:
        hits = len(site.running["mongcai"].hits)
        result = cli("crawl", "mongcai", "--db", str(copy), "--delay", "0", "--timeout", "2", "--json",
                     "--now", at.strftime("%Y-%m-%dT%H:%M:%S%z"), f"--origin=mongcai={site.origins['mongcai']}")
        asked = sum(h.path.endswith("n900002") for h in site.running["mongcai"].hits[hits:])
        return {"asked": asked, **json.loads(result.stdout.splitlines()[0])}

    early = night(due - timedelta(hours=1))
    assert early["asked"] == 0 and early["status"] == "finished"  # not due yet: left alone
    late = night(due + timedelta(minutes=1))
    assert late["asked"] > 0 and late["status"] == "finished"
    second = rows(copy, "select failures, next_try from retries where url = ?", (url,))[0]
    assert second["failures"] == first["failures"] + 1
    waited = datetime.fromisoformat(second["next_try"]) - (due + timedelta(minutes=1))
    assert abs(waited - 2 * RETRY_FIRST) < timedelta(seconds=2)  # --now is given to the second
    status = cli("status", "--db", str(copy))
    assert "keep failing; retried on a schedule" in status.stdout

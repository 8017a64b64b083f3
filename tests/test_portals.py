"""Every shipped portal is a tested unit (as every Fundus publisher is): its profile, its saved pages,
and what each page must give. A portal without its pages fails here, and so does a page that no
longer gives its expected article or links."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from archive.samples.server import SampleSite
from crawler import testpages
from crawler.profile import load_profile, load_profile_file, profile_names
from tests.conftest import cli

PORTALS = profile_names()
PAGES = [(name, page.path.name) for name in PORTALS for page in testpages.saved_pages(load_profile(name))]


def test_every_family_of_the_sample_site_has_a_shipped_portal() -> None:
    with SampleSite(count=0) as site:
        assert set(site.origins) == set(PORTALS)


@pytest.mark.parametrize("portal", PORTALS)
def test_each_portal_has_its_saved_pages_and_their_expected_json(portal: str) -> None:
    assert testpages.problems(load_profile(portal)) == []


@pytest.mark.parametrize(("portal", "page"), PAGES)
def test_each_saved_page_gives_what_is_expected(portal: str, page: str) -> None:
    profile = load_profile(portal)
    saved = next(p for p in testpages.saved_pages(profile) if p.path.name == page)
    got = saved.gives(profile)
    assert got == saved.expected
    if saved.kind == "article":  # a page of the portal, read with its profile: never the fallback
        assert got["extractor"] == "profile" and got["paragraphs"]
    else:
        assert got["links"] and all(profile.is_article(url) for url, _ in got["links"])


def test_a_missing_page_or_json_is_named(tmp_path: Path) -> None:
    source = load_profile("mongcai")
    copy = tmp_path / "mongcai.yaml"
    shutil.copy(source.source, copy)
    shutil.copytree(testpages.folder(source), tmp_path / "mongcai")
    profile = load_profile_file(copy)
    assert testpages.problems(profile) == []
    for meta in (tmp_path / "mongcai").glob("listing-*.json"):
        meta.unlink()
    assert any("listing-1.json beside it" in p for p in testpages.problems(profile))
    assert any("no saved listing page" in p for p in testpages.problems(profile))
    shutil.rmtree(tmp_path / "mongcai")
    assert testpages.problems(profile) == [f"{tmp_path / 'mongcai'}: no folder of saved pages for portal 'mongcai'"]


def test_a_changed_page_fails_its_expectation() -> None:
    profile = load_profile("mongcai")
    saved = next(p for p in testpages.saved_pages(profile) if p.kind == "article")
    tampered = saved.body.replace(saved.expected["title"].encode(), "Một tiêu đề khác hẳn".encode())
    got = testpages.actual("article", tampered, saved.url, profile, saved.content_type, saved.fetched_at,
                           saved.listing_date)
    assert got != saved.expected


def test_add_portal_writes_a_complete_unit_that_passes(sample_site: SampleSite, tmp_path: Path) -> None:
    """A profile made by add-portal, without rules, comes with its pages and passes the same checks."""
    env = {**os.environ, "PORTAL_ARCHIVE_PROFILES": str(tmp_path)}
    origin = sample_site.origins["halong"]
    result = cli("add-portal", f"{origin}/vi-vn/trang/tin-tuc-p24021", "--name", "newcity", env=env)
    assert "saved" in result.stdout
    profile = load_profile("newcity", tmp_path)
    assert profile.rules.body is None  # generic extraction
    assert testpages.problems(profile) == []
    saved = testpages.saved_pages(profile)
    assert {p.kind for p in saved} == {"article", "listing"}
    for page in saved:
        assert page.gives(profile) == page.expected
    article = next(p for p in saved if p.kind == "article")
    expected = {a["fetched_from"]: a for a in sample_site.expected()}[article.url]  # its base_url is the twin
    assert article.expected["paragraphs"] == expected["paragraphs"]  # the generic path got the article right
    assert json.loads(article.path.with_name(article.path.name.replace(".html.gz", ".json")).read_text())["url"] \
        == article.url

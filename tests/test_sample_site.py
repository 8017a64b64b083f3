"""The sample portals: real URL shapes, pagination, feeds and sitemaps, deterministic articles."""

from __future__ import annotations

import urllib.error
import urllib.request
from xml.etree import ElementTree

import pytest

from archive.samples.server import SampleSite
from crawler.profile import load_profile


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, ""


@pytest.mark.parametrize("portal", ["mongcai", "quangninh", "baoquangninh"])
def test_article_urls_have_the_real_portals_shape(sample_site: SampleSite, portal: str) -> None:
    profile = load_profile(portal)
    twin = profile.with_origin(sample_site.origins[portal])
    expected = [e for e in sample_site.expected() if e["portal"] == portal]
    assert expected and all(profile.is_article(e["url"]) for e in expected)  # on the real portal's origin
    assert all(twin.is_article(e["fetched_from"]) for e in expected)  # and served by the twin


@pytest.mark.parametrize("portal", ["mongcai", "quangninh", "baoquangninh"])
def test_listing_pages_link_every_article_across_pagination(sample_site: SampleSite, portal: str) -> None:
    running = sample_site.running[portal]
    family, origin = running.family, running.origin
    linked: list[str] = []
    page = 1
    while True:
        status, html = get(origin + family.listing_path(page))
        if status == 404:
            break
        assert status == 200
        linked += [e["fetched_from"] for e in sample_site.expected() if e["portal"] == portal
                   and e["fetched_from"].removeprefix(origin).replace("&", "&amp;") in html]
        page += 1
    assert page > 2, "the sample listing should span several pages"
    assert sorted(set(linked)) == sorted(e["fetched_from"] for e in sample_site.expected() if e["portal"] == portal)


@pytest.mark.parametrize("portal", ["mongcai", "quangninh", "baoquangninh"])
def test_rss_sitemap_and_robots(sample_site: SampleSite, portal: str) -> None:
    running = sample_site.running[portal]
    origin = running.origin
    status, rss = get(origin + running.family.rss)
    assert status == 200
    links = [e.text for e in ElementTree.fromstring(rss).iter("link")][1:]
    assert len(links) == 20 and all(link.startswith(origin) for link in links)
    status, sitemap = get(origin + "/sitemap.xml")
    locs = [e.text for e in ElementTree.fromstring(sitemap).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert sorted(locs) == sorted(e["fetched_from"] for e in sample_site.expected() if e["portal"] == portal)
    status, robots = get(origin + "/robots.txt")
    assert status == 200 and f"Sitemap: {origin}/sitemap.xml" in robots


def test_pages_carry_the_junk_the_seeds_show(sample_site: SampleSite) -> None:
    mongcai = next(e for e in sample_site.expected() if e["portal"] == "mongcai")
    _, html = get(mongcai["fetched_from"])
    for junk in ["Loading...", "Đang online", "Thống kê truy cập", "Thời tiết", "In bài viết",
                 "Tin cùng chuyên mục", "Cơ quan chủ quản"]:
        assert junk in html
    paper = next(e for e in sample_site.expected() if e["portal"] == "baoquangninh")
    _, html = get(paper["fetched_from"])
    assert html.count(paper["captions"][0].replace('"', "&#34;")) >= 2  # every caption printed twice
    assert "<p>.</p>" in html


def test_each_twin_stands_for_its_profiles_real_origin() -> None:
    from archive.samples.families import ORIGINS

    assert {name: load_profile(name).origin for name in ORIGINS} == ORIGINS


def test_unknown_pages_answer_404(sample_site: SampleSite) -> None:
    origin = sample_site.origins["mongcai"]
    assert get(origin + "/vi-vn/tin/khong-co-p24021-c24087-n1")[0] == 404
    assert get(origin + "/vi-vn/trang/tin-tuc-p24021?pageindex=999")[0] == 404


def test_articles_are_deterministic_and_publishing_adds_newer_ones() -> None:
    with SampleSite(count=5) as one, SampleSite(count=8) as two:
        first = {e["title"] + e["published"] + e["text"] for e in one.expected()}
        second = {e["title"] + e["published"] + e["text"] for e in two.expected()}
        assert first < second  # the same five articles (+ seeds), and three older ones
        newest = max(e["published"] for e in one.expected())
        one.twins["mongcai"].publish(2)
        fresh = [e for e in one.expected() if e["portal"] == "mongcai" and e["published"] > newest]
        assert len(fresh) == 2


def test_many_twins_on_one_port_are_told_apart_by_host_name() -> None:
    from archive.samples.families import FAMILIES
    from archive.samples.server import HostedSites
    from archive.samples.site import Pools, PortalTwin, _load_seeds

    pools = Pools.from_seeds(_load_seeds())
    twins = {f"{name}.portal.test": (PortalTwin(name, None, [], pools, 3), FAMILIES[kind])
             for name, kind in (("p0001", "mongcai"), ("p0002", "baoquangninh"))}
    with HostedSites(twins) as hosted:
        port = hosted.server.server_address[1]
        pages = {}
        for host, running in hosted.running.items():
            article = running.family.twin.articles()[0]
            request = urllib.request.Request(f"http://127.0.0.1:{port}{running.family.article_path(article)}",
                                             headers={"Host": f"{host}:{port}"})
            pages[host] = urllib.request.urlopen(request, timeout=10).read().decode()
            assert article.title in pages[host]
        assert pages["p0001.portal.test"] != pages["p0002.portal.test"]
        unknown = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "elsewhere.test"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(unknown, timeout=10)
        assert err.value.code == 404

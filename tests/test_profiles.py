"""Portal profiles load, validate, and move to another origin without changing anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.samples.families import FAMILIES
from crawler.profile import ProfileError, load_profile, load_profile_file, profile_for_url, profile_names


def test_every_shipped_profile_loads() -> None:
    assert profile_names() == sorted(FAMILIES)  # one shipped profile per sample twin
    for name in profile_names():
        profile = load_profile(name)
        assert profile.base_url.startswith("https://")
        assert profile.rules.body


def test_with_origin_keeps_paths_and_patterns() -> None:
    real = load_profile("quangninh")
    twin = real.with_origin("http://127.0.0.1:9000")
    assert real.is_article("https://www.quangninh.gov.vn/Trang/ChiTietTinTuc.aspx?nid=12345")
    assert twin.is_article("http://127.0.0.1:9000/Trang/ChiTietTinTuc.aspx?nid=12345")
    assert not twin.is_article("https://www.quangninh.gov.vn/Trang/ChiTietTinTuc.aspx?nid=12345")
    assert not twin.is_article("http://127.0.0.1:9001/Trang/ChiTietTinTuc.aspx?nid=12345")
    assert twin.url("/Trang/tin-tuc-su-kien.aspx") == "http://127.0.0.1:9000/Trang/tin-tuc-su-kien.aspx"


def test_profile_is_found_by_host() -> None:
    found = profile_for_url("https://mongcai.gov.vn/vi-vn/tin/abc-p1-c2-n3")
    assert found is not None and found.name == "mongcai"
    assert profile_for_url("https://example.org/") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nbase_url: https://x.vn\nstart_urls: [/]\n", "field 'articles': missing"),
        ("name: x\nbase_url: ftp://x.vn\nstart_urls: [/]\narticles: a\n", "field 'base_url'"),
        ("name: x\nbase_url: https://x.vn\nstart_urls: [/]\narticles: '(('\n", "field 'articles': invalid"),
        ("name: x\nbase_url: https://x.vn\nstart_urls: [/]\narticles: a\nrules: {bdy: x}\n", "unknown keys"),
        ("name: x\nbase_url: https://x.vn\nstart_urls: [/]\narticles: a\nlisting: {page: .pager a}\n",
         "field 'listing': unknown keys ['page']"),
        ("name: x\nbase_url: https://x.vn\nstart_urls: [/]\narticles: a\nlisting: {pages: '.pager a['}\n",
         "field 'listing.pages': invalid CSS selector"),
        ("name: [x\n", "invalid YAML"),
    ],
)
def test_broken_profiles_name_file_field_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_unknown_portal_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown portal 'nowhere'.*known: baoquangninh, halong, mongcai"):
        load_profile("nowhere")

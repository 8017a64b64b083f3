"""A person's search: headless Debian chromium types an unaccented query into Datasette's search box."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import ROOT, rows
from tests.test_datasette import Served, served  # noqa: F401 - the served archive fixture

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
OUTPUT = ROOT / "test-output" / "browser"

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Debian's chromium and chromium-driver: .ci/run installs them")
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_unaccented_query_in_the_search_box_finds_the_article(served: Served, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{served.base}/archive/articles")
    box = browser.find_element(By.CSS_SELECTOR, "input[name=_search]")
    box.send_keys("giao ban thuong truc thanh uy")
    box.send_keys(Keys.ENTER)
    browser.implicitly_wait(10)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Giao ban Thường trực Thành ủy" in body  # the seed article, found without a single accent
    shown = rows(served.db, "select count(*) from articles")[0][0]
    assert f"{shown} rows" not in body  # a search, not the whole table
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / "search-unaccented.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

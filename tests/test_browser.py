"""A person's search: headless Debian chromium types an unaccented query into Datasette's search box."""

from __future__ import annotations

import shutil
from html import escape

import pytest

from tests.conftest import ROOT, rows
from tests.test_datasette import Served, served  # noqa: F401 - the served archive fixture

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
OUTPUT = ROOT / "test-output" / "browser"

if not (CHROMIUM and DRIVER):  # never skipped: `make test` installs them (make test-deps)
    raise RuntimeError("the browser tests need Debian's chromium and chromium-driver: run `make test-deps`")


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


def test_scripts_from_a_crawled_page_stay_inert_text(served: Served, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    from archive.db import Archive
    from archive.extract import extract

    attack = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    page = ("<html><head><title>Tin</title></head><body><article><h1>Tin có mã độc</h1>"
            f"<p>{escape(attack)} Đoạn văn bản dài của bài viết để trích xuất được, "
            "đủ dài để trafilatura giữ lại làm nội dung chính của trang tin này.</p>"
            "<p><a href=\"javascript:document.title='pwned'\">liên kết</a> Thêm một đoạn nữa cho bài viết dài "
            "hơn một chút, để trang có đủ chữ.</p></article></body></html>").encode()
    archive = Archive(served.db)
    archive.save(extract(page, "https://mongcai.gov.vn/vi-vn/tin/ma-doc-n1", portal="mongcai"), page)
    archive.close()
    article_id = rows(served.db, "select id from articles where url like '%ma-doc-n1'")[0][0]
    browser.get(f"{served.base}/archive/articles/{article_id}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "<script>document.title='pwned'</script>" in body  # shown as text
    assert browser.title != "pwned" and browser.execute_script("return document.title") != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "td img[src=x]")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "script-inert.png"))

"""The archive in a real browser (headless Debian chromium): the reading room's pages as a reader sees
them, on a desktop and on a 390 px phone, each screenshot saved under test-output/browser; and nothing
loaded from another host (the browser's own network log)."""

from __future__ import annotations

import shutil
from html import escape

import pytest

from tests.conftest import ROOT, cli, rows
from tests.test_room import Room, one, room  # noqa: F401 - the served archive fixture

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
OUTPUT = ROOT / "test-output" / "browser"
DESKTOP, PHONE = (1280, 1400), (390, 844)

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
                 "--disable-dev-shm-usage", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})  # a reader in Vietnam
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_unaccented_query_in_the_search_box_finds_the_article(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{room.base}/archive/articles")
    box = browser.find_element(By.CSS_SELECTOR, "input[name=_search]")
    box.send_keys("giao ban thuong truc thanh uy")
    box.send_keys(Keys.ENTER)
    browser.implicitly_wait(10)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Giao ban Thường trực Thành ủy" in body  # the seed article, found without a single accent
    shown = rows(room.db, "select count(*) from articles")[0][0]
    assert f"{shown} rows" not in body  # a search, not the whole table
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / "search-unaccented.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_scripts_from_a_crawled_page_stay_inert_text(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    from archive.db import Archive
    from archive.extract import extract

    attack = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    page = ("<html><head><title>Tin</title></head><body><article><h1>Tin có mã độc</h1>"
            f"<p>{escape(attack)} Đoạn văn bản dài của bài viết để trích xuất được, "
            "đủ dài để trafilatura giữ lại làm nội dung chính của trang tin này.</p>"
            "<p><a href=\"javascript:document.title='pwned'\">liên kết</a> Thêm một đoạn nữa cho bài viết dài "
            "hơn một chút, để trang có đủ chữ.</p></article></body></html>").encode()
    archive = Archive(room.db)
    archive.save(extract(page, "https://mongcai.gov.vn/vi-vn/tin/ma-doc-n1", portal="mongcai"), page)
    archive.close()
    article_id = rows(room.db, "select id from articles where url like '%ma-doc-n1'")[0][0]
    browser.get(f"{room.base}/archive/articles/{article_id}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "<script>document.title='pwned'</script>" in body  # shown as text
    assert browser.title != "pwned" and browser.execute_script("return document.title") != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "td img[src=x]")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "script-inert.png"))


# The reading room


def requested(browser) -> list[str]:
    """Every URL the browser asked for since the last call (its performance log)."""
    import json

    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def only_local(browser, room: Room) -> list[str]:  # noqa: F811
    urls = requested(browser)
    assert urls
    elsewhere = [u for u in urls if not u.startswith((room.base + "/", "data:", "about:"))]
    assert not elsewhere, f"loaded from another host: {elsewhere}"
    return urls


def screenshots(browser, name: str) -> None:
    """The page as it is on a desktop, then on a phone."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert width <= size[0]
        overflow = browser.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width + 1, f"{name} scrolls sideways on a {size[0]} px screen"
        shot = OUTPUT / f"{name}-{suffix}.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5_000
    browser.set_window_size(*DESKTOP)


def wait_for(browser, css: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    present = expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    return WebDriverWait(browser, timeout).until(present)


def test_an_article_reads_with_its_photos_and_captions(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    article = one(room.db, "select a.* from articles a where exists (select 1 from article_media m where "
                           "m.url = a.url and m.kind = 'image' and m.sha256 is not null and m.caption is not null) "
                           "order by id limit 1")
    photos = rows(room.db, "select * from article_media where url = ? and kind = 'image' order by position",
                  (article["url"],))
    requested(browser)
    browser.get(f"{room.base}/archive/articles/{article['id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == article["title"]
    shown = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".room-body p")]
    assert shown == [p for p in article["text"].split("\n") if p.strip()]
    images = browser.find_elements(By.CSS_SELECTOR, ".room-photo img")
    assert len(images) == len([p for p in photos if p["sha256"]])  # a photo that could not be had says so
    for image in images:
        browser.execute_script("arguments[0].scrollIntoView()", image)
    browser.implicitly_wait(0)
    for image in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    captions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".room-photo figcaption")]
    assert captions == [p["caption"] for p in photos if p["caption"]]
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "vi"
    browser.find_element(By.CSS_SELECTOR, ".room-archived summary").click()  # the page as fetched, sandboxed
    frame = wait_for(browser, ".room-archived iframe")
    assert frame.get_attribute("sandbox") == ""
    browser.execute_script("window.scrollTo(0, 0)")
    screenshots(browser, "article")
    urls = only_local(browser, room)
    assert f"{room.base}/-/page/{article['id']}" in urls


def cards(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".room-card h3 a")]


def search_for(browser, room: Room, query: str) -> list[str]:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{room.base}/search")
    box = browser.find_element(By.CSS_SELECTOR, ".room-search input[name=q]")
    box.send_keys(query)
    box.send_keys(Keys.ENTER)
    wait_for(browser, ".room-summary")
    return cards(browser)


def first_hit(room: Room, query: str) -> str:  # noqa: F811
    """The article `portal-archive search` ranks first, as its page's address."""
    import json

    hit = json.loads(cli("search", query, "--db", str(room.db), "--json", "--limit", "1").stdout.splitlines()[0])
    article_id = rows(room.db, "select id from articles where url = ?", (hit["url"],))[0][0]
    return f"{room.base}/archive/articles/{article_id}"


def test_people_search_without_accents_or_in_telex_and_click_a_facet(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    requested(browser)
    found = search_for(browser, room, "dang uy mong cai")
    assert found and found[0] == first_hit(room, "Đảng ủy Móng Cái")
    screenshots(browser, "search")
    telex = search_for(browser, room, "dangr uy")
    assert telex and telex[0] == first_hit(room, "đảng ủy")
    assert "dảng" in browser.find_element(By.CSS_SELECTOR, ".room-read-as").text
    facet = browser.find_elements(By.CSS_SELECTOR, "a.room-facet[data-facet=portal]")[-1]
    name = facet.text
    facet.click()
    wait_for(browser, ".room-facets .room-active")
    assert "portal=" in browser.current_url
    shown = browser.find_elements(By.CSS_SELECTOR, ".room-card .room-meta")
    assert shown and all(card.text.startswith(name) for card in shown)
    screenshots(browser, "search-facet")
    only_local(browser, room)


def test_the_charts_draw_one_mark_per_month(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    requested(browser)
    browser.get(f"{room.base}/charts")
    wait_for(browser, "body[data-charts-drawn=true]", timeout=60)
    assert not browser.find_elements(By.CSS_SELECTOR, "figure[data-error]")
    months = rows(room.db, "select count(distinct month) from articles where month is not null")[0][0]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-all .mark-rect path")) == months
    for portal, n in rows(room.db, "select portal, count(distinct month) from articles where month is not null "
                                   "group by portal"):
        assert len(browser.find_elements(By.CSS_SELECTOR, f"#chart-portal-{portal} .mark-rect path")) == n
    retired = [name for (name,) in rows(room.db, "select name from portals where retired is not null")]
    assert retired
    for portal in retired:
        assert browser.find_elements(By.CSS_SELECTOR, f"#chart-portal-{portal} .mark-rule line, "
                                                      f"#chart-portal-{portal} .mark-rule path")
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-health .mark-line path")
    screenshots(browser, "charts")
    only_local(browser, room)


def test_the_home_page_reads_on_a_phone(room: Room, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    requested(browser)
    browser.get(f"{room.base}/")
    portals = rows(room.db, "select count(*) from portals")[0][0]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".room-portals li")) == portals
    screenshots(browser, "home")
    only_local(browser, room)

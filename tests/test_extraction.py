"""Extraction against the labelled set (five seeds × five layouts) and the sample portals' pages."""

from __future__ import annotations

import json
import unicodedata
import urllib.request
from datetime import datetime

import pytest
from lxml import etree

from archive.dates import VN, infer_lead_date
from archive.extract import Hints, extract
from archive.samples.server import SampleSite
from bench.extraction_quality import Case, load_cases
from crawler.profile import profile_for_url

CASES = load_cases()
# Which path each layout takes: the modern page is a redesign its portal's profile no longer matches.
PATHS = {"city": "profile", "sharepoint": "profile", "newspaper": "profile", "legacy": "generic",
         "modern": "generic-fallback"}


def test_the_labelled_set_covers_five_layouts_of_every_seed() -> None:
    assert len(CASES) == 25
    assert {c.layout for c in CASES} == set(PATHS)
    assert {c.name.split("/")[1] for c in CASES} == {c.name.split("/")[1] for c in CASES if c.layout == "city"}


def _run(case: Case, use_profile: bool) -> dict:
    profile = profile_for_url(case.expected["url"]) if use_profile else None
    article = extract(case.html, case.expected["url"], portal=profile.name if profile else None,
                      rules=profile.rules if profile else None, hints=Hints(**case.hints))
    return article.as_dict()


@pytest.mark.parametrize("use_profile", [True, False], ids=["with-profile", "generic-only"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_article_is_extracted_exactly(case: Case, use_profile: bool) -> None:
    got, want = _run(case, use_profile), case.expected
    assert got["title"] == want["title"]
    assert got["paragraphs"] == want["paragraphs"]
    assert got["captions"] == want["captions"]
    assert (got["author"], got["unit"]) == (want["author"], want["unit"])
    assert got["published"] == want["published"]
    assert got["extractor"] == (PATHS[case.layout] if use_profile else "generic")


def test_lxml_html_s_own_parser_would_extract_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extraction parses with a parser that gives every element lxml.html's HtmlElement class in C
    (lxml.html's own asks Python, once per element reached, for form fields' classes): every labelled
    page, on both paths, comes out as lxml.html's parser would have it."""
    from lxml import html
    from parsel.selector import create_root_node

    import archive.extract

    field = create_root_node("<form><input name='q'></form>", archive.extract._HtmlParser).find(".//input")
    assert type(field) is html.HtmlElement and field.text_content() == ""
    ours = [(_run(case, True), _run(case, False)) for case in CASES]
    monkeypatch.setattr(archive.extract, "_HtmlParser", html.HTMLParser)
    assert type(create_root_node("<input>", archive.extract._HtmlParser).find(".//input")) is html.InputElement
    assert [(_run(case, True), _run(case, False)) for case in CASES] == ours


@pytest.mark.parametrize("case", [c for c in CASES if c.layout in ("legacy", "modern")], ids=lambda c: c.name)
def test_text_is_nfc_whatever_the_page_encoding(case: Case) -> None:
    got = _run(case, use_profile=False)
    for line in [got["title"], *got["paragraphs"], *got["captions"]]:
        assert unicodedata.is_normalized("NFC", line)
        assert "\xa0" not in line and "  " not in line


def test_pages_that_misstate_their_charset_still_decode() -> None:
    modern = next(c for c in CASES if c.layout == "modern")
    assert b'charset="windows-1252"' in modern.html or b"charset=windows-1252" in modern.html
    legacy = next(c for c in CASES if c.layout == "legacy")
    assert b"windows-1258" in legacy.html
    with pytest.raises(UnicodeDecodeError):
        legacy.html.decode("utf-8")
    assert _run(legacy, use_profile=False)["title"] == legacy.expected["title"]


@pytest.mark.parametrize("css", ["_CAPTION_NODES", "_BYLINE_NODES", "_DATE_NODES"])
def test_the_generic_path_s_node_tests_pick_what_their_css_picks(css: str) -> None:
    """The generic path finds captions, bylines and date lines with a Python test of each element
    (built from the CSS), not lxml's XPath: on every labelled page both pick the same elements."""
    import parsel

    import archive.extract
    from archive.text import decode_html

    selector = getattr(archive.extract, css)
    matches = archive.extract._matcher(selector)
    picked = 0
    for case in CASES:
        html = case.html if isinstance(case.html, str) else decode_html(case.html)
        page = parsel.Selector(root=archive.extract.create_root_node(html, archive.extract._HtmlParser))
        want = [n.root for n in page.css(selector)]
        assert list(archive.extract._picked(page.root, matches)) == want, case.name
        picked += len(want)
    assert picked  # the pages have such nodes: the comparison is not of empty lists


@pytest.mark.parametrize("css", ["div p", "a[href^=x]", "[class~=x]", "p:first-child", "#main", ".x"])
def test_a_node_test_refuses_css_it_cannot_read(css: str) -> None:
    import archive.extract

    with pytest.raises(ValueError, match="not a plain selector"):
        archive.extract._matcher(css)


def test_the_date_source_is_recorded() -> None:
    by_layout = {c.layout: _run(c, True) for c in CASES if c.name.endswith("000_51e18d3c6b6234b7")}
    assert by_layout["city"]["published_from"] == "page"
    assert by_layout["modern"]["published_from"] == "metadata"
    listing = next(c for c in CASES if c.hints)
    assert _run(listing, True)["published_from"] == "listing"


def test_a_lead_without_year_takes_it_from_the_url_the_text_or_the_crawl_date() -> None:
    crawl_day = datetime(2026, 11, 23, tzinfo=VN)
    old = "https://baoquangninh.com.vn/chinh-tri/202303/hoi-nghi-giao-ban-123/"
    assert infer_lead_date("Ngày 21/3, Thành ủy Hạ Long", old, crawl_day) == datetime(2023, 3, 21, tzinfo=VN)
    cites = "theo kế hoạch số 188/KH-UBND ngày 7/10/2021 của UBND tỉnh"
    assert infer_lead_date("Sáng 20/10, Thường trực", "https://mongcai.gov.vn/x", crawl_day, cites) == \
        datetime(2021, 10, 20, tzinfo=VN)
    # Nothing but the crawl date: the latest such day that is not in the future.
    assert infer_lead_date("Sáng 30/11, hội nghị", "https://x.vn/a", crawl_day) == datetime(2025, 11, 30, tzinfo=VN)
    assert infer_lead_date("Sáng 20/11, hội nghị", "https://x.vn/a", crawl_day) == datetime(2026, 11, 20, tzinfo=VN)
    assert infer_lead_date("Hội nghị sáng nay", "https://x.vn/a", crawl_day) is None


def test_seed_page_without_date_gets_its_day_from_the_lead() -> None:
    case = next(c for c in CASES if c.layout == "city" and c.hints)
    got = extract(case.html, case.expected["url"], hints=Hints(fetched_at=datetime(2026, 11, 23, tzinfo=VN)))
    assert got.published == "2021-10-20T00:00:00+07:00" and got.published_from == "lead"


def test_generic_path_matches_every_sample_portal_page(sample_site: SampleSite) -> None:
    """No profile at all: every page of the three twins still yields exactly the expected article."""
    for want in sample_site.expected():
        with urllib.request.urlopen(want["fetched_from"]) as response:
            page = response.read()
        got = extract(page, want["url"])
        assert got.extractor == "generic"
        assert (got.title, got.paragraphs, got.captions) == (want["title"], want["paragraphs"], want["captions"])
        assert (got.author, got.unit) == (want["author"], want["unit"]), want["url"]
        if got.published_from != "lead":  # the one seed page whose date only its listing shows
            assert got.published == want["published"], want["url"]
        else:
            assert got.published[:10] == want["published"][:10]


CJK = "韓国が戒厳令、尹大統領「野党が反国家行為」"
BODY = "<p>" + "Đoạn văn bản đủ dài của bài viết, kể lại một hội nghị của thành phố trong quý vừa qua. " * 3 + "</p>"


@pytest.mark.parametrize(("url", "head", "meta", "title"), [
    ("https://www.citizen.co.za/news/a", "Eskom warns of load shedding | The Citizen",
     '<meta property="og:site_name" content="The Citizen">', "Eskom warns of load shedding"),
    ("https://www.seznamzpravy.cz/clanek/a", "Vláda schválila rozpočet na příští rok - Seznam Zprávy", "",
     "Vláda schválila rozpočet na příští rok"),
    ("https://www.dw.com/de/a", "Post-Vac-Syndrom: Was wissen wir? – DW – 13.06.2023", "",
     "Post-Vac-Syndrom: Was wissen wir?"),
    ("https://halong.gov.vn/vi-vn/tin/a", "Hội nghị giao ban quý 1/2023 - Cổng thông tin điện tử Thành phố Hạ Long",
     "", "Hội nghị giao ban quý 1/2023"),
    # A separator inside the headline is the headline's own.
    ("https://example.vn/a", "Móng Cái: Thành phố biên giới năng động", "", "Móng Cái: Thành phố biên giới năng động"),
    # The site's name and then the author.
    ("https://www.thegatewaypundit.com/a", "New plot twist in the case | The Gateway Pundit | by Cristina Laila", "",
     "New plot twist in the case"),
    ("https://example.org/a", "Vietnam's economy - by the numbers", "", "Vietnam's economy - by the numbers"),
    # A headline with no spaces (CJK) is a headline all the same.
    ("https://www.yomiuri.co.jp/a", "読売新聞オンライン", f"<meta property='og:title' content='{CJK}'>", CJK),
])
def test_titles_lose_the_site_name_and_keep_their_own_words(url: str, head: str, meta: str, title: str) -> None:
    page = f"<html><head><title>{head}</title>{meta}</head><body><article>{BODY}</article></body></html>"
    assert extract(page, url).title == title


def test_a_rubric_after_the_declared_title_gives_way_to_the_page_s_own_headline() -> None:
    meta = "<meta property='og:title' content='Russia hits Kyiv with ballistic missile - National'>"
    page = (f"<html><head>{meta}</head><body><article><h1>Russia hits Kyiv with ballistic missile</h1>{BODY}"
            "</article></body></html>")
    assert extract(page, "https://globalnews.ca/news/a").title == "Russia hits Kyiv with ballistic missile"


@pytest.mark.parametrize(("closing", "author", "unit"), [
    ("Thu Hằng - Hải Đăng (Trung tâm TT&VH Móng Cái)", "Thu Hằng - Hải Đăng", "Trung tâm TT&VH Móng Cái"),
    ("Bài, ảnh: Vi Thu, Trần Bình - Trung tâm Truyền thông và Văn hóa thành phố Móng Cái", "Vi Thu, Trần Bình",
     "Trung tâm Truyền thông và Văn hóa thành phố Móng Cái"),
    ("Nguyễn Thị Thu Hằng (TTTT&VH Móng Cái)", "Nguyễn Thị Thu Hằng", "TTTT&VH Móng Cái"),
])
def test_author_co_author_and_unit_on_one_line_are_split(closing: str, author: str, unit: str) -> None:
    page = f"<html><body><article><h1>Hội nghị giao ban quý 1</h1>{BODY}<p>{closing}</p></article></body></html>"
    article = extract(page, "https://example.vn/a")
    assert (article.author, article.unit) == (author, unit)
    assert closing not in article.text and article.paragraphs


def test_a_closing_sentence_with_a_dash_stays_in_the_body() -> None:
    closing = "Hội nghị kéo dài trong hai ngày, từ sáng thứ Hai - Trung tâm hội nghị tỉnh"
    page = f"<html><body><article><h1>Hội nghị giao ban quý 1</h1>{BODY}<p>{closing}</p></article></body></html>"
    assert extract(page, "https://example.vn/a").paragraphs[-1] == closing


def test_comment_markup_is_never_a_caption() -> None:
    ie = "<!--[if IE 9]><video style='display: none;'><![endif]-->"
    figure = f"<figure><img src='a.jpg'><figcaption>{ie}Toàn cảnh hội nghị{ie}</figcaption></figure>"
    page = f"<html><body><article><h1>Hội nghị giao ban quý 1</h1>{BODY}{figure}{BODY}</article></body></html>"
    article = extract(page, "https://example.vn/a")
    assert article.captions == ["Toàn cảnh hội nghị"]
    assert not any("if IE" in line or "video" in line for line in article.paragraphs)


@pytest.mark.parametrize("header", [
    "<div class='x1'><span style='font-size:22px'>Móng Cái ra quân làm sạch bãi biển Trà Cổ</span></div>",
    "<div><b>Móng Cái ra quân làm sạch bãi biển Trà Cổ</b></div><div>Cập nhật: 11/07/2024 16:58</div>",
    "<table><tr><td><font size='4'>Móng Cái ra quân làm sạch bãi biển Trà Cổ</font></td></tr></table>",
])
def test_a_headline_under_a_generic_title_is_found_by_its_prominence(header: str) -> None:
    """`<title>` and og:title name only the portal and a rubric; the headline is a plain styled line."""
    page = ("<html><head><title>Cổng thông tin điện tử thành phố Móng Cái - Tin tức</title>"
            "<meta property='og:title' content='UBND thành phố Móng Cái'></head><body>"
            "<div><span>CỔNG THÔNG TIN ĐIỆN TỬ THÀNH PHỐ MÓNG CÁI</span></div>"
            "<ul><li><a href='/'>Trang chủ</a></li><li><a href='/tin'>Tin tức sự kiện</a></li></ul>"
            f"<div><span>Tin hoạt động</span></div>{header}<div class='c2'>{BODY}</div></body></html>")
    assert extract(page, "https://mongcai.gov.vn/tin/a").title == "Móng Cái ra quân làm sạch bãi biển Trà Cổ"


ARTICLE = "".join(f"<p>Đoạn {n}: hội đồng nhân dân thành phố họp phiên thường kỳ, nghe báo cáo tình hình kinh tế, "
                  "xã hội và quyết định các nhiệm vụ trọng tâm của năm tới.</p>" for n in range(8))
ARTICLE_PAGE = f"<html><body><nav><a href='/'>Trang chủ</a></nav><main><article>{ARTICLE}</article></main></body>"


def _tree(xml: str) -> etree._Element:
    """What ``_xml`` returns: trafilatura's XML output as a tree."""
    return etree.fromstring(xml)


def _counting_modes(monkeypatch: pytest.MonkeyPatch, pruned: bool) -> list[str]:
    """Record which trafilatura modes are asked; with ``pruned``, precision mode loses the article."""
    import archive.extract

    real, modes = archive.extract._xml, []

    def extract_as(document: object, images: bool, **focus: bool) -> etree._Element | None:
        modes.append("precision" if focus.get("precision") else "recall" if focus.get("recall") else "balanced")
        if pruned and focus.get("precision"):
            return _tree("<doc><main><p>Đoạn 0: hội đồng nhân dân thành phố họp phiên thường kỳ.</p></main></doc>")
        return real(document, images, **focus)

    monkeypatch.setattr(archive.extract, "_xml", extract_as)
    return modes


def test_when_precision_mode_prunes_the_article_the_balanced_mode_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    modes = _counting_modes(monkeypatch, pruned=True)
    article = extract(ARTICLE_PAGE, "https://example.vn/a")
    assert modes == ["precision", "balanced"]
    assert [p.split(":")[0] for p in article.paragraphs] == [f"Đoạn {n}" for n in range(8)]


def test_a_page_precision_mode_reads_whole_costs_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    modes = _counting_modes(monkeypatch, pruned=False)
    assert len(extract(ARTICLE_PAGE, "https://example.vn/a").paragraphs) == 8
    assert modes == ["precision"]


def _shape(doc: etree._Element | None) -> list[tuple] | None:
    """Every element of trafilatura's output with its attributes and text, NFC, whitespace aside."""
    def nfc(text: str | None) -> str:
        return unicodedata.normalize("NFC", (text or "").strip())
    if doc is None:
        return None
    return [(e.tag, {k: nfc(v) for k, v in e.attrib.items() if k != "fingerprint"}, nfc(e.text), nfc(e.tail))
            for e in doc.iter()]


@pytest.mark.parametrize("focus", [{"precision": True, "fast": True}, {}, {"recall": True}],
                         ids=["precision", "balanced", "recall"])
def test_trafilatura_s_output_is_taken_as_it_would_print_it(focus: dict[str, bool]) -> None:
    """``_xml`` takes trafilatura's result as a tree, skipping the fingerprint, the printing and the
    parsing again: on every labelled page, in every mode, it holds what ``trafilatura.extract`` prints."""
    import trafilatura

    from archive.extract import _xml

    names = {"precision": "favor_precision", "recall": "favor_recall", "fast": "fast"}
    for case in CASES:
        printed = trafilatura.extract(case.html, output_format="xml", include_images=True, include_tables=True,
                                      include_comments=False, deduplicate=False, with_metadata=False,
                                      **{names[k]: v for k, v in focus.items()})
        theirs = _shape(etree.fromstring(printed)) if printed else None
        assert theirs, case.name
        assert _shape(_xml(case.html, True, **focus)) == theirs, case.name


def test_chrome_is_deleted_before_trafilatura_reads_the_page_but_never_the_article(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Menus, footers and scripts are gone from the tree trafilatura is handed (it would delete them
    itself, after reading them in every pass); an article printed inside an <aside> is not, so that
    trafilatura's recall mode still finds it."""
    import archive.extract

    menu = "<nav>" + "".join(f"<a href='/m/{n}'>Mục {n}</a>" for n in range(30)) + "</nav>"
    footer = "<footer><p>Cơ quan chủ quản: Ủy ban nhân dân thành phố</p><script>var x = 1;</script></footer>"
    paragraphs = [f"Đoạn {n}: hội đồng nhân dân thành phố họp phiên thường kỳ, thông qua các nghị quyết về "
                  "kinh tế, xã hội và quốc phòng, an ninh trong năm." for n in range(5)]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    handed: list[list[str]] = []
    real = archive.extract._xml

    def seen(document: object, images: bool, **focus: bool) -> etree._Element | None:
        if not isinstance(document, str):
            handed.append([e.tag for e in document.iter() if isinstance(e.tag, str)])
        return real(document, images, **focus)

    monkeypatch.setattr(archive.extract, "_xml", seen)
    head = "<head><script type='application/ld+json'>{}</script></head>"
    page = f"<html>{head}<body>{menu}<main>{body}</main>{footer}</body></html>"
    assert extract(page, "https://example.vn/a").paragraphs == paragraphs
    assert handed and not {"nav", "footer", "a"} & set(handed[0])
    assert "script" in handed[0]  # the JSON-LD, which trafilatura reads
    aside = f"<html><body>{menu}<aside>{body}</aside>{footer}</body></html>"
    assert extract(aside, "https://example.vn/a").paragraphs == paragraphs
    assert "aside" in handed[-1]


def _chunk(n: int) -> str:
    paragraphs = "".join(f"<p>Phần {n}, đoạn {k}: ủy ban nhân dân thành phố triển khai kế hoạch chỉnh trang đô thị, "
                         "lấy ý kiến người dân các khu phố trước khi thi công.</p>" for k in range(3))
    return (f"<div class='grid'><div class='body__container'>{paragraphs}</div>"
            "<aside class='ad'><p>Quảng cáo</p></aside></div>")


def test_a_body_split_over_sibling_blocks_comes_out_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura keeps the first of three chunks of the article; the other two are put back, in order,
    and neither the teaser list nor the line it dropped inside the kept chunk comes back."""
    import archive.extract

    teasers = "".join(f"<li><div class='teaser'><p>Tin khác số {n}: một bài viết khác của chuyên mục, được giới "
                      "thiệu ở cuối trang để người đọc xem tiếp.</p></div></li>" for n in range(3))
    page = (f"<html><body><main><article><h1>Chỉnh trang đô thị</h1><div class='chunks'>"
            f"{''.join(_chunk(n) for n in range(3))}</div></article><ul>{teasers}</ul></main></body></html>")
    kept = ["Phần 0, đoạn 0", "Phần 0, đoạn 2"]  # what trafilatura keeps: part of the first chunk

    def first_chunk(document: object, images: bool, **focus: bool) -> etree._Element:
        lines = "".join(f"<p>{p}: ủy ban nhân dân thành phố triển khai kế hoạch chỉnh trang đô thị, lấy ý kiến "
                        "người dân các khu phố trước khi thi công.</p>" for p in kept)
        return _tree(f"<doc><main>{lines}</main></doc>")

    monkeypatch.setattr(archive.extract, "_xml", first_chunk)
    article = extract(page, "https://example.vn/a")
    got = [p.split(":")[0] for p in article.paragraphs]
    assert got == kept + [f"Phần {n}, đoạn {k}" for n in (1, 2) for k in range(3)]


def test_the_standfirst_is_kept_and_an_author_bio_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.extract

    lead = "Thành phố Móng Cái đặt mục tiêu hoàn thành chỉnh trang toàn bộ tuyến phố ven sông trong năm nay."
    bio = "Thu Hằng là phóng viên của Trung tâm Truyền thông và Văn hóa thành phố Móng Cái từ năm 2015."
    body = [f"Đoạn {n}: ủy ban nhân dân thành phố triển khai kế hoạch chỉnh trang đô thị, lấy ý kiến người dân "
            "các khu phố trước khi thi công." for n in range(3)]
    person = json.dumps({"@type": "Person", "name": "Thu Hằng", "description": bio}, ensure_ascii=False)
    page = (f"<html><head><meta property='og:description' content='{lead}'>"
            f"<script type='application/ld+json'>{person}</script></head><body><main><h1>Chỉnh trang đô thị</h1>"
            f"<div class='sapo'><b>{lead}</b></div>{''.join(f'<p>{p}</p>' for p in body)}"
            f"<div class='author-box'><p>{bio}</p></div></main></body></html>")

    def without_lead(document: object, images: bool, **focus: bool) -> etree._Element:  # lead left out
        return _tree("<doc><main>" + "".join(f"<p>{p}</p>" for p in body) + "</main></doc>")

    monkeypatch.setattr(archive.extract, "_xml", without_lead)
    assert extract(page, "https://example.vn/a").paragraphs == [lead, *body]
    without_description = page.replace(f"<meta property='og:description' content='{lead}'>", "")
    assert extract(without_description, "https://example.vn/a").paragraphs == body


def test_a_table_row_is_one_line_with_every_cell() -> None:
    rows = [("1", "Phường Hải Hòa", "120", "0", "0"), ("2", "Phường Trà Cổ", "95", "0", "3")]
    table = "<table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    page = f"<html><body><article><h1>Kết quả thi đua năm 2024</h1>{BODY}{table}{BODY}</article></body></html>"
    lines = extract(page, "https://example.vn/a").paragraphs
    assert [" ".join(r) for r in rows] == [line for line in lines if line[0].isdigit()]

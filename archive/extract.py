"""Turn one fetched article page into a clean article.

trafilatura removes the boilerplate. A portal profile's rules (CSS or XPath selectors) narrow it to
the article node and say where the title, date, captions and byline are; without them (no profile, or
a redesign that the selectors no longer match) the generic path finds them from the page's own
signals: marked-up captions and bylines, photos followed by a short line, JSON-LD and meta tags, and
a date line near the headline. Either way, what is kept is cleaned by the generic Vietnamese rules in
``generic.yaml``. The crawl pipeline, ``portal-archive extract`` and ``reextract`` all call
:func:`extract`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

import cssselect
import parsel
import yaml
from lxml import etree
from lxml import html as lxml_html
from parsel.csstranslator import HTMLTranslator
from parsel.selector import create_root_node
from trafilatura.core import Document, bare_extraction
from trafilatura.settings import Extractor
from trafilatura.utils import sanitize_tree
from trafilatura.xml import (
    CONTROL_PARSER,
    build_xml_output,
    delete_element,
    keeps_empty,
    remove_empty_elements,
    strip_double_tags,
)

from archive.dates import infer_lead_date, isoformat, parse_date, parse_iso, plausible
from archive.model import VN, Article, Hints, Rules
from archive.text import clean, decode_html, fold, letters, story_key

# Elements of trafilatura's XML output that hold one block of text each.
_BLOCKS = {"p", "head", "item", "cell", "quote"}
# The longest a stored field may be, in characters: a page with a 1 MB <title> or byline must not make
# every page that shows it a megabyte long (the page itself is kept whole, as fetched).
BOUNDS = {"title": 500, "author": 200, "unit": 200, "caption": 1000}
# Longest text that can still be a photo caption when only its place (after a photo) says so.
_CAPTION_MAX = 250
# Where a page without a profile marks up its captions and bylines.
_CAPTION_NODES = "figcaption, [class*=caption], [class*=Caption], [class*=chuthich], [class*=image_desc]"
_BYLINE_NODES = (
    "[class*=author], [class*=byline], [itemprop=author], [class*=tacgia], [class*=tac-gia], "
    "[align=right], [style*='text-align: right'], [style*='text-align:right']"
)
_DATE_NODES = "time, [class*=date], [class*=time], [class*=ngay]"


def _matcher(css: str) -> Callable[[etree._Element], bool]:
    """A test of one element for a list of plain CSS selectors (`tag`, `[a=v]`, `[a*=v]`), for a walk
    of the page in Python: lxml's XPath reads `contains(@class, …)` on every element several times
    slower than Python's ``in`` does, and a union of such paths walks the page once per selector."""
    tags: set[str] = set()
    tests: dict[str, tuple[set[str], list[str]]] = {}  # attribute: (values it equals, substrings)
    for selector in cssselect.parse(css):
        tree = selector.parsed_tree
        if isinstance(tree, cssselect.parser.Element) and tree.element and not tree.namespace:
            tags.add(tree.element.lower())
        elif (isinstance(tree, cssselect.parser.Attrib) and tree.operator in ("=", "*=")
              and isinstance(tree.selector, cssselect.parser.Element) and tree.selector.element is None):
            equals, contains = tests.setdefault(tree.attrib.lower(), (set(), []))
            value = tree.value.value if isinstance(tree.value, cssselect.parser.Token) else tree.value
            (equals.add if tree.operator == "=" else contains.append)(value)
        else:
            raise ValueError(f"not a plain selector: {selector.canonical()}")
    groups = tuple((attribute, frozenset(equals), tuple(contains)) for attribute, (equals, contains) in tests.items())

    def matches(element: etree._Element) -> bool:
        if element.tag in tags:
            return True
        for attribute, equals, contains in groups:
            value = element.get(attribute)
            if value is not None and (value in equals or any(part in value for part in contains)):
                return True
        return False

    return matches


def _picked(root: etree._Element, matches: Callable[[etree._Element], bool]) -> Iterator[etree._Element]:
    """The elements at or under ``root`` that ``matches`` picks, in document order, found as they are
    read: the first date line on a page ends the walk."""
    return (element for element in root.iter(etree.Element) if matches(element))


_IS_CAPTION, _IS_BYLINE, _IS_DATE = map(_matcher, (_CAPTION_NODES, _BYLINE_NODES, _DATE_NODES))
# The expressions run on every page are compiled once (``element.xpath()`` compiles them on each call).
# Text nodes outside links and lists: where a page prints its own date line.
_FREE_TEXT = etree.XPath("//body//text()[normalize-space()][not(ancestor::a or ancestor::li or ancestor::script "
                         "or ancestor::style or ancestor::option or ancestor::title)]")
_STRING = etree.XPath("string()")
_WITH_BREAKS = etree.XPath("//*[br]")
# The generic path's own queries, compiled as parsel would run them but without a Selector made for
# each node found.
_CSS = HTMLTranslator()
_STAMPS_AT = etree.XPath("//time[@pubdate or @itemprop='datePublished']/@datetime", smart_strings=False)
_JSONLD_AT = etree.XPath(_CSS.css_to_xpath('script[type="application/ld+json"]::text'), smart_strings=False)
_HEADINGS = etree.XPath(_CSS.css_to_xpath("h1"))
_LINKED = etree.XPath("ancestor-or-self::a | .//a")


# lxml.html's parser asks Python for each element's class (form fields have classes of their own)
# every time an element is reached; trafilatura's passes over the page reach each one many times.
# This parser decides in C: every element is an HtmlElement, whose methods are all that is used here.
_ELEMENT_CLASSES = etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity)


class _HtmlParser(etree.HTMLParser):
    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.set_element_class_lookup(_ELEMENT_CLASSES)


@dataclass
class _Generic:
    junk: re.Pattern[str]
    unit: re.Pattern[str]
    site_words: re.Pattern[str]
    byline_max_words: int


@cache
def _generic() -> _Generic:
    data = yaml.safe_load(resources.files("archive").joinpath("generic.yaml").read_text("utf-8"))
    return _Generic(
        junk=_alternation(data["junk"]),
        unit=re.compile(data["unit"], re.IGNORECASE),
        site_words=_alternation(data["site_words"]),
        byline_max_words=data["byline_max_words"],
    )


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def select(node: parsel.Selector, selector: str) -> parsel.SelectorList:
    """The nodes a profile selector picks: XPath when it starts with `/`, `(` or `./`, else CSS."""
    return node.xpath(selector) if selector.startswith(("/", "(", "./")) else node.css(selector)


def _text(node: parsel.Selector) -> str:
    # what node.xpath("string()") gives, without a Selector made for it: "" for a text or attribute
    root = node.root
    return clean(_STRING(root)) if isinstance(root, etree._Element) else ""


def _texts(nodes: parsel.SelectorList) -> list[str]:
    return [t for t in map(_text, nodes) if t]


def _first_text(node: parsel.Selector, selector: str | None) -> str | None:
    texts = _texts(select(node, selector)) if selector else []
    return texts[0] if texts else None


def _take(scope: parsel.Selector, selector: str | Callable[[etree._Element], bool] | None,
          max_words: int | None = None) -> list[str]:
    """Texts of the nodes a selector (a profile's, or one of the generic path's matchers) picks (up to
    ``max_words`` long), removing them from the page."""
    if not selector:
        return []
    picked = (select(scope, selector) if isinstance(selector, str)
              else [parsel.Selector(root=e) for e in _picked(scope.root, selector)])
    nodes = parsel.SelectorList(n for n in picked if max_words is None or len(_text(n).split()) <= max_words)
    texts = [line for n in nodes if isinstance(n.root, etree._Element) for line in _lines(n.root)]
    nodes.drop()
    return texts


def _lines(element: etree._Element) -> list[str]:
    """The lines of text in an element: <br> and block elements end a line."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        block = node.tag == "br" or node.tag in _BLOCK_TAGS
        parts.append("\n" if block else "")
        if isinstance(node.tag, str):  # a comment's text (`[if IE 9]><video …`) is not the page's
            parts.append(node.text or "")
        for child in node:
            walk(child)
            parts.append(child.tail or "")
        parts.append("\n" if block else "")

    walk(element)
    return [line for line in map(clean, "".join(parts).split("\n")) if line]


def _jsonld(page: parsel.Selector) -> list[dict]:
    found: list[dict] = []
    for raw in _JSONLD_AT(page.root):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            data = data.get("@graph", [data])
        items = data if isinstance(data, list) else []
        found += [item for item in items if isinstance(item, dict)]
    return found


def _meta(page: parsel.Selector, *names: str) -> str | None:
    """The content of the page's first <meta> with the first of ``names`` that has one, as property,
    name or itemprop."""
    found = _METAS.get(page)
    if found is None:  # read once per page: a query per name would walk the whole page each time
        found = _METAS[page] = {}
        for meta in page.root.iter("meta"):
            if (content := meta.get("content")) is not None:
                for attribute in ("property", "name", "itemprop"):
                    if (name := meta.get(attribute)) is not None:
                        found.setdefault(name, content)
    for name in names:
        value = found.get(name)
        if value and value.strip():
            return clean(value)
    return None


_METAS: weakref.WeakKeyDictionary[parsel.Selector, dict[str, str]] = weakref.WeakKeyDictionary()


# Where a <title> or og:title joins the headline to the site's name, a rubric or a date.
_TITLE_SEPARATOR = re.compile(r"\s+[|–—\-·»:*]\s+|\s*[｜：]\s*|\s+[|]\s*")
_DATE_PART = re.compile(r"[\d./\-\s]+")
# The word before a byline a title carries after the site's name: `| by Cristina Laila`.
_BY = {"by", "von", "par", "di", "por", "door", "av", "af"}


def _is_byline(tail: str) -> bool:
    """`by Cristina Laila`: a byline word, then one to four capitalised names (not `by the numbers`)."""
    first, *names = tail.split() or [""]
    return first.lower() in _BY and 1 <= len(names) <= 4 and all(n[:1].isupper() for n in names)


def _site_names(page: parsel.Selector, jsonld: list[dict], url: str) -> set[str]:
    """The names a page's title may carry besides the headline: its site name, publisher, host."""
    names = {_meta(page, "og:site_name", "application-name", "twitter:site") or ""}
    for item in jsonld:
        publisher = item.get("publisher")
        if isinstance(publisher, dict):
            names.add(str(publisher.get("name") or ""))
        if item.get("@type") in ("WebSite", "Organization", "NewsMediaOrganization"):
            names.add(str(item.get("name") or ""))
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names |= {label for label in host.split(".")[:-1] if len(label) >= 2}
    return {folded for name in names if len(folded := letters(name.lstrip("@"))) >= 2}


def _strip_site(title: str, names: set[str]) -> str:
    """``title`` without a trailing site name (or a date beside it): `Headline | The Citizen` → `Headline`."""
    while True:
        parts = list(_TITLE_SEPARATOR.finditer(title))
        if not parts:
            return title
        last = parts[-1]
        head, tail = title[: last.start()].strip(), title[last.end():].strip()
        folded = letters(tail)
        is_site = bool(folded) and any(name in folded or folded in name for name in names)
        if not head or not ((is_site and len(tail.split()) <= 12) or _DATE_PART.fullmatch(tail)
                            or _is_byline(tail)):
            return title
        title = head


def _title(page: parsel.Selector, rules: Rules, jsonld: list[dict], url: str) -> str | None:
    """The headline: the profile's; else the one the page declares for sharing (og:title, JSON-LD
    headline), its <h1> or its <title>, without the site's name; else, where all of those only name the
    portal or a rubric, the most prominent short line above the body (see :func:`_prominent_line`)."""
    if found := _first_text(page, rules.title):
        return found
    names = _site_names(page, jsonld, url)
    declared = [_meta(page, "og:title"), _meta(page, "twitter:title")]
    declared += [str(j["headline"]) for j in jsonld if isinstance(j.get("headline"), str)]
    headings = [clean(_STRING(h)) for h in _HEADINGS(page.root) if not _LINKED(h)]
    for candidate in [*declared, *headings, _first_text(page, "title")]:
        headline = _strip_site(clean(candidate or ""), names)
        if not _names_site(headline, names):
            return _without_rubric(headline, headings)
    return _prominent_line(page, names)


def _without_rubric(headline: str, headings: list[str]) -> str:
    """The page's own <h1> where the declared title is it plus a rubric (`… - National`)."""
    for heading in headings:
        rest = headline.removeprefix(heading) if heading and len(heading) < len(headline) else ""
        if rest and (sep := _TITLE_SEPARATOR.match(rest)) and len(rest[sep.end():].split()) <= 3:
            return heading
    return headline


def _names_site(text: str, names: set[str]) -> bool:
    """Whether a line only names the site, perhaps with a rubric: `Cổng TTĐT thành phố Móng Cái`,
    `UBND tỉnh Quảng Ninh - Tin tức`. What is left without the site's names and the words portals call
    themselves by (``generic.yaml``'s ``site_words``) is too short to be a headline."""
    folded = letters(_generic().site_words.sub(" ", fold(text)))
    for name in sorted(names, key=len, reverse=True):
        folded = folded.replace(name, "")
    return len(folded) < _RUBRIC_LETTERS


# How many letters a rubric or a word like `thành phố` has at most: `tintucsukien` has 12.
_RUBRIC_LETTERS = 16
# Where a line stands out from the text around it: a heading, bold type, a larger font.
_PROMINENT = "ancestor-or-self::*[self::h1 or self::h2 or self::h3 or self::b or self::strong or " \
    "self::font[@size >= 4 or starts-with(@size, '+')] or contains(@style, 'font-size') or " \
    "contains(@style, 'bold')]"


def _prominent_line(page: parsel.Selector, names: set[str]) -> str | None:
    """A headline printed as a plain span or div: of the lines of 3 to 60 words before the page's first
    long paragraph that are not a link, a sentence, a date or the site's name, the last prominent one
    (the nearest to the body), or the last one where none stands out."""
    prominent = plain = None
    for node in _FREE_TEXT(page.root):
        text = clean(node)
        words = len(text.split())
        holder = node.getparent()
        if node.is_tail:  # a tail is printed in the parent of the element it follows
            holder = holder.getparent()
        stands_out = holder is not None and bool(holder.xpath(_PROMINENT))
        if words > 60 or (len(text) >= 200 and not stands_out):
            break  # the body has begun
        if words < 3 or text.endswith((".", ";")) or _generic().junk.fullmatch(text) or \
                _names_site(text, names) or parse_date(text):
            continue
        plain = text
        if stands_out:
            prominent = text
    return prominent or plain


def _published(page: parsel.Selector, rules: Rules, hints: Hints, jsonld: list[dict]
               ) -> tuple[datetime | None, str | None]:
    """The publication time and where it came from, best source first; the lead is the last resort.
    A time no page can have been published at (a placeholder `0001-01-01`) is passed over."""
    reference = hints.fetched_at or datetime.now(VN)

    def date_in(text: str | None) -> datetime | None:
        return plausible(parse_date(text), reference)

    if rules.published and (moment := date_in(_first_text(page, rules.published))):
        return moment, "page"
    stamps = [_meta(page, "article:published_time", "datePublished", "pubdate", "publishdate",
                    "article:published:time", "og:article:published_time", "DC.date.issued", "dcterms.issued",
                    "date")]
    stamps += _STAMPS_AT(page.root)[:1]
    stamps += [item.get("datePublished") for item in jsonld]
    day = None  # a stamp giving the day alone yields to a date line on the page that gives the time
    for stamp in stamps:
        if moment := plausible(parse_iso(stamp), reference):
            if "T" in str(stamp) or " " in str(stamp).strip():
                return moment, "metadata"
            day = day or moment
    for text in filter(None, (clean(_STRING(node)) for node in _picked(page.root, _IS_DATE))):
        if len(text) < 80 and (moment := date_in(text)):
            return moment, "page"
    for text in _FREE_TEXT(page.root):
        # A free-standing date line must give the time too: related-news lists print bare dates.
        if len(text) < 100 and re.search(r"\d[:h]\d\d", text) and (moment := date_in(text)):
            return moment, "page"
    if day:
        return day, "metadata"
    if moment := date_in(hints.published):
        return moment, "listing"
    return None, None


# Where trafilatura's precision mode keeps less than this share of the page's prose (its long runs of
# text), it has most likely pruned the article itself (a body inside a block it takes for boilerplate);
# its balanced mode, with its fallbacks, is asked too, and taken when it keeps markedly more (RESCUE_GAIN).
# Measured on real pages of other publishers: bench/real_pages.py.
RESCUE_BELOW = 0.3
RESCUE_GAIN = 1.4


def _trafilatura_lines(document: str | etree._Element, images: bool, prose: int = 0) -> list[tuple[str, str]]:
    """("text", line) and ("photo", alt) items in document order, as trafilatura kept them.

    ``document`` is HTML or a parsed page (trafilatura copies a tree before changing it); ``prose`` is
    how many characters the page has in long runs of text, 0 when unknown."""
    # fast: without trafilatura's own fallbacks (readability, jusText), which cost a third of its time
    # and rescue the same pages the balanced mode below does.
    doc = _xml(document, images, precision=True, fast=True)
    if prose and _chars(doc) < RESCUE_BELOW * prose:
        balanced = _xml(document, images)
        if _chars(balanced) > RESCUE_GAIN * _chars(doc):
            doc = balanced
    if doc is None:
        doc = _xml(document, images, recall=True)
    if doc is None:
        return []
    items: list[tuple[str, str]] = []
    for element in doc.iter():
        if element.tag == "row":  # a table row is one line: `19 Paul Menard 777 0 0 0 4`
            if line := clean(" ".join("".join(cell.itertext()) for cell in element.iter("cell"))):
                items.append(("text", line))
            for cell in element.iter("cell"):
                cell.tag = "seen"
        elif element.tag == "graphic":
            items.append(("photo", clean(element.get("alt") or "")))
        elif element.tag in _BLOCKS and next(element.iterdescendants(*_BLOCKS), None) is None:
            for lb in element.iter("lb"):  # a <br> inside a block separates two lines of text
                lb.tail = "\n" + (lb.tail or "")
            lines = "".join(element.itertext()).split("\n")
            items += [("text", text) for text in map(clean, lines) if text]
    return items


def _xml(document: str | etree._Element, images: bool, **focus: bool) -> etree._Element | None:
    """The tree of what ``trafilatura.extract(output_format="xml")`` returns, cleaned as it cleans it
    (its own round trip through a string included: its parser drops blank text), without the content
    fingerprint it computes for every page (a simhash: a fifth of its time on portal pages), which is
    never read here, and without the pretty-printed string it returns, which would be parsed again."""
    options = _extractor(images, tuple(sorted(focus.items())))
    result = bare_extraction(document, options=options, as_dict=False)
    if not isinstance(result, Document):
        return None
    # determine_returnstring's and control_xml_output's steps for XML, but its pretty-printing
    for element in result.body.iter("*"):
        if len(element) == 0 and not element.text and not element.tail and not keeps_empty(element):
            delete_element(element, keep_tail=False)
    strip_double_tags(result.body)
    remove_empty_elements(result.body)
    tree = sanitize_tree(build_xml_output(result))
    return etree.fromstring(etree.tostring(tree, encoding="unicode"), CONTROL_PARSER)


@cache
def _extractor(images: bool, focus: tuple[tuple[str, bool], ...]) -> Extractor:
    # read-only once made (bare_extraction copies it where it changes one), and reading its settings
    # from trafilatura's config costs a tenth of a millisecond
    return Extractor(output_format="xml", images=images, tables=True, comments=False, dedup=False,
                     with_metadata=False, **dict(focus))


def _chars(doc: etree._Element | None) -> int:
    """Characters of text in trafilatura's output (characters, not words: CJK has no spaces)."""
    return len("".join(doc.itertext())) if doc is not None else 0


def _sort_lines(items: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Body paragraphs and captions: a caption repeats a photo's alt text or is a short line after it."""
    paragraphs: list[str] = []
    captions: list[str] = []
    after_photo = False
    alts: set[str] = set()
    for kind, text in items:
        if kind == "photo":
            after_photo = True
            alts.add(text)
            continue
        if text in alts or (after_photo and len(text) <= _CAPTION_MAX):
            captions.append(text)
        else:
            paragraphs.append(text)
        after_photo = False
    return paragraphs, captions


def _dedupe(lines: list[str]) -> list[str]:
    """Drop a line equal to the one before it: newspapers print every caption twice."""
    return [line for n, line in enumerate(lines) if n == 0 or line != lines[n - 1]]


def _split_byline(paragraphs: list[str], named: list[str]) -> tuple[list[str], str | None, str | None]:
    """Body without its closing author/unit lines, the author, and the unit."""
    generic = _generic()

    def short(line: str) -> bool:
        return len(line.split()) <= generic.byline_max_words and not line.endswith(
            (".", ":", ";", "…", "!", "?", ",")
        )

    lines = list(named)
    if not lines:  # nothing marked the byline: take short closing lines without a full stop
        while paragraphs and len(lines) < 2 and short(paragraphs[-1]):
            lines.insert(0, paragraphs.pop())
        if not lines and paragraphs and _one_line_byline(paragraphs[-1]):
            lines.append(paragraphs.pop())  # `Vi Thu, Trần Bình - Trung tâm Truyền thông và Văn hóa …`
    elif paragraphs and short(paragraphs[-1]) and generic.unit.fullmatch(paragraphs[-1]):
        lines.append(paragraphs.pop())  # the unit line, printed apart from the marked author
    unit = lines.pop() if len(lines) > 1 and generic.unit.fullmatch(lines[-1]) else None
    if unit is None and lines and (parts := _one_line_byline(lines[-1])):
        lines[-1], unit = parts
    return paragraphs, " - ".join(lines) or None, unit


# A byline's label: `Bài, ảnh:`, `Tin và ảnh:`.
_BYLINE_LABEL = re.compile(r"^(?:(?:bài|tin|ảnh|video|clip)(?:\s*(?:,|và|&)\s*(?:bài|tin|ảnh|video|clip))*)\s*:\s*",
                           re.IGNORECASE)
# A unit at the end of a byline line, best first: in brackets, after the last dash, after the last comma.
_UNIT_TAILS = [re.compile(r"(?P<names>.*?)\s*\((?P<unit>[^()]+)\)\s*$"),
               re.compile(r"(?P<names>.*)\s[-–—]\s+(?P<unit>[^-–—]+)$"),
               re.compile(r"(?P<names>.*),\s*(?P<unit>[^,]+)$")]
# How many words one name has at most: `Nguyễn Thị Thu Hằng`.
_NAME_WORDS = 5


def _one_line_byline(line: str) -> tuple[str, str] | None:
    """(author, unit) where one line names the author(s), perhaps co-authors, and their unit:
    `Thu Hằng - Hải Đăng (Trung tâm TT&VH Móng Cái)` → `Thu Hằng - Hải Đăng`, `Trung tâm TT&VH Móng Cái`."""
    if len(line.split()) > 3 * _generic().byline_max_words:
        return None
    for tail in _UNIT_TAILS:
        if not (match := tail.match(line)):
            continue
        unit, names = clean(match.group("unit")), _BYLINE_LABEL.sub("", match.group("names")).strip(" -–—,")
        if _generic().unit.fullmatch(unit) and _are_names(names):
            return names, unit
    return None


def _are_names(text: str) -> bool:
    """Whether ``text`` is one or more people's names: short runs of capitalised words."""
    people = [p for p in re.split(r"\s*(?:[-–—,;&]|\bvà\b)\s*", text) if p]
    return bool(people) and all(
        len(words := person.split()) <= _NAME_WORDS and all(w[:1].isupper() for w in words) for person in people
    )


def _wrap(fragment: str) -> str:
    # trafilatura gives up on a bare fragment; a minimal document around it is enough.
    return f"<html><body><article>{fragment}</article></body></html>"


def _body(page: parsel.Selector, rules: Rules) -> tuple[list[str], list[str], list[str], str]:
    """Paragraphs, captions, byline lines and which path produced them."""
    etree.strip_tags(page.root, etree.Comment, etree.ProcessingInstruction)  # never text, as trafilatura reads it
    _paragraphs_from_breaks(page.root)
    scopes = select(page, rules.body) if rules.body else parsel.SelectorList()
    prose, holders = 0, set()
    if scopes:
        scope, captions_at, byline_at, extractor = scopes[0], rules.captions, rules.author, "profile"
    else:
        for selector in rules.drop:
            select(page, selector).drop()
        container, prose, holders = _densest(page.root)
        scope = parsel.Selector(root=container) if container is not None else page
        captions_at, byline_at = _IS_CAPTION, _IS_BYLINE
        extractor = "generic-fallback" if rules.body else "generic"
    captions = _take(scope, captions_at)
    byline = _take(scope, byline_at, None if extractor == "profile" else _generic().byline_max_words)
    for selector in rules.drop:
        select(scope, selector).drop()
    if extractor != "profile" and scope is not page and not _in_table(scope.root):
        # trafilatura tells boilerplate from text better on the whole page than inside one node: the
        # densest node can be a comment, a ticker, one of several body blocks, and leave the lead out.
        # A table-era page (the text in a layout cell) is the exception: there the cell is the article.
        scope = page
    # Where nothing marks the captions up, a short line right after a photo is its caption.
    images = extractor != "profile" and not captions
    if scope is page:  # handed over parsed: trafilatura would parse the page a second time
        _drop_chrome(page.root, holders)
        items = _trafilatura_lines(page.root, images, prose)
    else:
        items = _trafilatura_lines(_wrap(scope.get()), images)
    paragraphs, found = _sort_lines(items)
    if scope is page:
        paragraphs = _with_sibling_blocks(page.root, paragraphs)
    return paragraphs, captions + found, byline, extractor


def _key(text: str) -> str:
    # The letters of a prefix are a prefix of the letters: folding the whole paragraph is not needed.
    head = letters(text[:100])
    return head[:50] if len(head) >= 50 else letters(text)[:50]


def _with_sibling_blocks(root: etree._Element, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` with the body's other blocks that trafilatura left out whole: where a page splits
    its article into chunks between ads or widgets (`<div class="body__container">` after
    `<div class="body__container">`), trafilatura may keep one chunk. A left-out paragraph is put
    back when it sits in the same place of the same template as kept ones (same tags and classes two
    levels up, under the same ancestor above), in a chunk none of whose paragraphs was kept."""
    blocks: dict[etree._Element, None] = {}  # in document order, each once
    for text in _PROSE(root):
        if (block := _block_of(text)) is not None:
            blocks.setdefault(block)
    signatures = [_template(b) for b in blocks]
    # A left-out block is in another chunk of the same template as a kept one: where no template has
    # two chunks (one body holding every paragraph, most pages), none is, and no text need be read.
    chunks: dict[tuple, set[etree._Element]] = {}
    for block, signature in zip(blocks, signatures, strict=True):
        if signature:
            chunks.setdefault(signature, set()).add(block.getparent())
    if all(len(parents) < 2 for parents in chunks.values()):
        return paragraphs
    # Where trafilatura printed every block as it is (a block's text is long: one of 80 characters or
    # more is in it), none was left out, and no key need be made. A block's text with its spaces folded
    # that is a paragraph is what clean() makes of it (the paragraph is NFC, so it is too).
    whole = {p for p in paragraphs if len(p) >= 80}
    raw = [_STRING(b) for b in blocks]
    folded = [" ".join(r.split()) for r in raw]
    if all(f in whole for f in folded):
        return paragraphs
    texts = [f if f in whole else clean(r) for f, r in zip(folded, raw, strict=True)]
    keys = {p: _key(p) for p in whole}
    kept = {keys[p]: n for n, p in enumerate(paragraphs) if p in keys}
    # most blocks print a kept paragraph as trafilatura gave it: their key is known
    text_keys = [keys[t] if t in keys else _key(t) for t in texts]
    used = [k in kept for k in text_keys]
    kept_chunks = {b.getparent() for b, u in zip(blocks, used, strict=True) if u}
    kept_templates = {sig for sig, u in zip(signatures, used, strict=True) if u and sig}
    missing = [n for n, (b, sig) in enumerate(zip(blocks, signatures, strict=True))
               if not used[n] and sig in kept_templates and b.getparent() not in kept_chunks]
    if not missing:
        return paragraphs
    # Each left-out paragraph goes after the last kept one that the page prints before it.
    after: dict[int, list[str]] = {}
    last = -1
    for n, text in enumerate(texts):
        if used[n]:
            last = kept[text_keys[n]]
        elif n in missing:
            after.setdefault(last, []).append(text)
    merged = after.get(-1, [])
    for n, paragraph in enumerate(paragraphs):
        merged += [paragraph, *after.get(n, [])]
    return merged


def _template(block: etree._Element) -> tuple | None:
    """Where a block sits in the page's template: its tag, the tags and classes of its parent and
    grandparent, and the element above them."""
    chunk = block.getparent()
    outer = chunk.getparent() if chunk is not None else None
    above = outer.getparent() if outer is not None else None
    if above is None:
        return None
    return block.tag, chunk.tag, chunk.get("class"), outer.tag, outer.get("class"), above


_BLOCK_TAGS = {
    "p", "div", "td", "th", "li", "ul", "ol", "table", "tr", "tbody", "center", "blockquote", "section",
    "article", "main", "aside", "header", "footer", "nav", "figure", "form", "h1", "h2", "h3", "h4",
    "h5", "h6", "dl", "dd", "dt", "pre", "hr",
}


def _paragraphs_from_breaks(root: etree._Element) -> None:
    """Wrap runs of text separated by <br> into <p>: old portals write paragraphs as `text<br><br>`."""
    for parent in _WITH_BREAKS(root):
        if parent.tag in ("p", "pre", "script", "style", "title"):
            continue
        children = list(parent)
        runs = [etree.Element("p")]
        runs[0].text, parent.text = parent.text, None
        for child in children:
            parent.remove(child)
            tail, child.tail = child.tail, None
            if child.tag == "br" or child.tag in _BLOCK_TAGS:
                if child.tag != "br":
                    runs.append(child)
                runs.append(etree.Element("p"))
                runs[-1].text = tail
            else:
                runs[-1].append(child)
                child.tail = tail
        for run in runs:
            if run.tag != "p" or (run.text or "").strip() or len(run):
                parent.append(run)


def _block_of(text: etree._ElementUnicodeResult) -> etree._Element | None:
    """The block element (a paragraph, a div, a cell) a text node of the page is printed in."""
    block = text.getparent()
    while block is not None and block.tag not in _BLOCK_TAGS:
        block = block.getparent()
    return block


def _in_table(element: etree._Element) -> bool:
    """Whether the element is, or sits in, a table cell: the article cell of a table-laid-out page."""
    return element.tag == "td" or next(element.iterancestors("td"), None) is not None


# The page's prose: long runs of text outside links, scripts and styles.
_PROSE = etree.XPath("//body//text()[string-length(normalize-space()) >= 80][not(ancestor::a or ancestor::script "
                     "or ancestor::style or ancestor::noscript)]")


def _densest(root: etree._Element) -> tuple[etree._Element | None, int, set[etree._Element]]:
    """The element holding most of the page's prose (scored as readability does: each long text counts
    fully for the element around its paragraph, half for the one above), the prose's length, and every
    element some of it is printed in."""
    scores: dict[etree._Element, float] = {}
    prose = 0
    holders: set[etree._Element] = set()
    for text in _PROSE(root):
        prose += len(text)
        holder = text.getparent()
        while holder is not None and holder not in holders:
            holders.add(holder)
            holder = holder.getparent()
        block = _block_of(text)
        parent = block.getparent() if block is not None else None
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + len(text)
        if (grandparent := parent.getparent()) is not None:
            scores[grandparent] = scores.get(grandparent, 0) + len(text) / 2
    return (max(scores, key=scores.__getitem__) if scores else None), prose, holders


# What trafilatura deletes, subtree and all, before it looks for the article (its MANUALLY_CLEANED,
# less what it keeps or reads first: forms, figures, math, <time>): menus, sidebars, footers, widgets.
# On real pages they are half the elements, and each of trafilatura's passes over the page reads them.
_CHROME = (
    "aside", "nav", "footer", "menu", "iframe", "embed", "object", "noscript", "style", "svg", "canvas",
    "video", "audio", "map", "area", "button", "input", "select", "option", "optgroup", "textarea", "label",
    "fieldset", "legend", "dialog", "link", "marquee", "menuitem", "output", "param", "progress", "track",
)


def _drop_chrome(root: etree._Element, holders: set[etree._Element]) -> None:
    """Delete, as trafilatura would (their tail text kept), the page's chrome and its scripts (but the
    JSON-LD trafilatura reads), except where the page's prose is printed: trafilatura's recall mode
    gives back what it deleted when that was the whole article, which a copy deleted beforehand could
    not."""
    for element in list(root.iter(*_CHROME, "script")):
        if element not in holders and not (element.tag == "script" and element.get("type") == "application/ld+json"):
            delete_element(element)


# Text a page prints in its body, outside links, scripts and forms: where its standfirst is.
_BODY_TEXT = etree.XPath("//body//text()[string-length(normalize-space()) >= 40][not(ancestor::a or "
                         "ancestor::script or ancestor::style or ancestor::noscript or ancestor::option or "
                         "ancestor::textarea)]")
# Words a standfirst has at least: a shorter description is a slogan or the site's name.
_STANDFIRST_WORDS = 8


def _standfirst(page: parsel.Selector, jsonld: list[dict], kept: list[str], title: str | None) -> str | None:
    """The lead (standfirst) the page prints above the body, where trafilatura left it out: the block
    of text before the body's first paragraph that the article's own description (og:description,
    JSON-LD, meta) begins. An author's bio or a teaser further down is not a lead."""
    described = [_meta(page, "og:description", "description", "twitter:description")]
    described += [str(j["description"]) for j in jsonld if isinstance(j.get("description"), str) and "headline" in j]
    opening = _key(kept[0])[:40] if kept else ""
    body = None
    looked = set()  # og:description and JSON-LD often say the same: one walk of the page for each text
    for description in described:
        if len((description or "").split()) < _STANDFIRST_WORDS or description in looked:
            continue
        folded = letters(description)[:60]
        body = letters(" ".join(kept)[:3000]) if body is None else body
        if folded in body:
            continue
        looked.add(description)
        for text in _BODY_TEXT(page.root):
            start = _key(text)  # what is compared is at most 40 letters long
            if opening and start.startswith(opening):
                break  # the body has begun
            if not start.startswith(folded[:40]):
                continue
            block = _block_of(text)
            lead = clean(_STRING(block)) if block is not None else ""
            if folded in letters(lead) and len(lead) <= 3 * len(description) and lead != title:
                return lead
    return None


def _bound(text: str | None, field: str) -> str | None:
    limit = BOUNDS[field]
    return text if text is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def extract(
    page: str | bytes, url: str, *, portal: str | None = None, rules: Rules | None = None,
    hints: Hints | None = None, content_type: str | None = None,
) -> Article:
    """Extract the article a page holds; never raises on odd markup, returns what it found.

    ``page`` is the page as fetched: bytes are decoded (see :func:`archive.text.decode_html`).
    """
    return _extract(page, url, portal, rules, hints, content_type)[0]


def extract_parsed(
    page: str | bytes, url: str, *, portal: str | None = None, rules: Rules | None = None,
    hints: Hints | None = None, content_type: str | None = None,
) -> tuple[Article, etree._Element]:
    """:func:`extract`, and the page parsed (its elements lxml.html's), untouched by extraction, so that
    what reads the page next (archive.media) need not decode and parse it again: copying a parsed
    tree costs a third of parsing it."""
    article, tree = _extract(page, url, portal, rules, hints, content_type, keep_tree=True)
    assert tree is not None
    return article, tree


def _extract(
    page: str | bytes, url: str, portal: str | None, rules: Rules | None, hints: Hints | None,
    content_type: str | None, keep_tree: bool = False,
) -> tuple[Article, etree._Element | None]:
    rules, hints = rules or Rules(), hints or Hints()
    html = decode_html(page, content_type) if isinstance(page, bytes) else unicodedata.normalize("NFC", page)
    # parsel's own parsing (its clean-up of the text included), with the parser above
    selector = parsel.Selector(root=create_root_node(html or "<html></html>", _HtmlParser))
    # extraction changes its tree (captions and bylines taken out, junk dropped, <br> runs wrapped)
    untouched = copy.deepcopy(selector.root) if keep_tree else None
    jsonld = _jsonld(selector)
    title = _title(selector, rules, jsonld, url)
    published, published_from = _published(selector, rules, hints, jsonld)
    metadata_author = next(
        (a.get("name") for j in jsonld if isinstance(a := j.get("author"), dict)), None
    ) or _meta(selector, "author")

    paragraphs, captions, byline, extractor = _body(selector, rules)
    junk = _generic().junk
    extra = _alternation(rules.junk) if rules.junk else None
    kept = [p for p in paragraphs if not junk.fullmatch(p) and not (extra and extra.fullmatch(p))]
    if kept and title and kept[0] == title:
        kept.pop(0)
    if kept and len(kept[0]) < 80 and parse_date(kept[0]):
        kept.pop(0)
    if extractor != "profile" and (lead := _standfirst(selector, jsonld, kept, title)):
        kept.insert(0, lead)
    kept, author, unit = _split_byline(_dedupe(kept), byline)
    captions = _dedupe([c for c in captions if not junk.fullmatch(c)])
    if published is None and kept:
        published = infer_lead_date(kept[0], url, hints.fetched_at or datetime.now(VN), "\n".join(kept))
        published_from = "lead" if published else None
    title, unit = _bound(title, "title"), _bound(unit, "unit")
    author = _bound(author or (clean(metadata_author) if metadata_author else None), "author")
    captions = [_bound(c, "caption") for c in captions]
    digest = hashlib.sha256(json.dumps([title, kept, captions], ensure_ascii=False).encode()).hexdigest()
    article = Article(
        url=url, portal=portal, title=title, text="\n".join(kept), paragraphs=kept, captions=captions,
        author=author, unit=unit,
        published=isoformat(published), published_from=published_from, content_hash=digest,
        extractor=extractor, story=story_key("\n".join(kept)),
    )
    return article, untouched

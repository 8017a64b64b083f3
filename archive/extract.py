"""Turn one fetched article page into a clean article.

trafilatura removes the boilerplate; a portal profile's rules (CSS or XPath selectors) narrow it to the
article node and say where the title, date, captions and byline are. What trafilatura keeps is then
cleaned by the generic Vietnamese rules in ``generic.yaml``: widget and counter lines go, captions are
told apart from body paragraphs, the closing author and unit lines become fields. The crawl pipeline,
``portal-archive extract`` and ``reextract`` all call :func:`extract`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources

import parsel
import trafilatura
import yaml
from lxml import etree

from archive.dates import isoformat, parse_date, parse_iso
from archive.text import clean

# Elements of trafilatura's XML output that hold one block of text each.
_BLOCKS = {"p", "head", "item", "cell", "quote"}
# Longest text that can still be a photo caption when only its place (after a photo) says so.
_CAPTION_MAX = 250


@dataclass
class Rules:
    """A profile's extraction rules: selectors (CSS, or XPath when starting with `/` or `(`)."""

    title: str | None = None
    published: str | None = None
    body: str | None = None
    captions: str | None = None
    author: str | None = None
    drop: list[str] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)


@dataclass
class Hints:
    """What the crawl knows about a page before reading it, e.g. the date its listing printed."""

    published: str | None = None


@dataclass
class Article:
    url: str
    portal: str | None
    title: str | None
    text: str
    paragraphs: list[str]
    captions: list[str]
    author: str | None
    unit: str | None
    published: str | None
    content_hash: str
    # "profile" when the profile's body selector matched, "generic" without one, and
    # "generic-fallback" when the profile's selectors matched nothing: the sign of a redesign.
    extractor: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Generic:
    junk: re.Pattern[str]
    unit: re.Pattern[str]
    byline_max_words: int


@cache
def _generic() -> _Generic:
    data = yaml.safe_load(resources.files("archive").joinpath("generic.yaml").read_text("utf-8"))
    return _Generic(
        junk=_anchored(data["junk"]),
        unit=re.compile(data["unit"], re.IGNORECASE),
        byline_max_words=data["byline_max_words"],
    )


def _anchored(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _select(node: parsel.Selector, selector: str) -> parsel.SelectorList:
    return node.xpath(selector) if selector.startswith(("/", "(", "./")) else node.css(selector)


def _texts(nodes: parsel.SelectorList) -> list[str]:
    return [t for t in (clean(n.xpath("string()").get() or "") for n in nodes) if t]


def _first_text(node: parsel.Selector, selector: str | None) -> str | None:
    texts = _texts(_select(node, selector)) if selector else []
    return texts[0] if texts else None


def _take(scope: parsel.Selector, selector: str | None) -> list[str]:
    """Texts of the nodes a selector picks, removing the nodes so the body no longer has them."""
    if not selector:
        return []
    nodes = _select(scope, selector)
    texts = _texts(nodes)
    nodes.drop()
    return texts


def _jsonld(page: parsel.Selector) -> list[dict]:
    found: list[dict] = []
    for raw in page.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else data.get("@graph", [data]):
            if isinstance(item, dict):
                found.append(item)
    return found


def _meta(page: parsel.Selector, *names: str) -> str | None:
    for name in names:
        value = page.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content').get()
        if value and value.strip():
            return clean(value)
    return None


def _title(page: parsel.Selector, rules: Rules) -> str | None:
    return (
        _first_text(page, rules.title)
        or _meta(page, "og:title")
        or next((j["headline"] for j in _jsonld(page) if j.get("headline")), None)
        or _first_text(page, "h1")
        or _first_text(page, "title")
    )


def _published(page: parsel.Selector, rules: Rules, hints: Hints) -> str | None:
    moment = parse_date(_first_text(page, rules.published)) if rules.published else None
    moment = moment or parse_iso(_meta(page, "article:published_time", "pubdate", "publishdate"))
    for item in _jsonld(page):
        moment = moment or parse_iso(item.get("datePublished"))
    for text in _texts(page.css("[class*=date], [class*=time], time")) if not moment else []:
        moment = parse_date(text)
        if moment:
            break
    return isoformat(moment or parse_date(hints.published))


def _trafilatura_blocks(html: str, images: bool) -> list[tuple[str, str]]:
    """("text", line) and ("graphic", alt) items in document order, as trafilatura kept them."""
    xml = trafilatura.extract(
        html, output_format="xml", include_images=images, include_tables=True, include_comments=False,
        favor_precision=True, deduplicate=False, with_metadata=False,
    )
    if not xml:
        return []
    blocks: list[tuple[str, str]] = []
    for element in etree.fromstring(xml.encode("utf-8")).iter():
        if element.tag == "graphic":
            blocks.append(("graphic", clean(element.get("alt") or "")))
        elif element.tag in _BLOCKS and not any(d.tag in _BLOCKS for d in element.iterdescendants()):
            for lb in element.iter("lb"):  # a <br> inside a block separates two lines of text
                lb.tail = "\n" + (lb.tail or "")
            for line in "".join(element.itertext()).split("\n"):
                if clean(line):
                    blocks.append(("text", clean(line)))
    return blocks


def _split_captions(blocks: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Body paragraphs and captions: a caption follows a photo, or repeats its alt text."""
    paragraphs: list[str] = []
    captions: list[str] = []
    after_photo = False
    alts: set[str] = set()
    for kind, text in blocks:
        if kind == "graphic":
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
    lines = list(named)
    if not lines:  # no selector named the byline: take short closing lines without a full stop
        while (
            paragraphs and len(lines) < 2
            and len(paragraphs[-1].split()) <= generic.byline_max_words
            and not paragraphs[-1].endswith((".", ":", ";", "…", "!", "?"))
        ):
            lines.insert(0, paragraphs.pop())
    unit = lines.pop() if len(lines) > 1 and generic.unit.fullmatch(lines[-1]) else None
    if not lines and unit is None:
        return paragraphs, None, None
    return paragraphs, " - ".join(lines) or None, unit


def _wrap(fragment: str) -> str:
    # trafilatura gives up on a bare fragment; a minimal document around it is enough.
    return f"<html><body><article>{fragment}</article></body></html>"


def extract(
    html: str, url: str, *, portal: str | None = None, rules: Rules | None = None,
    hints: Hints | None = None,
) -> Article:
    """Extract the article a page holds; never raises on odd markup, returns what it found."""
    rules = rules or Rules()
    page = parsel.Selector(text=html or "<html></html>")
    title = _title(page, rules)
    published = _published(page, rules, hints or Hints())

    scopes = _select(page, rules.body) if rules.body else parsel.SelectorList()
    if scopes:
        scope = scopes[0]
        captions = _take(scope, rules.captions)
        byline = _take(scope, rules.author)
        for selector in rules.drop:
            _select(scope, selector).drop()
        paragraphs, found = _split_captions(_trafilatura_blocks(_wrap(scope.get()), images=False))
        captions += found
        extractor = "profile"
    else:
        for selector in rules.drop:
            _select(page, selector).drop()
        byline = []
        paragraphs, captions = _split_captions(_trafilatura_blocks(page.get(), images=True))
        extractor = "generic-fallback" if rules.body else "generic"

    junk = _generic().junk
    extra = _anchored(rules.junk) if rules.junk else None
    kept = [
        p for p in paragraphs
        if not junk.fullmatch(p) and not (extra and extra.fullmatch(p))
    ]
    if kept and title and kept[0] == title:
        kept.pop(0)
    if kept and len(kept[0]) < 60 and parse_date(kept[0]):
        kept.pop(0)
    kept, author, unit = _split_byline(_dedupe(kept), byline)
    captions = _dedupe([c for c in captions if not junk.fullmatch(c)])
    digest = hashlib.sha256(json.dumps([title, kept, captions], ensure_ascii=False).encode()).hexdigest()
    return Article(
        url=url, portal=portal, title=title, text="\n".join(kept), paragraphs=kept,
        captions=captions, author=author, unit=unit, published=published, content_hash=digest,
        extractor=extractor,
    )

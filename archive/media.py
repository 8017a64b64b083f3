"""The photos and documents of an article, found on its page: the images inside the block that holds
its paragraphs, each with the caption printed under it, and the links next to them to documents on the
portal's own host (decisions, plans, reports).

The block is found from the extracted text, not from a selector: the smallest element holding the
article's first and last paragraphs. That works on the profile path and the generic path alike, and on
markup nobody wrote a profile for.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

from archive.model import Article, MediaRef
from archive.text import SPACES, clean

DOCUMENT_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "zip", "rar")
_DOCUMENT = re.compile(r"\.(" + "|".join(DOCUMENT_TYPES) + r")$", re.IGNORECASE)
# A joined URL's last path segment comes whole from the link or from the page's URL: where neither
# names a document type anywhere, the link is not to a document, and need not be joined to know it.
_NAMES_DOCUMENT = re.compile(r"\.(" + "|".join(DOCUMENT_TYPES) + r")", re.IGNORECASE)
# A caption sits at most this many text blocks after its photo.
CAPTION_REACH = 3
# The places a paragraph's opening is looked for on one page at most: a hostile page repeating it a
# million times costs no more than a thousand.
MAX_PLACES = 1000


_PRINTED = etree.XPath(".//text()[not(parent::template)]")  # scripts and styles are gone (_container)
# The same on a page without <template>, where the test on each node's parent would be half the walk.
_ALL_TEXT = etree.XPath(".//text()")


class _Text:
    """The text the page prints (``text_content()`` of a root whose scripts and styles are gone, as
    :func:`_container` leaves it) and the text nodes it is made of, from one XPath
    call: an element's own text is the stretch of its subtree's nodes, so that no element's text needs
    to be built to be searched."""

    def __init__(self, root: etree._Element) -> None:
        self.nodes = (_ALL_TEXT if next(root.iter("template"), None) is None else _PRINTED)(root)
        self.ends = list(itertools.accumulate(map(len, self.nodes)))
        self.text = "".join(self.nodes)

    def owner(self, offset: int) -> etree._Element:
        """The element whose own text (not a child's) holds the character at ``offset``."""
        node = self.nodes[bisect.bisect_right(self.ends, offset)]
        parent = node.getparent()
        return parent.getparent() if node.is_tail else parent  # a tail is printed in its element's parent


def _common(first: etree._Element, second: etree._Element) -> etree._Element:
    """The deepest element holding both. (The elements themselves are compared, not their id(): lxml
    makes a new Python object each time it reaches an element, and an id is only kept while it lives.)"""
    above = {first, *first.iterancestors()}
    node = second
    while node not in above:
        node = node.getparent()
    return node


def _places(text: str, words: list[str]) -> Iterator[tuple[int, int]]:
    """Where the words stand in ``text`` one after another, any run of spaces between two of them
    (the snippet is clean text; the page's own may break a line or repeat a space there): each
    place's start and end, overlapping places too. (A regex of the words would do, but compiling one
    per paragraph costs more than searching with it.)"""
    first, rest = words[0], words[1:]
    start = text.find(first)
    while start >= 0:
        end = start + len(first)
        for word in rest:
            gap = SPACES.match(text, end)
            if gap is None or not text.startswith(word, gap.end()):
                break
            end = gap.end() + len(word)
        else:
            yield start, end
        start = text.find(first, start + 1)


def _deepest_holding(page: _Text, root: etree._Element, snippet: str) -> etree._Element | None:
    """The last element, in document order, whose text holds the snippet: the deepest in the last branch
    that does (going down from the root, into the last child that holds it)."""
    words = snippet.split()
    if not words:
        return None
    # Every place it starts (overlapping ones too), and the deepest element holding it there.
    held = [(start, _common(page.owner(start), page.owner(end - 1)))
            for start, end in itertools.islice(_places(page.text, words), MAX_PLACES)]
    if not held:
        return None
    # Going down, the last child holding the snippet is the one holding its latest place below: the walk
    # goes straight to that place's holder, then on among the places held deeper still.
    node = root
    while below := [(start, holder) for start, holder in held if node in holder.iterancestors()]:
        node = max(below, key=lambda place: place[0])[1]
        held = below
    return node


def _container(root: etree._Element, article: Article) -> etree._Element | None:
    if not article.paragraphs:
        return None
    # Their text is never printed (and a page's JSON repeats the article): out of the tree, which is
    # media's own, before its text is indexed and captions are looked for.
    etree.strip_elements(root, "script", "style", with_tail=False)
    page = _Text(root)
    first = _deepest_holding(page, root, article.paragraphs[0][:60])
    last = _deepest_holding(page, root, article.paragraphs[-1][:60])
    if first is None or last is None:
        return None
    return _common(first, last)


def _following(element: etree._Element) -> Iterator[etree._Element]:
    """XPath's ``following::*``, lazily: a caption is looked for in the next few blocks only."""
    node: etree._Element | None = element
    while node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter(etree.Element)
        node = node.getparent()


def _caption(image: etree._Element, captions: list[str]) -> str | None:
    """The first of the article's captions printed in the few text blocks after the photo."""
    if not captions:
        return None
    wanted, seen = set(captions), 0
    for element in _following(image):
        text = clean(element.text_content())
        if not text:
            continue
        if text in wanted:
            return text
        seen += 1
        if seen >= CAPTION_REACH:
            break
    return None


def find_media(page: str | etree._Element, article: Article) -> list[MediaRef]:
    """The article's photos (in order, with captions and alt text) and documents on its portal's host.

    ``page`` is the page's HTML, or its tree as parsed by lxml.html (extraction's, handed on)."""
    try:
        root = html.fromstring(page) if isinstance(page, str) else page
    except (etree.ParserError, ValueError):
        return []
    container = _container(root, article)
    if container is None:
        return []
    host = (urlsplit(article.url).hostname or "").removeprefix("www.")
    media: list[MediaRef] = []
    seen: set[str] = set()
    for image in container.iter("img"):
        src = (image.get("src") or image.get("data-src") or "").strip()
        if not src or src.startswith("data:"):
            continue
        url = urljoin(article.url, src)
        if url in seen:
            continue
        seen.add(url)
        alt = clean(image.get("alt") or "") or None
        media.append(MediaRef(url, "image", len(media), _caption(image, article.captions), alt))
    scope = container.getparent() if container.getparent() is not None else container  # attachments follow
    page_names_one = _NAMES_DOCUMENT.search(article.url) is not None
    for link in scope.iter("a"):
        href = (link.get("href") or "").strip()
        if not page_names_one and not _NAMES_DOCUMENT.search(href):
            continue
        url = urljoin(article.url, href)
        parts = urlsplit(url)
        if not _DOCUMENT.search(parts.path) or (parts.hostname or "").removeprefix("www.") != host or url in seen:
            continue
        seen.add(url)
        media.append(MediaRef(url, "document", len(media), clean(link.text_content()) or None, None))
    return media

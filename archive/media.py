"""The photos and documents of an article, found on its page: the images inside the block that holds
its paragraphs, each with the caption printed under it, and the links next to them to documents on the
portal's own host (decisions, plans, reports).

The block is found from the extracted text, not from a selector: the smallest element holding the
article's first and last paragraphs. That works on the profile path and the generic path alike, and on
markup nobody wrote a profile for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

from archive.model import Article, MediaRef
from archive.text import SPACES, clean

DOCUMENT_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "zip", "rar")
_DOCUMENT = re.compile(r"\.(" + "|".join(DOCUMENT_TYPES) + r")$", re.IGNORECASE)
# A caption sits at most this many text blocks after its photo.
CAPTION_REACH = 3


def _deepest_holding(root: etree._Element, snippet: str) -> etree._Element | None:
    """The last element, in document order, whose text holds the snippet: the deepest in the last branch
    that does. Every ancestor of such an element holds the snippet too, so the walk goes down one path,
    into the last child that holds it."""
    words = snippet.split()
    probe = max(words, key=len, default="")  # a plain substring test first: most children fail it
    # The snippet is clean text: its words with any run of spaces between them in the page's own text,
    # so that no element's text (the whole page's, near the top) is cleaned to be searched.
    pattern = SPACES.pattern.join(map(re.escape, words))

    def holds(element: etree._Element) -> bool:
        text = element.text_content()
        return probe in text and re.search(pattern, text) is not None

    if not holds(root):
        return None
    node = root
    while holding := [child for child in node.iterchildren(etree.Element) if holds(child)]:
        node = holding[-1]
    return node


def _container(root: etree._Element, article: Article) -> etree._Element | None:
    if not article.paragraphs:
        return None
    first = _deepest_holding(root, article.paragraphs[0][:60])
    last = _deepest_holding(root, article.paragraphs[-1][:60])
    if first is None or last is None:
        return None
    ancestors = {id(a) for a in first.iterancestors()} | {id(first)}
    node = last
    while node is not None and id(node) not in ancestors:
        node = node.getparent()
    return node


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


def find_media(page_html: str, article: Article) -> list[MediaRef]:
    """The article's photos (in order, with captions and alt text) and documents on its portal's host."""
    try:
        root = html.fromstring(page_html)
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
    for link in scope.iter("a"):
        url = urljoin(article.url, (link.get("href") or "").strip())
        parts = urlsplit(url)
        if not _DOCUMENT.search(parts.path) or (parts.hostname or "").removeprefix("www.") != host or url in seen:
            continue
        seen.add(url)
        media.append(MediaRef(url, "document", len(media), clean(link.text_content()) or None, None))
    return media

"""Vietnamese text helpers shared by extraction, storage and the sample portals.

Everything the archive stores passes through :func:`clean`, so that text is NFC whatever the page
used, and whitespace (including non-breaking and zero-width spaces) is folded the same way everywhere.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
# đ/Đ are letters of their own: Unicode decomposition does not turn them into d/D.
_D_FOLD = str.maketrans({"đ": "d", "Đ": "D"})


def clean(text: str) -> str:
    """NFC-normalise and fold runs of whitespace into single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lower-case and strip every tone and vowel mark, `đ` included: `Đảng ủy` → `dang uy`."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(text: str) -> str:
    """The URL slug Vietnamese CMSes make from a headline: `Móng Cái` → `mong-cai`."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page's text, NFC: UTF-8 when the bytes are valid UTF-8, whatever the page claims.

    Portals often declare a charset they do not use. Bytes that decode as UTF-8 (and are not plain
    ASCII) are UTF-8 beyond reasonable doubt; otherwise the HTTP header, BOM or <meta> charset
    decides (Windows-1258 included), and charset-normalizer guesses when nothing is declared.
    """
    from charset_normalizer import from_bytes
    from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
        if declared:
            text = html_to_unicode(content_type, body, default_encoding=declared)[1]
        else:
            best = from_bytes(body).best()
            text = str(best) if best else body.decode("cp1252", errors="replace")
    return unicodedata.normalize("NFC", text)

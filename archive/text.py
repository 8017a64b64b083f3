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

"""How old Vietnamese portals encode their pages."""

from __future__ import annotations

import unicodedata

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Windows-1258 has the base letters (ô, ơ, ă, …) but writes the five tones as combining marks."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONES))
            out += (base + "".join(m for m in marks if m in TONES)).encode("cp1258", errors="replace")
    return bytes(out)

"""A readable word-level diff between two texts of an article, as HTML: `<del>` what went, `<ins>` what came."""

from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\n|[^\S\n]+|[^\s]+")


def word_diff(old: str, new: str) -> Markup:
    """Words and paragraph breaks compared in order; whitespace is kept as it is, never marked."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(_html(b[j1:j2]))
            continue
        if op in ("delete", "replace"):
            out.append(_marked("del", a[i1:i2]))
        if op in ("insert", "replace"):
            out.append(_marked("ins", b[j1:j2]))
    return Markup("".join(out))


def _html(tokens: list[str]) -> str:
    return "".join("<br>" if t == "\n" else str(escape(t)) for t in tokens)


def _marked(tag: str, tokens: list[str]) -> str:
    """A run of changed words in one tag; a changed paragraph break shows as a ¶."""
    text = "".join("¶\n" if t == "\n" else t for t in tokens)
    if not text.strip():
        return _html(tokens) if tag == "ins" else ""
    return f"<{tag}>" + str(escape(text)).replace("\n", "<br>") + f"</{tag}>"

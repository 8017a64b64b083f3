"""Full-text search that forgives missing accents: `dang uy mong cai` finds `Đảng ủy Móng Cái`.

The index (see archive.db) holds the text with `đ` folded to `d`, tokenised by FTS5's unicode61 with
``remove_diacritics 2``, which folds every other mark and the case. A query gets the same `đ`
folding, so that accented and unaccented queries meet the same tokens. Snippets are cut from the
original text, so they keep every accent.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import unicodedata
from dataclasses import dataclass

from archive.text import fold

# Bare terms, or "quoted phrases" kept as they are (the way Datasette's escape_fts splits a query).
_TERMS = re.compile(r'"[^"]*"|[^\s"]+')
_D_FOLD = str.maketrans({"đ": "d", "Đ": "D"})
MARK, END_MARK = "<mark>", "</mark>"
CANDIDATES = 2000  # matches ranked by relevance: the most recently published ones
_WORD = re.compile(r"\S+")
_CHARS_PER_WORD = 40  # far more than any Vietnamese word: the lead-in window always holds enough words


def fold_d(query: str) -> str:
    """What the index did to the text: NFC, and `đ` read as `d`."""
    return unicodedata.normalize("NFC", query).translate(_D_FOLD)


def fts_query(query: str) -> str:
    """An FTS5 MATCH expression for what a user typed: every term must match, "phrases" as phrases,
    a trailing * is a prefix; FTS5 operators and punctuation are taken as plain text."""
    query = fold_d(query)
    if query.count('"') % 2:
        query += '"'
    parts = []
    for token in _TERMS.findall(query):
        prefix = token.endswith("*") and not token.startswith('"')
        words = re.findall(r"\w+", token.strip('"*'))
        if words:
            parts.append('"' + " ".join(words) + '"' + ("*" if prefix else ""))
    return " ".join(parts)


class _FoldTable(dict):
    """A ``str.translate`` table that learns each character's one-letter fold the first time it meets it."""

    def __missing__(self, code: int) -> str:
        self[code] = (fold(chr(code)) or " ")[0]
        return self[code]


_FOLD_TABLE = _FoldTable()


def _folded_chars(text: str) -> str:
    """``fold`` one character at a time, so that positions in the result are positions in ``text``."""
    return text.translate(_FOLD_TABLE)


def snippet(text: str | None, query: str, words: int = 30) -> str:
    """About ``words`` words of ``text`` around the first match, matches wrapped in <mark>…</mark>.

    Only the window is scanned for words and matches: a long article costs no more than a short one."""
    if not text:
        return ""
    terms = re.findall(r"\w+\*?", fold(query))
    folded = _folded_chars(text)
    first = 0
    if terms:
        any_term = re.compile("|".join(
            r"\b" + re.escape(t.rstrip("*")) + (r"\w*" if t.endswith("*") else r"\b") for t in terms))
        # Centre on the whole query where the text has it word for word, else on the first match.
        found = re.search(r"\b" + r"\W+".join(re.escape(t.rstrip("*")) for t in terms) + r"\b", folded) or (
            any_term.search(folded))
        first = found.start() if found else 0
    lead = [m.start() for m in _WORD.finditer(text, max(0, first - _CHARS_PER_WORD * words), first + 1)]
    begin = lead[max(0, len(lead) - 1 - words // 3)] if lead else 0
    starts = [m.start() for m in itertools.islice(_WORD.finditer(text, begin), words + 1)]
    end = starts[words] if len(starts) > words else len(text)
    out, cursor = [], begin
    for match in any_term.finditer(folded, begin, end) if terms else ():
        out += [text[cursor:match.start()], MARK, text[match.start():match.end()], END_MARK]
        cursor = match.end()
    out.append(text[cursor:end])
    return ("…" if begin > 0 else "") + "".join(out).strip() + ("…" if end < len(text) else "")


@dataclass
class Hit:
    title: str
    portal: str
    published: str | None
    url: str
    snippet: str
    copies: int  # reposts of the same story on other portals


def search(conn: sqlite3.Connection, query: str, *, portal: str | None = None, since: str | None = None,
           limit: int = 20) -> list[Hit]:
    """The best matches first (FTS5 bm25), one per story."""
    match = fts_query(query)
    if not match:
        return []
    # bm25 costs as many matches as there are: rank the CANDIDATES newest ones, read newest first
    # from the index (its rowids sort as publication times do), as the `search` canned query does.
    where, args = [], [match, CANDIDATES]
    if portal:
        where.append("a.portal = ?")
        args.append(portal)
    if since:
        where.append("a.published >= ?")
        args.append(since)
    sql = (
        "with newest as (select rowid as key, bm25(articles_fts) as score from articles_fts "
        "where articles_fts match ? order by rowid desc limit ?) "
        "select a.title, a.portal, a.published, a.url, a.text, "
        "(select count(*) from articles c where c.copy_of = a.url) as copies "
        "from newest join articles a on a.search_key = newest.key "
        f"{'where ' + ' and '.join(where) if where else ''} order by newest.score limit ?"
    )
    return [
        Hit(title, name, published, url, snippet(text, query), copies)
        for title, name, published, url, text, copies in conn.execute(sql, [*args, limit])
    ]

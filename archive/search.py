"""Full-text search that forgives missing accents: `dang uy mong cai` finds `Đảng ủy Móng Cái`.

The index (see archive.db) holds the text with `đ` folded to `d`, tokenised by FTS5's unicode61 with
``remove_diacritics 2``, which folds every other mark and the case. A query gets the same `đ`
folding, so that accented and unaccented queries meet the same tokens. Snippets are cut from the
original text, so they keep every accent.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from archive.db import KEY_SHIFT, SEARCHED, key_seconds
from archive.keyboard import readings
from archive.model import aware
from archive.text import fold

# Bare terms, or "quoted phrases" kept as they are (the way Datasette's escape_fts splits a query).
_TERMS = re.compile(r'"[^"]*"|[^\s"]+')
_D_FOLD = str.maketrans({"đ": "d", "Đ": "D"})
MARK, END_MARK = "<mark>", "</mark>"
CANDIDATES = 1000  # matches ranked by relevance: the most recently published ones
# Up to this many matches a search is narrow: its matches are gathered, counted and sorted (the `articles`
# table's search, the reading room's facets). Past it, it is broad: not counted in full.
NARROW = 5000
NEAR = 3  # words at most this far apart are "close together"
_WORD = re.compile(r"\S+")
_CHARS_PER_WORD = 40  # far more than any Vietnamese word: the lead-in window always holds enough words


# A query is bounded: each term costs a pass over the index, and a pasted article of thousands of
# words would hold the server (or the command line) for minutes.
MAX_QUERY_CHARS = 300
MAX_TERMS = 16
# A snippet looks for the query in this much of an article at most, whatever the article's size.
SNIPPET_SCAN = 100_000


class QueryError(ValueError):
    """A query past the bounds; the message says which, in one line."""


def check_query(query: str) -> str:
    """``query`` when it is within the bounds, else QueryError."""
    if len(query) > MAX_QUERY_CHARS or len(_TERMS.findall(query)) > MAX_TERMS:
        raise QueryError(f"search query too long: at most {MAX_TERMS} words and {MAX_QUERY_CHARS} characters")
    return query


def fold_d(query: str) -> str:
    """What the index did to the text: NFC, and `đ` read as `d`."""
    return unicodedata.normalize("NFC", query).translate(_D_FOLD)


def _units(query: str) -> list[tuple[list[str], bool]]:
    """What a user typed, term by term: each term's readings (a "phrase" as it is; a word as typed, then
    what Telex or VNI make of it, see archive.keyboard) and whether it is a prefix (a trailing *)."""
    query = fold_d(query[:MAX_QUERY_CHARS])
    if query.count('"') % 2:
        query += '"'
    units = []
    for token in _TERMS.findall(query)[:MAX_TERMS]:
        prefix = token.endswith("*") and not token.startswith('"')
        words = re.findall(r"\w+", token.strip('"*'))
        if not words:
            continue
        if token.startswith('"') or len(words) > 1:
            units.append(([" ".join(words)], prefix))
        else:
            units.append((list(readings(words[0])), prefix))
    return units


def _phrase(words: str, prefix: bool) -> str:
    return '"' + words + '"' + ("*" if prefix else "")


def fts_query(query: str) -> str:
    """An FTS5 MATCH expression for what a user typed: every term must match, "phrases" as phrases,
    a trailing * is a prefix, a word typed in Telex or VNI matches as typed or as meant; FTS5 operators
    and punctuation are taken as plain text."""
    parts = []
    for alternatives, prefix in _units(query):
        phrases = [_phrase(words, prefix) for words in alternatives]
        parts.append(phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")")
    return " AND ".join(parts)  # FTS5 reads no implicit AND after a parenthesised group


def _letter_classes() -> dict[str, str]:
    """For each letter, a regex class of every Latin letter that folds to it: `a` → `[aAàÀáÁ…ậẬ]`."""
    classes: dict[str, list[str]] = {}
    for code in [*range(0x250), *range(0x1E00, 0x1F00)]:  # Latin, Latin Extended-A/B and Additional
        folded = fold(chr(code))
        if len(folded) == 1 and folded.isalnum():
            classes.setdefault(folded, []).append(chr(code))
    return {base: "[" + re.escape("".join(chars)) + "]" for base, chars in classes.items()}


_LETTERS = _letter_classes()


def _pattern(term: str) -> str:
    """A regex for a query term that matches it in the original text, whatever its marks, as typed or as
    Telex or VNI meant it."""
    words = ["".join(_LETTERS.get(c, re.escape(c)) for c in reading) for reading in readings(term.rstrip("*"))]
    return r"\b(?:" + "|".join(words) + ")" + (r"\w*" if term.endswith("*") else r"\b")


@functools.lru_cache(maxsize=256)
def _matchers(query: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The whole query word for word, and any of its words: compiled once per query, not per row."""
    patterns = [_pattern(term) for term in re.findall(r"\w+\*?", query)]
    return (re.compile(r"\W+".join(patterns)), re.compile("|".join(patterns))) if patterns else None


def snippet(text: str | None, query: str, words: int = 30) -> str:
    """About ``words`` words of ``text`` around the first match, matches wrapped in <mark>…</mark>.

    Matches are found in the text as it is, by patterns that ignore marks and case (not by folding
    the text), and only the window is scanned for words: a long article costs little more than a
    short one."""
    if not text:
        return ""
    text, query = text[:SNIPPET_SCAN], query[:MAX_QUERY_CHARS]
    matchers = _matchers(query)
    first = 0
    if matchers:
        # Centre on the whole query where the text has it word for word, else on its first word.
        found = matchers[0].search(text) or matchers[1].search(text)
        first = found.start() if found else 0
    before = words // 3
    lead = [m.start() for m in _WORD.finditer(text, max(0, first - _CHARS_PER_WORD * (before + 1)), first + 1)]
    begin = lead[max(0, len(lead) - 1 - before)] if lead else 0
    starts = [m.start() for m in itertools.islice(_WORD.finditer(text, begin), words + 1)]
    end = starts[words] if len(starts) > words else len(text)
    end = min(end, begin + _CHARS_PER_WORD * words)  # a "word" of a million letters is cut too
    out, cursor = [], begin
    for match in matchers[1].finditer(text, begin, end) if matchers else ():
        out += [text[cursor:match.start()], MARK, text[match.start():match.end()], END_MARK]
        cursor = match.end()
    out.append(text[cursor:end])
    return ("…" if begin > 0 else "") + "".join(out).strip() + ("…" if end < len(text) else "")


def highlighted(snippet_text: str) -> Markup:
    """A snippet as HTML: its <mark>ed matches highlighted, everything else escaped."""
    return Markup(str(escape(snippet_text)).replace(str(escape(MARK)), MARK).replace(str(escape(END_MARK)), END_MARK))


def since_key(since: str | None) -> int:
    """Index rowids (`search_key`) above this are the articles published at or after ``since``
    (an ISO date or time, +07:00 unless it says otherwise)."""
    if not since:
        return -(2**63)
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise ValueError(f"since: not a date (YYYY-MM-DD): {since}") from None
    return key_seconds(int(aware(moment).timestamp())) * KEY_SHIFT


def until_key(until: str | None) -> int:
    """Index rowids below this are the articles published before ``until`` (as :func:`since_key`)."""
    return since_key(until) if until else 2**63 - 1


NOTHING = '""'  # an FTS5 expression that matches no article
WORDS = "{" + " ".join(SEARCHED) + "}"  # the index's columns a query's words are looked for in


def in_words(expression: str) -> str:
    """``expression`` looked for in the article's words only, never in the portal the index also holds."""
    return f"{WORDS} : ({expression})" if expression else NOTHING


def _portal(portal: str | None) -> str:
    """The index's own test for one portal (the name as the tokenizer splits it), or nothing."""
    words = re.findall(r"\w+", fold(portal or "").lower())
    return f' AND portal : "{" ".join(words)}"' if words else ""


def _in_column(query: str, column: str, portal: str | None = None) -> str:
    expression = fts_query(query)
    if not expression:
        return NOTHING
    return (in_words(expression) if not column else f"{{{column}}} : ({expression})") + _portal(portal)


def _near(query: str, portal: str | None = None) -> str:
    """Its words close together (a Telex or VNI word as meant: NEAR takes no OR); nothing to test for a
    single word or phrase."""
    units = _units(query)
    if len(units) < 2:
        return NOTHING
    near = "NEAR(" + " ".join(_phrase(alternatives[-1], prefix) for alternatives, prefix in units) + f", {NEAR})"
    return f"{WORDS} : {near}" + _portal(portal)


_ONE_TOKEN = re.compile(r"[a-z0-9]+")


def _portals_indexed(conn: sqlite3.Connection) -> bool:
    try:
        return "portal" in {row[1] for row in conn.execute("pragma table_info(articles_fts)")}
    except sqlite3.DatabaseError:
        return False


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions RANKED uses (Datasette's plugin registers them on every connection). An
    empty query matches nothing rather than failing."""
    # An archive indexed before the index held portals is searched within a portal the slow way (RANKED
    # checks each match's portal) until its next writing command rebuilds the index (archive.db).
    portals = _portals_indexed(conn)
    conn.create_function("archive_fts_query", 1, lambda q: in_words(fts_query(q)), deterministic=True)
    conn.create_function("archive_fts_query", 2, _in_column, deterministic=True)
    conn.create_function("archive_fts_query", 3, lambda q, column, portal: _in_column(
        q, column, portal if portals else None), deterministic=True)
    # A one-word portal name is a token of its own in the index, so the index's test is exact and the
    # candidates need no second look in `articles` (a name of several words might be part of another's).
    conn.create_function("archive_portal_exact", 1, lambda portal: bool(portals and _ONE_TOKEN.fullmatch(portal or "")),
                         deterministic=True)
    conn.create_function("archive_fts_near", 1, _near, deterministic=True)
    conn.create_function("archive_fts_near", 2, lambda q, portal: _near(q, portal if portals else None),
                         deterministic=True)
    conn.create_function("archive_since_key", 1, since_key, deterministic=True)
    conn.create_function("archive_until_key", 1, until_key, deterministic=True)
    conn.create_function("archive_snippet", 2, snippet, deterministic=True)


# Relevance without a pass over every match: FTS5's bm25 first counts, for each query term, every
# article of the whole archive that holds it (its IDF), 60-350 ms on a million articles, whatever the
# LIMIT. So the CANDIDATES newest matches (read newest first from the index, whose rowids sort as
# publication times do) are ranked by where the words are: all in the title, then close together,
# then in a caption; newest first within a rank. Each test reads the index only from the oldest
# candidate on, so a query costs the same on ten thousand articles or ten million. Within one portal,
# every test also asks the index for the portal (its `portal` column), so that it reads that portal's
# entries only, not those of every portal since the portal's oldest candidate.
RANKED = f"""with newest as (
  select rowid as key from articles_fts
  where articles_fts match archive_fts_query(:q, '', :portal) and rowid > archive_since_key(:since)
    and rowid < archive_until_key(:until)
    and (coalesce(:portal, '') = '' or archive_portal_exact(:portal)
         or (select portal from articles where search_key = articles_fts.rowid) = :portal)
  order by rowid desc limit {CANDIDATES}
), oldest as (select min(key) as key from newest),
in_title as (select rowid as key from articles_fts
  where articles_fts match archive_fts_query(:q, 'title', :portal) and rowid >= (select key from oldest)),
together as (select rowid as key from articles_fts
  where articles_fts match archive_fts_near(:q, :portal) and rowid >= (select key from oldest)),
in_captions as (select rowid as key from articles_fts
  where articles_fts match archive_fts_query(:q, 'captions', :portal) and rowid >= (select key from oldest)),
best as (
  select key, 4 * (key in in_title) + 2 * (key in together) + (key in in_captions) as score from newest
  order by score desc, key desc limit :limit offset :offset
)
select a.id, a.title, a.portal, a.published, archive_snippet(a.text, :q) as snippet,
  (select count(*) from articles c where c.copy_of = a.url) as reposts, a.url
from best join articles a on a.search_key = best.key
order by best.score desc, best.key desc"""


@dataclass
class Hit:
    title: str
    portal: str
    published: str | None
    url: str
    snippet: str
    copies: int  # reposts of the same story on other portals


def search(conn: sqlite3.Connection, query: str, *, portal: str | None = None, since: str | None = None,
           until: str | None = None, limit: int = 20, offset: int = 0) -> list[Hit]:
    """The most relevant of the newest matches first (see RANKED), one per story; none for an empty query
    (or one with no word to search for, like `*`); QueryError past the bounds."""
    check_query(query)
    register_functions(conn)
    rows = conn.execute(RANKED, {"q": query, "portal": portal, "since": since, "until": until, "limit": limit,
                                 "offset": offset})
    return [Hit(title, name, published, url, cut, copies) for _, title, name, published, cut, copies, url in rows]


def search_archive(db: str, query: str, *, portal: str | None = None, since: datetime | None = None,
                   limit: int = 20) -> list[Hit]:
    """`portal-archive search`: :func:`search` over the archive file ``db``; a date without an offset is
    Vietnam time."""
    from archive.db import reading

    start = aware(since) if since else None
    with reading(db) as archive:
        return search(archive.db.conn, query, portal=portal, limit=limit, since=start.isoformat() if start else None)

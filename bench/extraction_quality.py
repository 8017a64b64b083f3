"""Extraction quality on the labelled set: portal-archive against plain trafilatura, layout by layout.

    python bench/extraction_quality.py          # prints the table and updates BENCHMARKS.md

The labelled set (tests/fixtures/extraction/) holds the five seed articles rendered in five page
layouts, each with its expected article. Three extractors are scored on it: ours with the portal's
profile (where the URL's host has one), ours with no profile at all (the generic path), and
`trafilatura.extract` with its metadata, as a user would call it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.dates import isoformat, parse_iso  # noqa: E402
from archive.extract import Hints, extract  # noqa: E402
from archive.text import clean, decode_html  # noqa: E402
from bench.report import write_section  # noqa: E402
from crawler.profile import profile_for_url  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "extraction"


@dataclass
class Case:
    name: str
    layout: str
    html: bytes
    hints: dict
    expected: dict


@dataclass
class Output:
    """What an extractor produced, reduced to what is scored."""

    paragraphs: list[str]
    captions: list[str]
    title: str | None
    published: str | None
    author: str | None
    unit: str | None


def load_cases() -> list[Case]:
    cases = []
    for label in sorted(LABELLED.glob("*/*.json")):
        data = json.loads(label.read_text("utf-8"))
        html = label.with_suffix(".html").read_bytes()
        name = f"{data['layout']}/{label.stem}"
        cases.append(Case(name, data["layout"], html, data["hints"], data["expected"]))
    return cases


def ours(case: Case, use_profile: bool = True) -> Output:
    url = case.expected["url"]
    profile = profile_for_url(url) if use_profile else None
    article = extract(case.html, url, portal=profile.name if profile else None,
                      rules=profile.rules if profile else None, hints=Hints(**case.hints))
    return Output(article.paragraphs, article.captions, article.title, article.published, article.author,
                  article.unit)


def plain_trafilatura(case: Case) -> Output:
    html = decode_html(case.html)
    text = trafilatura.extract(html, url=case.expected["url"]) or ""
    meta = trafilatura.extract_metadata(html, default_url=case.expected["url"])
    published = isoformat(parse_iso(meta.date)) if meta and meta.date else None
    lines = [clean(line) for line in text.split("\n") if clean(line)]
    return Output(lines, [], meta.title if meta else None, published, meta.author if meta else None, None)


EXTRACTORS = {
    "portal-archive (profile where one exists)": ours,
    "portal-archive, generic path only": lambda case: ours(case, use_profile=False),
    "trafilatura.extract": plain_trafilatura,
}


def score(case: Case, out: Output) -> dict[str, float]:
    want = case.expected
    expected = want["paragraphs"]
    found = set(out.paragraphs)
    known = set(expected) | set(want["captions"]) | {want["author"], want["unit"]}
    byline = {want["author"], want["unit"]} - {None}
    return {
        "recall": sum(p in found for p in expected) / len(expected),
        "junk": sum(line not in known for line in out.paragraphs + out.captions),
        "misplaced": sum(line in set(want["captions"]) | byline for line in out.paragraphs),
        "captions": float(out.captions == want["captions"]),
        "title": float(out.title == want["title"]),
        "minute": float(out.published == want["published"]),
        "day": float((out.published or "")[:10] == want["published"][:10]),
        "author": float((out.author, out.unit) == (want["author"], want["unit"])),
    }


def _aggregate(rows: list[dict[str, float]]) -> dict[str, float]:
    """Totals for the counts of lines, means for the rates."""
    totals = {m: sum(s[m] for s in rows) for m in rows[0]}
    return {m: v if m in ("junk", "misplaced") else v / len(rows) for m, v in totals.items()}


def evaluate() -> dict[str, dict[str, dict[str, float]]]:
    """extractor -> layout (and "all") -> metric -> mean (junk and misplaced: totals)."""
    cases = load_cases()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, run in EXTRACTORS.items():
        per_layout: dict[str, list[dict[str, float]]] = defaultdict(list)
        for case in cases:
            scores = score(case, run(case))
            per_layout[case.layout].append(scores)
            per_layout["all"].append(scores)
        results[name] = {layout: _aggregate(rows) for layout, rows in per_layout.items()}
    return results


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    head = ("| extractor | layout | paragraph recall | junk lines left | captions/bylines in body | "
            "captions exact | title exact | published to the minute | published day | author and unit exact |")
    lines = [head, "|" + "---|" * 10]
    for name, layouts in results.items():
        for layout in [*sorted(k for k in layouts if k != "all"), "all"]:
            m = layouts[layout]
            lines.append(
                f"| {name} | {layout} | {m['recall']:.3f} | {int(m['junk'])} | {int(m['misplaced'])} | "
                f"{m['captions']:.0%} | {m['title']:.0%} | {m['minute']:.0%} | {m['day']:.0%} | "
                f"{m['author']:.0%} |"
            )
    return "\n".join(lines)


def write(markdown: str) -> None:
    write_section("extraction-quality", (
        "## Extraction quality\n\n"
        "`python bench/extraction_quality.py` on the labelled set in `tests/fixtures/extraction/` "
        "(5 seed articles × 5 layouts: city CMS, SharePoint, newspaper, legacy table-based page in "
        "Windows-1258 with no profile, redesigned modern page whose profile no longer matches, date only in "
        "JSON-LD/meta, NFD text, lying charset). Junk lines: output lines that are neither body, caption "
        "nor byline. Captions/bylines in body: lines that belong elsewhere but were left in the text.\n\n"
        f"{markdown}\n"
    ))


def main() -> None:
    markdown = table(evaluate())
    print(markdown)
    write(markdown)


if __name__ == "__main__":
    main()

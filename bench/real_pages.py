"""Extraction on real, third-party pages with gold output: portal-archive's generic path (no profile)
against plain trafilatura (default and favor_precision) and readability-lxml, side by side.

    python bench/real_pages.py --cases ../shared/benchmarks

CASES holds `scrapinghub/` (the ScrapingHub article-extraction-benchmark: `html/<id>.html.gz` and
`ground-truth.json`) and `fundus/` (pages of Fundus's parser tests: `<case>.html.gz` + `<case>.json`),
as ../shared/benchmarks/README.md describes; the data is not copied into this project. Per page: token
precision, recall and F1 (NFC, lower-cased, whitespace tokens, CJK split into characters; nothing
returned scores 0), then the mean and median over pages, the share of pages at F1 >= 0.9, exact titles,
the calendar date and the minute where the gold has them, and milliseconds per page; and the
ScrapingHub benchmark's own shingle F1, so that the figures compare with its published table. The
Fundus gold sets section subheadings aside (its `headlines`, in none of its paragraphs): they are set
aside from every extractor's output too, neither counted for it nor against it.
Results go to BENCHMARKS.md. Without the data: where to get it, and exit 2.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a file: not bench/, whose incremental.py would shadow twisted's package
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402

WHERE = ("the ScrapingHub article-extraction-benchmark (github.com/scrapinghub/article-extraction-benchmark) "
         "and the parser test pages of Fundus (github.com/flairNLP/fundus), laid out as "
         "../shared/benchmarks/README.md says")


@dataclass
class Case:
    corpus: str  # "scrapinghub", "fundus-other", "fundus-vn"
    name: str
    url: str
    html: bytes
    body: str
    title: str | None = None
    published: str | None = None  # ISO 8601 with its offset
    headlines: list[str] = field(default_factory=list)  # section subheadings the gold sets aside


@dataclass
class Output:
    body: str
    title: str | None = None
    published: str | None = None


def load_cases(root: Path) -> list[Case]:
    cases = []
    hub = root / "scrapinghub"
    if (hub / "ground-truth.json").exists():
        truth = json.loads((hub / "ground-truth.json").read_text("utf-8"))
        for key, gold in sorted(truth.items()):
            page = hub / "html" / f"{key}.html.gz"
            if page.exists():
                cases.append(Case("scrapinghub", key, gold.get("url", ""), gzip.decompress(page.read_bytes()),
                                  gold.get("articleBody", "")))
    for meta in sorted((root / "fundus").glob("*.json")):
        page = meta.with_name(meta.name.removesuffix(".json") + ".html.gz")
        if not page.exists():
            continue
        gold = json.loads(meta.read_text("utf-8"))
        html = gzip.decompress(page.read_bytes())
        cases.append(Case(gold.get("corpus", "fundus-other"), meta.stem, gold["url"], html,
                          "\n".join(gold.get("paragraphs", [])), gold.get("title"), gold.get("publishing_date"),
                          [h for h in gold.get("headlines", []) if isinstance(h, str)]))
    return cases


# Extractors. ------------------------------------------------------------------------------------------
def ours(case: Case) -> Output:
    from archive.extract import extract

    article = extract(case.html, case.url)
    return Output("\n".join(article.paragraphs), article.title, article.published)


def _trafilatura(precision: bool) -> Callable[[Case], Output]:
    def run(case: Case) -> Output:
        import trafilatura

        document = trafilatura.bare_extraction(case.html, url=case.url, favor_precision=precision,
                                               with_metadata=True)
        if document is None:
            return Output("")
        data = document if isinstance(document, dict) else document.as_dict()
        return Output(data.get("text") or "", data.get("title"), data.get("date"))

    return run


def readability(case: Case) -> Output:
    import lxml.html
    from readability import Document

    document = Document(case.html)
    summary = document.summary(html_partial=True)
    text = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
    return Output(text, document.short_title())


EXTRACTORS: dict[str, Callable[[Case], Output]] = {
    "portal-archive generic": ours,
    "trafilatura": _trafilatura(False),
    "trafilatura favor_precision": _trafilatura(True),
    "readability-lxml": readability,
}
# The modules an extractor needs beyond the project's own (pyproject's `bench` extra).
NEEDS = {"readability-lxml": "readability"}


# Scores. ----------------------------------------------------------------------------------------------
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def tokens(text: str) -> Counter[str]:
    words = unicodedata.normalize("NFC", text or "").lower().split()
    return Counter(part for word in words for part in (_CJK.split(word) if _CJK.search(word) else [word]) if part)


def token_scores(gold: str, got: str) -> tuple[float, float, float]:
    want, have = tokens(gold), tokens(got)
    common = sum((want & have).values())
    if not have or not want or not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(have.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = re.findall(r"\w+", text or "")
    return Counter(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1)) if words[i:i + n])


def shingle_counts(gold: str, got: str) -> tuple[float, float, float]:
    """The ScrapingHub benchmark's per-page true/false positives and false negatives over 4-word
    shingles, normalised to sum 1 (so that long pages weigh no more than short ones)."""
    want, have = shingles(gold), shingles(got)
    tp = sum((want & have).values())
    fp, fn = sum(have.values()) - tp, sum(want.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def shingle_f1(counts: list[tuple[float, float, float]]) -> float:
    """Its F1: the harmonic mean of the precision and the recall averaged over pages."""
    def ratio(a: float, b: float, other: float) -> float:
        if b == other == 0:
            return 1.0
        return 0.0 if a == b == 0 else a / (a + b)

    precisions = [ratio(tp, fp, fn) for tp, fp, fn in counts if tp + fp > 0]
    recalls = [ratio(tp, fn, fp) for tp, fp, fn in counts if tp + fn > 0]
    p, r = statistics.mean(precisions or [0]), statistics.mean(recalls or [0])
    return 2 * p * r / (p + r) if p + r else 0.0


def _fold(title: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", title or "").split())


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        return None


@dataclass
class Tally:
    f1: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    shingles: list[tuple[float, float, float]] = field(default_factory=list)
    titles: int = 0
    titled: int = 0
    dates: int = 0
    minutes: int = 0
    timed: int = 0
    seconds: float = 0.0
    worst: list[tuple[float, str]] = field(default_factory=list)


def set_aside(text: str, headlines: list[str]) -> str:
    """``text`` without one occurrence of each of the gold's section subheadings: the Fundus gold sets
    them aside (they are in neither its paragraphs nor against an extractor that keeps them)."""
    text = " ".join(text.split())
    for headline in headlines:
        if (folded := " ".join(headline.split())) and folded in text:
            text = text.replace(folded, " ", 1)
    return text


def score(case: Case, out: Output, tally: Tally) -> float:
    body = set_aside(out.body, case.headlines) if case.headlines else out.body
    precision, recall, f1 = token_scores(case.body, body)
    tally.precision.append(precision)
    tally.recall.append(recall)
    tally.f1.append(f1)
    tally.shingles.append(shingle_counts(case.body, body))
    tally.worst.append((f1, case.name))
    if case.title:
        tally.titled += 1
        tally.titles += _fold(case.title) == _fold(out.title)
    gold, got = _moment(case.published), _moment(out.published)
    if gold is not None:
        tally.timed += 1
        if got is not None:
            # A time at midnight is a day the page printed without its time: it names a calendar day,
            # which no time zone shifts (trafilatura gives such a day as a bare date).
            day_only = got.hour == got.minute == got.second == 0
            local = got.astimezone(gold.tzinfo) if got.tzinfo and gold.tzinfo and not day_only else got
            tally.dates += local.date() == gold.date()
            if got.tzinfo and gold.tzinfo and (got.hour or got.minute):
                tally.minutes += got.astimezone(gold.tzinfo).replace(second=0, microsecond=0) == \
                    gold.replace(second=0, microsecond=0)
    return f1


def run(cases: list[Case], names: list[str]) -> dict[tuple[str, str], Tally]:
    """Every extractor on every page, page by page (so that a slower hour of the machine weighs on all
    of them alike, and the milliseconds compare)."""
    tallies: dict[tuple[str, str], Tally] = {}
    for case in cases:
        group = "scrapinghub" if case.corpus == "scrapinghub" else "fundus"
        for name in names:
            tally = tallies.setdefault((name, group), Tally())
            started = time.perf_counter()
            try:
                out = EXTRACTORS[name](case)
            except Exception as err:  # a peer failing on a page scores 0 there, as returning nothing does
                print(f"{name}: {case.name}: {type(err).__name__}: {err}", file=sys.stderr)
                out = Output("")
            tally.seconds += time.perf_counter() - started
            score(case, out, tally)
    return tallies


def table(tallies: dict[tuple[str, str], Tally], names: list[str], groups: list[str]) -> list[str]:
    lines = ["| pages | extractor | mean F1 | median F1 | F1 ≥ 0.9 | precision | recall | ScrapingHub shingle F1 | "
             "titles exact | date / minute where the gold has a time | ms per page |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for group in groups:
        for name in names:
            t = tallies.get((name, group))
            if not t or not t.f1:
                continue
            n = len(t.f1)
            lines.append(
                f"| {group} ({n}) | {name} | {statistics.mean(t.f1):.3f} | {statistics.median(t.f1):.3f} | "
                f"{sum(f >= 0.9 for f in t.f1) / n:.0%} | {statistics.mean(t.precision):.3f} | "
                f"{statistics.mean(t.recall):.3f} | {shingle_f1(t.shingles):.3f} | "
                f"{f'{t.titles} / {t.titled}' if t.titled else '–'} | "
                f"{f'{t.dates} / {t.minutes} of {t.timed}' if t.timed else '–'} | {1000 * t.seconds / n:.1f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=ROOT.parent / "shared" / "benchmarks",
                        help="the folder holding scrapinghub/ and fundus/")
    parser.add_argument("--only", choices=sorted(EXTRACTORS), action="append", help="run only these extractors")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages of our generic path")
    parser.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md as it is")
    args = parser.parse_args()
    cases = load_cases(args.cases) if args.cases.is_dir() else []
    if not cases:
        print(f"no benchmark pages under {args.cases}: get {WHERE}, and give their folder with --cases",
              file=sys.stderr)
        return 2
    names = args.only or list(EXTRACTORS)
    if missing := [name for name in names if name in NEEDS and importlib.util.find_spec(NEEDS[name]) is None]:
        # Scored as zeros, a missing extractor would look like a failing one in BENCHMARKS.md.
        print(f"not installed: {', '.join(missing)} (pip install '.[bench]'), or leave it out with --only",
              file=sys.stderr)
        return 2
    tallies = run(cases, names)
    groups = ["scrapinghub", "fundus"]
    lines = [f"`python bench/real_pages.py --cases {args.cases.name}`: {len(cases)} real pages of other publishers "
             "(none of ours), the generic path with no profile; token scores per page, then averaged. The Fundus "
             "gold's section subheadings are set aside from every extractor's output, as the gold sets them "
             "aside.", "",
             *table(tallies, names, groups)]
    print("\n".join(lines))
    for group in groups if args.worst else ():
        if ours_tally := tallies.get(("portal-archive generic", group)):
            worst = sorted(ours_tally.worst)[: args.worst]
            print(f"\nworst {group}: " + ", ".join(f"{name} {f1:.2f}" for f1, name in worst))
    if not args.no_write and set(names) == set(EXTRACTORS):
        write_section("real-pages", "## Extraction on real pages\n\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

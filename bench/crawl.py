"""Crawl throughput on one machine: raw fetching, a naive Scrapy + trafilatura spider, and portal-archive,
on every layout the project knows of, with a portal's profile and on the generic path.

    python bench/crawl.py [--count 3000] [--repeat 2] [--small 1000] [--cases ../shared/benchmarks]
                          [--only LAYOUT ...]

Layouts, each served on 127.0.0.1 by this process with COUNT articles:

- ``twin``: the mongcai sample twin, crawled with its profile (listing and extraction rules);
- ``twin-generic``: the same pages, with a profile of URL patterns only, so that the generic path extracts;
- ``city``, ``legacy``, ``modern``, ``newspaper``, ``sharepoint``: the saved pages of
  tests/fixtures/extraction behind generated listings of 50 links (bench/layouts.py), generic path;
- ``real``: the real third-party pages of ../shared/benchmarks (ScrapingHub's benchmark and Fundus's
  test pages, in many languages and layouts) the same way, when that folder is there.

Each layout is crawled in three ways, each run a fresh process on the same pages (the same listing walk,
robots.txt obeyed, politeness delays off, photos and documents not fetched):

1. raw fetch: the portal spider with no pipeline, it only downloads (the upper bound);
2. naive: the portal spider calling ``trafilatura.extract`` in its callback and inserting each row on
   its own (what a user would write);
3. portal-archive: ``portal-archive crawl``'s own code (extraction workers, cleaning, dates, batched
   storage, full-text index).

Per crawl: pages/s, peak RSS of the whole process tree, and CPU milliseconds per article page of the
crawl's process, of its extraction workers (and their forkserver) and of the serving process, read from
/proc every 50 ms, from the moment the crawl's process has done a fifth of its pages (it writes how many
to a file: Progress) to its end; what starting cost besides is the fixed CPU. A shared VM's speed drifts
by half within minutes, so one crawl of each kind would compare moments, not code: the three are run
REPEAT times in an order that mirrors itself (raw, naive, ours, ours, naive, raw, ...), and each kind's
fastest run is kept, as timeit keeps its best. Per layout: plain ``trafilatura.extract``'s cost per page
on one core, timed over 300 of the pages as served after a first pass over them (a crawl runs warm),
before, between and after the rounds, the mean of them; and the CPU ceiling
``cores / (1 / raw fetch rate + trafilatura cost per page)``. Then the memory of portal-archive on SMALL
and COUNT twin articles. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.samples.server import SampleSite  # noqa: E402
from archive.workers import default_workers  # noqa: E402
from bench.layouts import LayoutSite, Page, fixture_layouts, generic_profile, real_pages  # noqa: E402
from bench.report import write_section  # noqa: E402

PORTAL = "mongcai"
# Politeness off, here only: as many requests at once as a fast local server can take.
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING",
    # The three crawls fetch the same pages and nothing else: photos and documents, which only
    # portal-archive fetches, are measured apart by bench/media.py.
    "MEDIA_ENABLED": False,
}
KINDS = {
    "raw": "raw fetch (download only)",
    "naive": "naive (trafilatura.extract in the callback, one insert at a time)",
    "ours": "portal-archive (full pipeline)",
}
TICK = os.sysconf("SC_CLK_TCK")


# The three crawls, each run in its own process by `bench/crawl.py --run KIND`. ----------------
def run(kind: str, portal: str, origin: str, db: str, progress: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from bench.crawl import Progress as Counter  # the class the crawl's settings name (this is __main__)
    from crawler import settings as project
    from crawler.runner import project_settings, run_crawl
    from crawler.spiders.portal import PortalSpider

    counted = {**BENCH_SETTINGS, "BENCH_PROGRESS": progress,
               "EXTENSIONS": {**project.EXTENSIONS, "bench.crawl.Progress": 900}}
    if kind == "ours":
        run_crawl([portal], db, {portal: origin}, counted)
        return

    class NaiveSpider(PortalSpider):
        """The portal's listing walk, then what a user would write in the article callback."""

        def parse_article(self, response: object, listing_date: str | None = None) -> None:
            import sqlite_utils
            import trafilatura

            if not hasattr(self, "db"):
                self.db = sqlite_utils.Database(f"{db}.naive")
            text = trafilatura.extract(response.text)
            self.db["articles"].insert({"url": response.url, "text": text}, pk="url", replace=True)
            Counter.tick()

    spider = PortalSpider if kind == "raw" else NaiveSpider
    process = CrawlerProcess(project_settings({**counted, "ARCHIVE_DB": db, "ITEM_PIPELINES": {}}))
    process.crawl(spider, portal=portal, origin=origin)
    process.start()


class Progress:
    """In a crawl's process: the article pages it is done with (stored, for portal-archive), written
    to the file BENCH_PROGRESS names as each one is, so that the bench reads CPU per page against
    pages done, not pages fetched: portal-archive fetches ahead of its extraction workers."""

    done = 0
    fd: int | None = None

    @classmethod
    def from_crawler(cls, crawler: object) -> Progress:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not (path := crawler.settings.get("BENCH_PROGRESS")):  # type: ignore[attr-defined]
            raise NotConfigured
        cls.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        extension = cls()
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)  # type: ignore[attr-defined]
        return extension

    def item_scraped(self, **_: object) -> None:
        self.tick()

    @classmethod
    def tick(cls) -> None:
        cls.done += 1
        if cls.fd is not None:
            os.pwrite(cls.fd, b"%12d" % cls.done, 0)


def _done(path: Path) -> int | None:
    try:
        return int(path.read_bytes() or b"0")
    except (OSError, ValueError):  # not written yet, or read mid-write
        return None


# What is crawled. ------------------------------------------------------------------------------
@dataclass
class Served:
    """A running layout: its origin, how many article pages it has answered, and a few of its pages."""

    origin: str
    answered: Callable[[], int]
    sample: Callable[[int], list[str]]  # up to N article URLs spread over the site


@dataclass
class Layout:
    name: str
    label: str
    portal: str  # the profile crawled with
    serve: Callable[[int], object]  # count -> a context manager giving Served


@contextmanager
def serve_twin(count: int) -> Iterator[Served]:
    with SampleSite(count=count) as site:
        running = site.running[PORTAL]
        articles = list(site.twins[PORTAL].articles())

        def sample(n: int) -> list[str]:
            step = max(1, len(articles) // n)
            return [running.origin + running.family.article_path(a) for a in articles[::step][:n]]

        yield Served(running.origin, lambda: sum(1 for hit in running.hits if running.family.is_article(hit.path)
                                                 and hit.status == 200), sample)


def serve_pages(pages: list[Page]) -> Callable[[int], object]:
    @contextmanager
    def serve(count: int) -> Iterator[Served]:
        with LayoutSite(pages, count) as site:
            yield Served(site.origin, lambda: len(site.served),
                         lambda n: [f"{site.origin}/bai/{i}.html" for i in range(min(n, count))])
    return serve


def layouts(cases: Path | None) -> list[Layout]:
    found = [Layout("twin", "mongcai twin, its profile", PORTAL, serve_twin),
             Layout("twin-generic", "mongcai twin, generic path", "bench-twin-generic", serve_twin)]
    for name, pages in fixture_layouts().items():
        found.append(Layout(name, f"{name} fixture pages, generic path", f"bench-{name}", serve_pages(pages)))
    if cases and (pages := real_pages(cases)):
        found.append(Layout("real", f"real pages of {cases.name} ({len(pages)}), generic path", "bench-real",
                            serve_pages(pages)))
    return found


def write_profiles(folder: Path, layouts: list[Layout]) -> None:
    """The shipped twin profile, and a URL-patterns-only profile for every other crawl."""
    shipped = yaml.safe_load((ROOT / "crawler" / "profiles" / f"{PORTAL}.yaml").read_text("utf-8"))
    (folder / f"{PORTAL}.yaml").write_text(yaml.safe_dump(shipped, allow_unicode=True), "utf-8")
    for layout in layouts:
        if layout.portal == PORTAL:
            continue
        if layout.serve is serve_twin:
            profile = {key: shipped[key] for key in ("base_url", "start_urls", "listings", "articles")}
            profile |= {"name": layout.portal, "title": "mongcai twin, URL patterns only"}
        else:
            profile = generic_profile(layout.portal)
        (folder / f"{layout.portal}.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), "utf-8")


# Measuring. ------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return []


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024 if "VmRSS:" in status else 0
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        stack += _children(current)
    return total


def tree_cpu(pid: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds (user + system) so far of a process and each of its descendants."""
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            seen[current] = (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            continue
        stack += _children(current)


@dataclass
class Crawl:
    layout: str
    kind: str
    pages: int  # article pages fetched
    seconds: float
    peak_rss: int
    db_size: int
    cpu_crawl: float  # CPU seconds of the crawl's process
    cpu_workers: float  # of its descendants (the extraction workers and their forkserver)
    cpu_server: float  # of this process, which serves the pages
    steady: tuple[float, float, float]  # CPU seconds per page of the three once past starting (steady())

    @property
    def rate(self) -> float:
        return self.pages / self.seconds

    @property
    def fixed(self) -> tuple[float, float]:
        """CPU seconds of the crawl's process and of its workers besides their CPU per page: the cost of
        starting (imports, the forkserver, warming caches, the first listings)."""
        return (max(0.0, self.cpu_crawl - self.steady[0] * self.pages),
                max(0.0, self.cpu_workers - self.steady[1] * self.pages))


# The share of a crawl's pages its CPU per page is not read over: starting (imports, the forkserver,
# warming caches, the first listing pages) is a cost of the run, not of a page.
SKIPPED = 0.2


def steady(marks: list[tuple[int, float, float, float]], pages: int) -> tuple[float, float, float] | None:
    """CPU seconds per page of the crawl, its workers and the server from the first sample where SKIPPED
    of the pages were done to the end of the crawl, from samples (pages done, CPU of the three so far);
    None when the crawl was over before that. (The few pages on their way through the pipeline at that
    sample are done after it: they count against the figure, which errs high.)"""
    start = next((m for m in marks if m[0] >= SKIPPED * pages), None)
    if start is None or pages - start[0] < 0.5 * pages:
        return None
    done = pages - start[0]
    return tuple((e - s) / done for s, e in zip(start[1:], marks[-1][1:], strict=True))  # type: ignore[return-value]


def _crawl_and_workers(cpu: dict[int, float], pid: int) -> tuple[float, float]:
    """CPU seconds so far of the crawl's process and of its descendants, from tree_cpu's record."""
    return cpu.get(pid, 0.0), sum(v for p, v in cpu.items() if p != pid)


def crawl(kind: str, layout: Layout, served: Served, scratch: Path, profiles: Path | None = None) -> Crawl:
    db = scratch / f"{layout.name}-{kind}.db"
    first = served.answered()
    started, server_cpu = time.monotonic(), time.process_time()
    # As a module: run as a file, bench/ would come first on sys.path and its incremental.py would
    # shadow Twisted's `incremental` package.
    env = {**os.environ, **({"PORTAL_ARCHIVE_PROFILES": str(profiles)} if profiles else {})}
    progress = scratch / f"{layout.name}-{kind}.progress"
    progress.unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-m", "bench.crawl", "--run", kind, "--portal", layout.portal,
                              "--origin", served.origin, "--db", str(db), "--progress", str(progress)],
                             cwd=ROOT, env=env)
    peak, cpu, marks = 0, {}, []
    while child.poll() is None:
        peak = max(peak, tree_rss(child.pid))
        tree_cpu(child.pid, cpu)
        if (done := _done(progress)) is not None:
            marks.append((done, *_crawl_and_workers(cpu, child.pid), time.process_time()))
        time.sleep(0.05)
    seconds, server_cpu = time.monotonic() - started, time.process_time() - server_cpu
    if child.returncode:
        raise SystemExit(f"the {kind} crawl of {layout.name} failed (exit {child.returncode})")
    size = sum(p.stat().st_size for p in scratch.glob(f"{db.name}*") if not p.name.endswith(".lock"))
    pages = served.answered() - first
    per_page = steady(marks, pages)
    if per_page is None:
        raise SystemExit(f"the {kind} crawl of {layout.name} was over too fast to read its CPU per page: "
                         "raise --count")
    result = Crawl(layout.name, kind, pages, seconds, peak, size, *_crawl_and_workers(cpu, child.pid),
                   server_cpu, per_page)
    print(f"{layout.name}: {KINDS[kind]}: {result.pages} pages in {seconds:.1f} s = {result.rate:.1f} pages/s, "
          f"CPU ms/page crawl {per_page[0] * 1000:.2f} workers {per_page[1] * 1000:.2f} server "
          f"{per_page[2] * 1000:.2f} (fixed: crawl {result.fixed[0]:.1f} s, workers {result.fixed[1]:.1f} s), "
          f"peak RSS {peak / 2**20:.0f} MiB", flush=True)
    return result


def trafilatura_cost(served: Served, sample: int = 300) -> float:
    """Seconds plain trafilatura.extract takes per page, one core, on pages spread over the layout, as
    a long crawl of it runs: after a first pass over the same pages (trafilatura's caches of text lines
    warm up on a portal's repeated boilerplate; a crawl's extraction, and the naive spider's, run warm)."""
    import trafilatura

    pages = [urllib.request.urlopen(url).read().decode("utf-8", "replace") for url in served.sample(sample)]
    for page in pages:
        trafilatura.extract(page)
    started = time.process_time()
    for page in pages:
        trafilatura.extract(page)
    return (time.process_time() - started) / len(pages)


@dataclass
class Result:
    layout: Layout
    crawls: dict[str, Crawl]
    cost: float  # trafilatura.extract, seconds per page
    cores: int

    @property
    def ceiling(self) -> float:
        return self.cores / (1 / self.crawls["raw"].rate + self.cost)

    def goals(self) -> dict[str, tuple[float, bool]]:
        raw, naive, ours = self.crawls["raw"], self.crawls["naive"], self.crawls["ours"]
        crawl_cpu = ours.steady[0] / raw.steady[0]
        extraction = ours.steady[1] / self.cost
        return {
            "× naive": (ours.rate / naive.rate, ours.rate / naive.rate >= 1.5),
            "of ceiling": (ours.rate / self.ceiling, ours.rate / self.ceiling >= 0.8),
            "crawl CPU / raw's": (crawl_cpu, crawl_cpu <= 1.5),
            "extraction CPU / trafilatura's": (extraction, extraction <= 1.0),
        }


def measure(layout: Layout, count: int, scratch: Path, profiles: Path, cores: int, repeat: int) -> Result:
    runs: dict[str, list[Crawl]] = {kind: [] for kind in KINDS}
    with layout.serve(count) as served:
        costs = [trafilatura_cost(served)]
        for round_ in range(repeat):
            # mirrored rounds: a drift over the run weighs on every kind alike
            for kind in list(KINDS)[:: 1 if round_ % 2 == 0 else -1]:
                runs[kind].append(crawl(kind, layout, served, scratch, profiles))
                for path in scratch.glob(f"{layout.name}-{kind}.db*"):  # each run starts from nothing
                    path.unlink()
            costs.append(trafilatura_cost(served))
        print(f"{layout.name}: trafilatura.extract alone "
              f"{', '.join(f'{c * 1000:.1f}' for c in costs)} ms/page around the rounds", flush=True)
    crawls = {kind: max(done, key=lambda c: c.rate) for kind, done in runs.items()}
    # the mean: a 300-page timing is short enough to catch a fast moment the crawls never had
    return Result(layout, crawls, sum(costs) / len(costs), cores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3_000, help="Articles of each layout.")
    parser.add_argument("--repeat", type=int, default=2, help="Rounds of the three crawls; each kind's best is kept.")
    parser.add_argument("--small", type=int, default=1_000, help="Articles of the memory check's small crawl.")
    parser.add_argument("--cases", type=Path, default=ROOT.parent / "shared" / "benchmarks",
                        help="The real pages with gold output (../shared/benchmarks/README.md); skipped if absent.")
    parser.add_argument("--only", nargs="+", help="Only these layouts (figures printed, BENCHMARKS.md untouched).")
    parser.add_argument("--run", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--portal", help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--progress", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run, args.portal, args.origin, args.db, args.progress)
        return
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    cores = default_workers()
    chosen = [layout for layout in layouts(args.cases if args.cases.is_dir() else None)
              if not args.only or layout.name in args.only]
    if not chosen:
        raise SystemExit(f"no such layout: {' '.join(args.only)}")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch, profiles = Path(scratch_name), Path(scratch_name) / "profiles"
        profiles.mkdir()
        write_profiles(profiles, chosen)
        results = [measure(layout, args.count, scratch, profiles, cores, args.repeat) for layout in chosen]
        small = None
        if not args.only:
            with serve_twin(args.small) as served:
                small = crawl("ours", chosen[0], served, scratch, profiles)
    report(results, small, args, cores)


def report(results: list[Result], small: Crawl | None, args: argparse.Namespace, cores: int) -> None:
    table = ["| layout | raw pages/s | naive pages/s | portal-archive pages/s | ceiling | × naive | of ceiling "
             "| CPU ms/page: crawl (raw, ours) | workers (ours) | trafilatura alone | server "
             "| fixed CPU s: crawl (raw, ours), workers | peak RSS (ours) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    missed = []
    for r in results:
        raw, naive, ours = r.crawls["raw"], r.crawls["naive"], r.crawls["ours"]
        goals = r.goals()
        missed += [f"{r.layout.name}: {name} {value:.2f}" for name, (value, met) in goals.items() if not met]
        table.append(
            f"| {r.layout.label} | {raw.rate:.0f} | {naive.rate:.1f} | {ours.rate:.1f} | {r.ceiling:.1f} | "
            f"{goals['× naive'][0]:.2f} | {goals['of ceiling'][0]:.0%} | {raw.steady[0] * 1000:.2f}, "
            f"{ours.steady[0] * 1000:.2f} | {ours.steady[1] * 1000:.2f} | {r.cost * 1000:.2f} | "
            f"{ours.steady[2] * 1000:.2f} | {raw.fixed[0]:.1f}, {ours.fixed[0]:.1f}, {ours.fixed[1]:.1f} | "
            f"{ours.peak_rss / 2**20:.0f} MiB |")
    lines = [f"goals missed: {'; '.join(missed)}" if missed else "every goal met on every layout"]
    if small:
        twin = results[0].crawls["ours"]
        lines.append(f"peak RSS of portal-archive on the twin: {small.peak_rss / 2**20:.0f} MiB for {small.pages:,} "
                     f"pages, {twin.peak_rss / 2**20:.0f} MiB for {twin.pages:,} pages (goal: under 500 MiB, flat)")
    print("\n".join(table + lines))
    if args.only:
        return
    write_section("crawl", (
        "## Crawl throughput\n\n"
        f"`python bench/crawl.py --count {args.count}` on {cores} cores ({os.uname().machine}): each layout "
        f"with {args.count:,} articles served on 127.0.0.1 by the bench's own process (bench/layouts.py: "
        "listings of 50 links), three crawls of the same pages, each a fresh process, politeness off (no "
        "delay, 16 requests at once), photos and documents not fetched (their cost: bench/media.py), "
        f"{args.repeat} rounds of the three in mirrored order (raw, naive, ours, ours, naive, raw), each "
        "kind's fastest run shown (the VM's speed drifts by half within minutes). Wall "
        "time includes starting Python and Scrapy. CPU is read from /proc every 50 ms: the crawl's process, "
        "its extraction workers (with their forkserver), and the serving process; CPU per page is read "
        f"from the moment the crawl's process had done {SKIPPED:.0%} of the pages (stored them, for "
        "portal-archive; it writes its count to a file as it goes) to its end, as trafilatura alone is timed "
        "warm; what the start cost besides (imports, the forkserver, warming caches, the first listings) is "
        "the fixed CPU. trafilatura alone: "
        "trafilatura.extract on one core over 300 of the layout's pages as served, after a first pass over "
        "them (a crawl extracts with trafilatura's caches warm), timed before, between and after the rounds, "
        "the mean of them. Goals: at least 1.5× "
        "naive and 80 % of the ceiling `cores / (1 / raw + trafilatura per page)`; the crawl's CPU per page "
        "at most 1.5× the raw fetch's; the workers' at most trafilatura.extract's alone.\n\n"
        + "\n".join(table) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    ))


if __name__ == "__main__":
    main()

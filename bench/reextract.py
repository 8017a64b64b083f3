"""Re-extraction speed: every stored page of an archive extracted again and written back, in pages/s.

    python bench/reextract.py [--count 10000] [--db ARCHIVE]

Without --db, first crawls the mongcai sample twin with COUNT articles into a scratch archive
(politeness off, as bench/crawl.py does). Then times `portal-archive reextract` (its progress bar on
stderr) with its default pool of one extraction process per core, and in a single process
(`--workers 0`), on a copy of the archive each. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.workers import default_workers  # noqa: E402
from bench.crawl import crawl, layouts, serve_twin  # noqa: E402
from bench.report import write_section  # noqa: E402


def reextract(db: Path, workers: int | None) -> float:
    command = [sys.executable, "-m", "portal_archive", "reextract", "--db", str(db)]
    if workers is not None:
        command += ["--workers", str(workers)]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="Articles of the crawled sample portal.")
    parser.add_argument("--db", type=Path, help="Re-extract (a copy of) this archive instead.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = args.db
        if source is None:
            with serve_twin(args.count) as served:
                crawl("ours", layouts(None)[0], served, Path(scratch))
            source = Path(scratch) / "twin-ours.db"
        with sqlite3.connect(source) as conn:
            (pages,) = conn.execute("select count(*) from pages").fetchone()
        rows = []
        for label, workers in [(f"pool of {default_workers()} workers (default)", None), ("one process", 0)]:
            copy = Path(scratch) / "copy.db"
            shutil.copy(source, copy)
            seconds = reextract(copy, workers)
            rows.append((label, seconds))
            print(f"{label}: {pages:,} pages in {seconds:.1f} s = {pages / seconds:.1f} pages/s", flush=True)
            copy.unlink()
    table = ["| re-extraction | pages | wall time | pages/s |", "|---|---|---|---|"]
    table += [f"| {label} | {pages:,} | {seconds:.1f} s | {pages / seconds:.1f} |" for label, seconds in rows]
    write_section("reextract", (
        "## Re-extraction\n\n"
        f"`python bench/reextract.py --count {args.count}`: `portal-archive reextract` over every stored page "
        "of an archive crawled from the mongcai sample twin (each page decompressed, extracted again, and "
        "written back in batches). Wall time includes starting Python.\n\n" + "\n".join(table) + "\n"
    ))


if __name__ == "__main__":
    main()

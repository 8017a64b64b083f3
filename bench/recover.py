"""Recovering a retired portal from the Wayback Machine: how long it takes at the Internet Archive's limits,
how close to them it runs, and what a second run costs.

    python bench/recover.py [--count 300]

Serves the Wayback Machine's twin with the captures of the halong sample portal (COUNT generated
articles, captured over months, some several times) on 127.0.0.1, recovers the portal into a fresh
archive at the default limits (24 CDX and 480 memento requests a minute), then runs the recovery
again. Requests and their times are counted from the twin's own log; the twin answers in about a
millisecond, so the figures are the limits' cost, not the service's latency. Figures go to
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from archive.samples.wayback import WaybackTwin  # noqa: E402
from bench.report import publish  # noqa: E402


def recover(twin: WaybackTwin, db: Path) -> tuple[dict, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "portal_archive", "recover", "halong", "--from", "wayback", "--wayback", twin.url,
         "--db", str(db), "--json", "--log-level", "WARNING"],
        check=True, cwd=ROOT, capture_output=True, text=True,
    )
    return json.loads(done.stdout), time.monotonic() - started


def busiest_minute(times: list[float]) -> int:
    """The most requests in any 60 seconds."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 60:
            first += 1
        most = max(most, last - first + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="generated articles of the twin portal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, WaybackTwin(count=args.count) as twin:
        db = Path(scratch) / "archive.db"
        first, seconds = recover(twin, db)
        hits = list(twin.hits)
        again, again_seconds = recover(twin, db)
        later = twin.hits[len(hits):]
        reachable = twin.reachable("halong")
        captures = sum(len(c) for c in reachable.values())
        texts = sum(1 for c in reachable.values() for n, cap in enumerate(c) if n == 0 or cap.digest != c[n - 1].digest)
    cdx = [h.at for h in hits if h.kind == "cdx"]
    mementos = [h.at for h in hits if h.kind == "memento"]
    span = (mementos[-1] - mementos[0]) if len(mementos) > 1 else 0.0
    rate = (len(mementos) - 1) / span * 60 if span else 0.0
    lines = [
        f"Recovery of the halong twin: {args.count} generated articles; {len(reachable)} of them captured and "
        f"reachable, in {captures} captures holding {texts} distinct texts "
        f"(`python bench/recover.py --count {args.count}`), default limits (24 CDX, 480 memento a minute).",
        "",
        "| | first run | second run |",
        "|---|---|---|",
        f"| CDX requests | {len(cdx)} | {sum(h.kind == 'cdx' for h in later)} |",
        f"| memento requests (redirects and listings included) | {len(mementos)} | "
        f"{sum(h.kind == 'memento' for h in later)} |",
        f"| articles new / changed | {first['new']} / {first['changed']} | {again['new']} / {again['changed']} |",
        f"| missing (linked, never captured) | {first['missing']} | {again['missing']} |",
        f"| wall time | {seconds:.1f} s | {again_seconds:.1f} s |",
        "",
        f"Mementos: {rate:.0f} a minute on average while fetching ({rate / 480:.0%} of the limit); the busiest "
        f"60 s held {busiest_minute(mementos)} (limit 480). CDX: the busiest 60 s held {busiest_minute(cdx)} "
        f"(limit 24). 429s from the twin: {sum(h.status == 429 for h in hits)}.",
    ]
    publish("recover", "Recovery from the Wayback Machine", lines)


if __name__ == "__main__":
    main()

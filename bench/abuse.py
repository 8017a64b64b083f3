"""The served archive under abuse: how long the worst request takes, what the server's memory does, and
how a crowd of searches is answered.

    python bench/abuse.py [--count 30] [--crowd 200]

Crawls the sample portals (COUNT generated articles each) into a scratch archive, serves it with
`portal-archive serve` on 127.0.0.1, then:

1. three `?sql=select length(hex(randomblob(400000000)))` at once, while plain page requests go on:
   the slowest of each, and the server's peak RSS (VmHWM);
2. CROWD searches at once (`articles.json?_search=…`): how many were answered (200) and how many refused
   at once (503), and the latency of each kind (p50, p95, max).

Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a file: not bench/, whose incremental.py would shadow twisted's package
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from portal_archive.demo import crawl_samples  # noqa: E402
from tests.support.servers import child_server, datasette_answers, free_port  # noqa: E402

BOMB = "/archive.json?sql=select+length(hex(randomblob(400000000)))"
SEARCHES = ["dang+uy", "mong+cai", "hoi+nghi", "kinh+te", "nong+thon", "giao+ban"]


def timed(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--crowd", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "archive.db"
        crawl_samples(str(db), args.count, lambda line: None)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "portal_archive", "serve", "--db", str(db), "--port", str(port)]
        with child_server(command, datasette_answers(base), wait=60) as server, \
                ThreadPoolExecutor(args.crowd + 8) as pool:
            rss_before = peak_rss(server.pid)
            bombs = [pool.submit(timed, base + BOMB) for _ in range(3)]
            plain = [pool.submit(timed, base + "/archive/articles.json?_size=5") for _ in range(20)]
            bomb_results = [f.result() for f in bombs]
            plain_results = [f.result() for f in plain]
            rss_after = peak_rss(server.pid)
            crowd = [pool.submit(timed, f"{base}/archive/articles.json?_search={SEARCHES[n % len(SEARCHES)]}")
                     for n in range(args.crowd)]
            crowd_results = [f.result() for f in crowd]
    answered = [s for status, s in crowd_results if status == 200]
    refused = [s for status, s in crowd_results if status == 503]
    ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
    lines = [
        f"`python bench/abuse.py --count {args.count} --crowd {args.crowd}` (the sample portals, "
        f"{args.count} generated articles each; 2 cores):",
        "",
        "| what | result |",
        "|---|---|",
        f"| 3 × `randomblob(400000000)` at once | statuses {sorted(s for s, _ in bomb_results)}, "
        f"slowest {ms(max(t for _, t in bomb_results))} |",
        f"| 20 plain page requests meanwhile | statuses {sorted(set(s for s, _ in plain_results))}, "
        f"slowest {ms(max(t for _, t in plain_results))} |",
        f"| server peak RSS before / after the three | {rss_before / 2**20:.0f} / {rss_after / 2**20:.0f} MiB |",
        f"| {args.crowd} searches at once: answered (200) | {len(answered)}, p50 {ms(percentile(answered, 50))}, "
        f"p95 {ms(percentile(answered, 95))}, max {ms(max(answered, default=0))} |",
        f"| {args.crowd} searches at once: refused at once (503, Retry-After: 1) | {len(refused)}, "
        f"p95 {ms(percentile(refused, 95))} |",
        f"| other statuses | {sorted({s for s, _ in crowd_results} - {200, 503})} |",
    ]
    print("\n".join(lines))
    write_section("abuse", "## The served archive under abuse\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()

"""A night's incremental run over many portals on one machine, at the profiles' own politeness.

    python bench/nightly.py [--portals 100,300,1000] [--history 10] [--new 5]

For each number N of portals: N sample portals (the three families in turn, each portal its own
articles) under host names of their own, `p0001.portal.test` …, all served by one server on
127.0.0.1 that answers by the Host header (archive.samples.server.HostedSites). The crawl resolves
every `*.portal.test` to 127.0.0.1 (a Scrapy DNS resolver override, LoopbackResolver below), so each
portal keeps its own download slot and so its own delay and concurrency. Each portal has its family's
profile, renamed, its `base_url` the new host, in a profiles folder of the bench's own
(PORTAL_ARCHIVE_PROFILES).

1. History: one crawl of every portal with HISTORY articles each, delays off.
2. The night: 0 to NEW new articles on each portal (seeded), then one `crawl` of all of them at the
   profiles' politeness, in a process of its own. Timed: wall time, the requests the server answered,
   the peak RSS of the crawl's process tree, and whether every new article was archived.

Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.samples.families import FAMILIES  # noqa: E402
from archive.samples.server import HostedSites  # noqa: E402
from archive.samples.site import Pools, PortalTwin, _load_seeds  # noqa: E402
from bench.crawl import tree_rss  # noqa: E402
from bench.report import publish  # noqa: E402

DOMAIN = "portal.test"
KINDS = ("mongcai", "quangninh", "baoquangninh")  # the sample families, in turn
GOAL_SECONDS, GOAL_RSS = 600, 2**30


class LoopbackResolver:
    """Scrapy's TWISTED_DNS_RESOLVER for the bench: every name under DOMAIN is 127.0.0.1."""

    def __init__(self, reactor: object) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: object, reactor: object) -> LoopbackResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        from twisted.internet.interfaces import IResolverSimple
        from zope.interface import directlyProvides

        directlyProvides(self, IResolverSimple)
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: object = ()) -> object:  # noqa: N802 - Twisted's name
        from twisted.internet import defer

        if name == DOMAIN or name.endswith("." + DOMAIN):
            return defer.succeed("127.0.0.1")
        return defer.fail(OSError(f"{name}: only {DOMAIN} names resolve in this bench"))


def names(count: int) -> list[str]:
    return [f"p{n:04d}" for n in range(1, count + 1)]


def write_profiles(portals: list[str], folder: Path) -> None:
    shipped = ROOT / "crawler" / "profiles"
    for n, name in enumerate(portals):
        profile = yaml.safe_load((shipped / f"{KINDS[n % len(KINDS)]}.yaml").read_text("utf-8"))
        profile.update(name=name, title=f"{profile['title']} ({name})", base_url=f"https://{name}.{DOMAIN}")
        profile.pop("retired", None)
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), "utf-8")


def make_sites(portals: list[str], history: int) -> HostedSites:
    pools = Pools.from_seeds(_load_seeds())
    twins = {f"{name}.{DOMAIN}": (PortalTwin(name, None, [], pools, history), FAMILIES[KINDS[n % len(KINDS)]])
             for n, name in enumerate(portals)}
    return HostedSites(twins)


def child(arguments: str) -> None:
    """`bench/nightly.py --child JSON`: one crawl, in this process, as `portal-archive crawl` runs it."""
    from crawler.runner import run_crawl

    job = json.loads(arguments)
    overrides = {"TWISTED_DNS_RESOLVER": "bench.nightly.LoopbackResolver", "LOG_LEVEL": "WARNING",
                 "MEDIA_ENABLED": job["media"]}
    if not job["polite"]:
        overrides.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False)
    overrides.update(job.get("overrides", {}))
    results = run_crawl(job["portals"], job["db"], job["origins"], overrides)
    print(json.dumps({"new": sum(r.new for r in results), "errors": sum(r.errors for r in results)}))


def crawl(portals: list[str], sites: HostedSites, db: Path, profiles: Path, polite: bool, **overrides: object
          ) -> dict:
    origins = {name: sites.running[f"{name}.{DOMAIN}"].origin for name in portals}
    job = {"portals": portals, "db": str(db), "origins": origins, "polite": polite, "media": polite,
           "overrides": overrides}
    before = sum(len(t.hits) for t in sites.running.values())
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "bench.nightly", "--child", json.dumps(job)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PORTAL_ARCHIVE_PROFILES": str(profiles)})
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.2)
    seconds = time.monotonic() - started
    out = process.stdout.read().strip().splitlines()
    if process.returncode or not out:
        raise SystemExit(f"the crawl of {len(portals)} portals failed (exit {process.returncode})")
    requests = sum(len(t.hits) for t in sites.running.values()) - before
    return {**json.loads(out[-1]), "seconds": seconds, "peak": peak, "requests": requests}


def night(count: int, history: int, most_new: int, scratch: Path) -> dict:
    portals = names(count)
    profiles = scratch / f"profiles-{count}"
    profiles.mkdir()
    write_profiles(portals, profiles)
    db = scratch / f"archive-{count}.db"
    with make_sites(portals, history) as sites:
        first = crawl(portals, sites, db, profiles, polite=False)
        print(f"{count} portals: history of {first['new']} articles in {first['seconds']:.0f} s", flush=True)
        rng = random.Random(count)
        published = 0
        for name in portals:
            n = rng.randint(0, most_new)
            sites.running[f"{name}.{DOMAIN}"].family.twin.publish(n)
            published += n
        result = crawl(portals, sites, db, profiles, polite=True)
    archived = sqlite3.connect(db).execute("select count(*) from articles").fetchone()[0]
    result.update(portals=count, published=published, history=first["new"], archived=archived)
    print(f"{count} portals: {published} new articles published, {result['new']} archived, "
          f"{result['requests']} requests in {result['seconds']:.0f} s, peak RSS {result['peak'] / 2**20:.0f} MiB",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", default="100,300,1000", help="Numbers of portals, one night each.")
    parser.add_argument("--history", type=int, default=10, help="Articles each portal has already published.")
    parser.add_argument("--new", type=int, default=5, help="At most this many new articles per portal.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as scratch:
        nights = [night(int(n), args.history, args.new, Path(scratch)) for n in args.portals.split(",")]
    lines = [
        f"`python bench/nightly.py --portals {args.portals} --history {args.history} --new {args.new}`: the three "
        "sample families under that many host names, served by one server on 127.0.0.1 and resolved there by "
        "a DNS override, each portal with its own profile and so its own download slot and politeness "
        f"(delay 1 s, 2 at once). Each portal had {args.history} articles archived; then 0 to {args.new} new "
        "ones each, and one incremental crawl of all of them at the profiles' politeness, in one process "
        "with its extraction workers (media on), at most `PORTALS_AT_ONCE` (200) portals at once.", "",
        "| portals | new articles | archived | requests | wall time | per portal | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in nights:
        lines.append(f"| {n['portals']:,} | {n['published']:,} | {n['new']:,} | {n['requests']:,} | "
                     f"{n['seconds']:.0f} s | {n['seconds'] / n['portals'] * 1000:.0f} ms | "
                     f"{n['peak'] / 2**20:,.0f} MiB |")
    last = nights[-1]
    lines += ["", f"Goal for {last['portals']:,} portals: under {GOAL_SECONDS // 60} minutes and under 1 GiB: "
              f"{'met' if last['seconds'] < GOAL_SECONDS and last['peak'] < GOAL_RSS else 'not met'}; every new "
              f"article archived: {'yes' if all(n['new'] == n['published'] for n in nights) else 'no'}."]
    publish("nightly", "A night over many portals", lines)


if __name__ == "__main__":
    main()

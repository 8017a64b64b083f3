"""`portal-archive`: crawl government news portals into a SQLite archive and serve it."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from archive.dates import VN
from archive.db import ArchiveError
from archive.lock import EXIT_LOCKED, ArchiveLockedError
from archive.search import END_MARK, MARK
from crawler.profile import ProfileError, load_profile, profile_for_url, profile_names

if TYPE_CHECKING:
    import redis

DEFAULT_DB = "archive.db"
db_option = click.option(
    "--db", "db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
    help="The archive's SQLite file.",
)
workers_option = click.option(
    "--workers", type=click.IntRange(0, 256),
    help="Extraction processes (default: one per core; 0 extracts in the main process).",
)


class _Group(click.Group):
    """Turns the project's own errors into one line on stderr and exit code 1 (75 when another
    process is writing the archive: try again later)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ProfileError, ArchiveError) as err:
            raise click.ClickException(str(err)) from err
        except ArchiveLockedError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(EXIT_LOCKED)


@click.group(cls=_Group)
@click.version_option(package_name="portal-archive")
def main() -> None:
    """Keep a searchable, permanent archive of government news portals."""


def _origins(values: tuple[str, ...]) -> dict[str, str]:
    origins = {}
    for value in values:
        name, sep, origin = value.partition("=")
        if not sep or not origin.startswith(("http://", "https://")):
            raise click.BadParameter(
                f"expected PORTAL=http://host:port, got {value!r}", param_hint="--origin"
            )
        origins[name] = origin
    return origins


@main.command()
@click.argument("portals", nargs=-1)
@db_option
@click.option("--origin", "origin_values", multiple=True, metavar="PORTAL=URL",
              help="Crawl PORTAL from another origin (a mirror or its sample twin). Repeatable.")
@click.option("--full", is_flag=True, help="Walk every listing page and re-check every archived article.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Backfill: skip articles published before DATE.")
@click.option("--now", "now_at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
              help="Crawl as if at this time (which articles are young enough to re-check).")
@click.option("--delay", type=float, help="Seconds between requests to one portal (default: the profile's).")
@click.option("--timeout", type=click.FloatRange(1, 600), help="Seconds to wait for a page (default 30).")
@click.option("--log-dir", type=click.Path(file_okay=False), help="Write this run's log to a new file there.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON lines (for cron and scripts).")
@workers_option
def crawl(portals: tuple[str, ...], db: str, origin_values: tuple[str, ...], full: bool, since: datetime | None,
          now_at: datetime | None, delay: float | None, timeout: float | None, log_dir: str | None,
          log_level: str, as_json: bool, workers: int | None) -> None:
    """Crawl PORTALS (default: every profile) into the archive: only what is new, unless --full.

    Exit status: 0 when every portal was crawled, 1 when one failed outright, 75 when another crawl
    is writing the archive.
    """
    from crawler.runner import run_crawl

    names = list(dict.fromkeys(portals)) or profile_names()  # a portal named twice is crawled once
    for name in names:
        load_profile(name)  # fail before crawling anything if a profile is missing or broken
    origins = _origins(origin_values)
    unknown = set(origins) - set(names)
    if unknown:
        raise click.BadParameter(
            f"not crawled in this run: {', '.join(sorted(unknown))}", param_hint="--origin"
        )
    overrides: dict[str, object] = {
        "LOG_LEVEL": log_level.upper(), "PROGRESS_LINE": sys.stderr.isatty() and not as_json,
    }
    if delay is not None:
        overrides.update(DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=delay > 0)
    if timeout is not None:
        overrides["DOWNLOAD_TIMEOUT"] = timeout
    if workers is not None:
        overrides["EXTRACT_WORKERS"] = workers
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        overrides["LOG_FILE"] = str(Path(log_dir) / f"crawl-{stamp}-{os.getpid()}.log")
    from archive.db import Archive

    archive = Archive(db)  # one clear line, before any fetch, if the file cannot be used
    try:
        archive.check_writable()
    finally:
        archive.close()
    spider_args = {
        "full": full,
        "since": since.replace(tzinfo=VN).isoformat() if since else None,
        "now": (now_at if now_at.tzinfo else now_at.replace(tzinfo=VN)).isoformat() if now_at else None,
    }
    results = run_crawl(names, db, origins, overrides, spider_args)
    if as_json:
        for r in results:
            click.echo(json.dumps(asdict(r)))
    else:
        click.echo(f"{'portal':<14} {'pages':>6} {'new':>5} {'changed':>7} {'gone':>5} {'errors':>6}  status")
        for r in results:
            click.echo(f"{r.portal:<14} {r.pages:>6} {r.new:>5} {r.changed:>7} {r.gone:>5} {r.errors:>6}  {r.status}")
    problem = next((r.problem for r in results if r.problem), None)
    if problem:
        raise click.ClickException(problem)
    failed = [r.portal for r in results if r.status == "failed"]
    if failed:
        raise click.ClickException(f"crawl failed for {', '.join(failed)}; see the log")


@main.command()
@click.argument("query")
@click.option("--db", "db", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The archive's SQLite file.")
@click.option("--portal", help="Only this portal's articles.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only articles published on or after DATE.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def search(query: str, db: str, portal: str | None, since: datetime | None, limit: int, as_json: bool) -> None:
    """Search the archive; accents, case and đ/d are optional, "quoted words" are a phrase."""
    from archive.db import Archive
    from archive.search import search as run_search

    archive = Archive(db)
    try:
        hits = run_search(archive.db.conn, query, portal=portal, limit=limit,
                          since=since.replace(tzinfo=VN).isoformat() if since else None)
    finally:
        archive.close()
    for hit in hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
            continue
        reposts = f"  (+{hit.copies} reposts)" if hit.copies else ""
        click.echo(click.style(hit.title, bold=True) + reposts)
        click.echo(f"  {hit.portal}  {hit.published or 'date unknown'}  {hit.url}")
        text = hit.snippet.replace(MARK, "\x1b[1m" if sys.stdout.isatty() else "[").replace(
            END_MARK, "\x1b[0m" if sys.stdout.isatty() else "]")
        click.echo(f"  {text}\n")
    if not hits and not as_json:
        click.echo("no match", err=True)


@main.command()
@click.option("--db", "db", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The archive's SQLite file.")
@click.option("--portal", help="Only this portal.")
@click.option("--runs", default=5, show_default=True, type=click.IntRange(1, 1000), help="Runs shown per portal.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(db: str, portal: str | None, runs: int, as_json: bool) -> None:
    """Summarise the last crawl runs and flag portals that need a look.

    Exit status 1 when a portal's last run failed outright.
    """
    from archive.db import Archive
    from archive.health import assess

    archive = Archive(db)
    try:
        reports = assess(archive, portal, runs)
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps([asdict(r) for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            click.echo(f"{report.portal}: {report.articles} articles, last run {report.last_status}")
            for run in report.runs:
                click.echo(f"  {run['started'][:19]}  {run['status']:<11} pages {run['pages'] or 0:>5}  "
                           f"new {run['new'] or 0:>4}  changed {run['changed'] or 0:>3}  "
                           f"gone {run['gone'] or 0:>3}  errors {run['errors'] or 0:>3}")
            for flag in report.flags:
                click.echo(f"  ! {flag}")
    if any(r.last_status == "failed" for r in reports):
        sys.exit(1)


@main.command()
@click.argument("page", type=click.File("rb"))
@click.option("--url", required=True, help="The address the page was fetched from.")
@click.option("--portal", help="Use this portal's profile (default: the one whose host is in --url).")
@click.option("--listing-date", help="The date a listing page printed beside the link, if any.")
def extract(page: click.utils.LazyFile, url: str, portal: str | None, listing_date: str | None) -> None:
    """Print the clean article a saved PAGE holds, as JSON."""
    from archive.extract import Hints
    from archive.extract import extract as run_extract

    profile = load_profile(portal) if portal else profile_for_url(url)
    article = run_extract(
        page.read(), url, portal=profile.name if profile else None,
        rules=profile.rules if profile else None, hints=Hints(published=listing_date),
    )
    click.echo(json.dumps(article.as_dict(), ensure_ascii=False, indent=2))


@main.command()
@click.option("--db", "db", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The archive's SQLite file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
def serve(db: str, host: str, port: int) -> None:
    """Serve the archive with Datasette."""
    from archive.serve import serve as run_serve

    _check_archive(db)
    click.echo(f"Serving {db} at http://{host}:{port}/archive  (Ctrl-C to stop)")
    run_serve(db, host, port)


def _check_archive(db: str) -> None:
    from archive.db import Archive

    Archive(db).close()  # one clear line if the file is not a usable archive


@main.command()
@click.option("--db", "db", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The archive's SQLite file.")
@click.option("--portal", help="Only this portal's articles.")
@workers_option
def reextract(db: str, portal: str | None, workers: int | None) -> None:
    """Extract the stored pages again with the current rules, updating the rows in place."""
    from archive.db import Archive
    from archive.reextract import reextract as run_reextract

    archive = Archive(db)
    try:
        with click.progressbar(length=archive.count(portal), label="Re-extracting", file=sys.stderr) as bar:
            result = run_reextract(archive, portal, progress=lambda: bar.update(1), workers=workers)
    finally:
        archive.close()
    click.echo(f"{result.seen} articles re-extracted, {result.changed} changed")


@main.group(cls=_Group)
def cluster() -> None:
    """Crawl on several machines: a Redis server shares the work, each worker writes its own shard."""


redis_option = click.option("--redis", "redis_url", default="redis://127.0.0.1:6379/0", show_default=True,
                            envvar="PORTAL_ARCHIVE_REDIS", help="The Redis server the workers share.")


def _redis(url: str) -> redis.Redis:
    import redis

    server = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        server.ping()
    except redis.RedisError as err:
        raise click.ClickException(f"{url}: cannot reach Redis: {err}") from err
    return server


@cluster.command("crawl")
@click.argument("portals", nargs=-1)
@redis_option
@click.option("--origin", "origin_values", multiple=True, metavar="PORTAL=URL",
              help="Crawl PORTAL from another origin (a mirror or its sample twin). Repeatable.")
def cluster_crawl(portals: tuple[str, ...], redis_url: str, origin_values: tuple[str, ...]) -> None:
    """Queue PORTALS (default: every profile) for the workers; each is crawled by one worker at a time."""
    from crawler.cluster import start_crawl

    names = list(dict.fromkeys(portals)) or profile_names()
    for name in names:
        load_profile(name)
    origins = _origins(origin_values)
    busy = start_crawl(_redis(redis_url), {name: origins.get(name) for name in names})
    for name in names:
        click.echo(f"{name}: {'still being crawled, left as it is' if name in busy else 'queued'}")


@cluster.command("work")
@redis_option
@click.option("--shard", required=True, type=click.Path(dir_okay=False), help="This worker's own SQLite archive.")
@click.option("--name", help="How this worker shows in `cluster status` (default: host-pid).")
@click.option("--portals-at-once", default=8, show_default=True, type=click.IntRange(1, 1000),
              help="Portals this worker crawls at the same time.")
@click.option("--lease", "lease_seconds", default=30.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds after which a silent worker's portals go to the others.")
@click.option("--until-idle", is_flag=True, help="Stop when no portal is waiting (default: wait for the next crawl).")
@click.option("--delay", type=float, help="Seconds between requests to one portal (default: the profile's).")
@workers_option
def cluster_work(redis_url: str, shard: str, name: str | None, portals_at_once: int, lease_seconds: float,
                 until_idle: bool, delay: float | None, workers: int | None) -> None:
    """Crawl portals queued by `cluster crawl` into SHARD, until stopped.

    Exit status 75 when another process writes the shard.
    """
    from archive.db import Archive
    from crawler.worker import Worker

    _redis(redis_url)
    Archive(shard).close()  # one clear line now if the shard cannot be used
    overrides: dict[str, object] = {} if workers is None else {"EXTRACT_WORKERS": workers}
    if delay is not None:
        overrides.update(DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=delay > 0)
    worker = Worker(redis_url, shard, portals_at_once=portals_at_once, lease_seconds=lease_seconds,
                    until_idle=until_idle, overrides=overrides)
    if name:
        worker.name = name
    worker.run()


@cluster.command("status")
@redis_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cluster_status(redis_url: str, as_json: bool) -> None:
    """Workers alive, requests queued, and each portal's progress."""
    from crawler.cluster import status as cluster_state

    state = cluster_state(_redis(redis_url))
    if as_json:
        click.echo(json.dumps(state, indent=2))
        return
    click.echo(f"{len(state['workers'])} workers, {state['queued']} requests queued")
    for worker in state["workers"]:
        click.echo(f"  {worker['name']:<24} {worker['host']} pid {worker['pid']}  portals done {worker['portals_done']}"
                   f"  crawling {', '.join(worker['portals']) or '-'}")
    for portal, p in state["portals"].items():
        click.echo(f"{portal:<14} {p['state']:<9} {p['worker'] or '':<24} seen {p['seen']:>6}  "
                   f"queued {p['queued']:>6}  in flight {p['in_flight']:>3}")


@main.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--into", "into", required=True, type=click.Path(dir_okay=False),
              help="The archive to merge into (created if missing).")
def merge(shards: tuple[str, ...], into: str) -> None:
    """Merge shard archives written by crawl workers into one archive; merging twice changes nothing.

    Exit status 1 when a shard could not be read (the others are merged all the same).
    """
    from archive import lock
    from archive.db import Archive
    from archive.merge import merge as merge_shard

    if any(Path(shard).resolve() == Path(into).resolve() for shard in shards):
        raise click.UsageError(f"{into} is the archive merged into, not a shard")
    lock.acquire(into)
    archive = Archive(into)
    failed = False
    try:
        for shard in shards:
            try:
                result = merge_shard(archive, shard)
            except ArchiveError as err:
                click.echo(f"Error: {err}", err=True)
                failed = True
                continue
            click.echo(f"{shard}: {result.new} new, {result.changed} changed, {result.unchanged} unchanged, "
                       f"{result.runs} crawl runs")
    finally:
        archive.close()
        lock.release(into)
    if failed:
        sys.exit(1)


@main.command()
@click.option("--print", "print_", is_flag=True, required=True, help="Print the units and the cron line.")
@click.option("--db", "db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False))
@click.option("--log-dir", default="logs", show_default=True, type=click.Path(file_okay=False))
@click.option("--at", default="01:30", show_default=True, help="Local time of the nightly run, HH:MM.")
def schedule(print_: bool, db: str, log_dir: str, at: str) -> None:
    """Print a systemd service + timer and a cron line that run the crawl every night from here."""
    import re

    from archive.schedule import Install, render_all

    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise click.BadParameter(f"expected HH:MM, got {at!r}", param_hint="--at")
    command = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "portal-archive" else \
        Path(sys.executable).parent / "portal-archive"
    install = Install(Path.cwd(), command, Path(db).resolve(), Path(log_dir).resolve(), at)
    for name, text in render_all(install).items():
        click.echo(f"# ---- {name}\n{text}")


@main.command("add-portal")
@click.argument("url")
@click.option("--name", help="The profile's name (default: from the host, e.g. halong).")
@click.option("--force", is_flag=True, help="Overwrite an existing profile.")
def add_portal(url: str, name: str | None, force: bool) -> None:
    """Create a profile for the portal whose news listing is at URL."""
    from archive.newportal import Guess, fetch, guess, portal_name, profile_yaml, sitemaps
    from crawler.profile import PROFILE_DIR, load_profile_file

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"expected an http(s) URL, got {url!r}", param_hint="URL")
    name = name or portal_name(url)
    path = PROFILE_DIR / f"{name}.yaml"
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    try:
        found = guess(url, fetch(url))
    except OSError as err:
        click.echo(f"warning: could not fetch {url} ({err}); write the article pattern by hand", err=True)
        found = Guess(None, [])
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    try:
        sitemap_paths = sitemaps(origin, fetch(origin + "/robots.txt"))
    except OSError:
        sitemap_paths = []
    path.write_text(profile_yaml(url, name, found, sitemap_paths), encoding="utf-8")
    try:
        load_profile_file(path)
    except ProfileError:
        path.unlink()
        raise
    click.echo(f"wrote {path}" + ("" if found.articles else " (articles pattern to fill in)"))
    click.echo(f"next: portal-archive check {name}")


@main.command()
@click.argument("portal")
@click.option("--origin", help="Fetch from this origin instead of the profile's (a mirror or sample twin).")
@click.option("--articles", "limit", default=3, show_default=True, type=click.IntRange(1, 50),
              help="How many article pages to fetch.")
def check(portal: str, origin: str | None, limit: int) -> None:
    """Fetch a few pages of PORTAL and print what would be archived (JSON lines); store nothing."""
    import tempfile

    from crawler.runner import run_crawl

    load_profile(portal)
    origins = _origins((f"{portal}={origin}",)) if origin else {}
    with tempfile.TemporaryDirectory() as scratch:
        results = run_crawl([portal], str(Path(scratch) / "check.db"), origins, {
            "ITEM_PIPELINES": {"crawler.pipelines.ExtractPipeline": 300, "crawler.pipelines.CheckPipeline": 800},
            "CLOSESPIDER_ITEMCOUNT": limit, "LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        })
    result = results[0]
    if result.status == "failed" or not result.pages:
        raise click.ClickException(f"{portal}: no page could be fetched")


@main.command("sample-site")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65530),
              help="Port of the first twin; the others take the next ones (0: any free ports).")
@click.option("--count", default=30, show_default=True, type=click.IntRange(0, 100_000),
              help="Generated articles per portal, besides the seed articles.")
@click.option("--expected", type=click.File("w", encoding="utf-8"),
              help="Write the expected clean article of every page to this file (JSON lines).")
def sample_site(port: int, count: int, expected: click.utils.LazyFile | None) -> None:
    """Serve the sample portals (local twins of the real ones) on 127.0.0.1."""
    from archive.samples.server import SampleSite

    with SampleSite(count=count, port=port) as site:
        for name, origin in site.origins.items():
            click.echo(f"{name:<14} {origin}")
        if expected:
            for article in site.expected():
                expected.write(json.dumps(article, ensure_ascii=False) + "\n")
            expected.close()
        click.echo("Serving the sample portals (Ctrl-C to stop)")
        _wait()


def _wait() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


@main.command()
@db_option
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="Datasette's port.")
@click.option("--count", default=30, show_default=True, type=click.IntRange(0, 100_000),
              help="Generated articles per sample portal.")
@click.option("--no-serve", is_flag=True, help="Stop after the crawl.")
def demo(db: str, port: int, count: int, no_serve: bool) -> None:
    """Start the sample portals, crawl them all into the archive, and serve it."""
    from archive.samples.server import SampleSite
    from crawler.runner import run_crawl

    with SampleSite(count=count) as site:
        click.echo(f"Sample portals: {', '.join(f'{n} {o}' for n, o in site.origins.items())}")
        # Our own loopback twins need no politeness delay.
        results = run_crawl(list(site.origins), db, site.origins,
                            {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"})
    for r in results:
        click.echo(f"{r.portal:<14} {r.pages:>4} pages fetched, {r.new} new, {r.changed} changed articles")
    from archive.db import Archive

    archive = Archive(db)
    click.echo(f"{archive.count()} articles in {Path(db).resolve()}")
    archive.close()
    if not no_serve:
        from archive.serve import serve as run_serve

        click.echo(f"Open http://127.0.0.1:{port}/archive/articles  (Ctrl-C to stop)")
        sys.stdout.flush()
        run_serve(db, "127.0.0.1", port)

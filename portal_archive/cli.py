"""`portal-archive`: crawl government news portals into a SQLite archive and serve it.

Each command reads its options, calls the one function that does its work, and prints the result;
the work itself lives in crawler/ and archive/. Heavy modules are imported inside the commands, so
that `serve` and `search` start without loading the crawler or the extractor.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.db import ArchiveError
from archive.lock import EXIT_LOCKED, ArchiveLockedError
from crawler.profile import ProfileError
from portal_archive.options import (
    archive_option,
    http_url,
    json_option,
    log_options,
    media_options,
    origin_url,
    origins_option,
    pace_options,
    redis_option,
    workers_option,
)


class _Group(click.Group):
    """Turns the project's own errors into one line on stderr and exit code 1 (75 when another
    process is writing the archive: try again later)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ProfileError, ArchiveError, ConnectionError) as err:
            raise click.ClickException(str(err)) from err
        except OSError as err:  # a file or folder given that cannot be used: its path and why, in one line
            where = f"{err.filename}: " if err.filename else ""
            raise click.ClickException(f"{where}{err.strerror or err}") from err
        except ArchiveLockedError as err:
            click.echo(f"Error: {err}", err=True)
            sys.exit(EXIT_LOCKED)


@click.group(cls=_Group)
@click.version_option(package_name="portal-archive")
def main() -> None:
    """Keep a searchable, permanent archive of government news portals."""


def _portals(names: tuple[str, ...]) -> list[str]:
    """The portals named (a portal named twice is crawled once); by default every profile but the retired,
    whose live site is gone: `recover` is the way to them."""
    from crawler.profile import load_profile, profile_names

    if names:
        return list(dict.fromkeys(names))
    live, retired = [], []
    for name in profile_names():
        (retired if load_profile(name).retired else live).append(name)
    if retired:
        click.echo(f"left out, retired (use portal-archive recover): {', '.join(retired)}", err=True)
    return live


def _only_crawled(origins: dict[str, str], names: list[str]) -> None:
    if unknown := set(origins) - set(names):
        raise click.BadParameter(f"not crawled in this run: {', '.join(sorted(unknown))}", param_hint="--origin")


@main.command()
@click.argument("portals", nargs=-1)
@archive_option()
@origins_option
@click.option("--full", is_flag=True, help="Walk every listing page and re-check every archived article.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Backfill: skip articles published before DATE.")
@click.option("--now", "now_at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
              help="Crawl as if at this time (which articles are young enough to re-check).")
@pace_options
@media_options
@log_options
@json_option
def crawl(portals: tuple[str, ...], db: str, origins: dict[str, str], full: bool, since: datetime | None,
          now_at: datetime | None, delay: float | None, timeout: float | None, workers: int | None,
          no_media: bool, media_max_bytes: int | None, media_types: str | None,
          log_dir: str | None, log_level: str, as_json: bool) -> None:
    """Crawl PORTALS (default: every profile) into the archive: only what is new, unless --full.

    Exit status: 0 when every portal was crawled, 1 when one failed outright, 75 when another crawl
    is writing the archive.
    """
    from crawler import runner

    names = _portals(portals)
    _only_crawled(origins, names)
    settings = {**runner.pace(delay, timeout, workers), **runner.logging(log_level, log_dir),
                **runner.media(not no_media, media_max_bytes, media_types),
                "PROGRESS_LINE": sys.stderr.isatty() and not as_json}
    results = runner.crawl(names, db, origins, settings, full=full, since=since, now=now_at)
    if as_json:
        for r in results:
            click.echo(json.dumps(asdict(r)))
    else:
        click.echo(f"{'portal':<14} {'pages':>6} {'new':>5} {'changed':>7} {'gone':>5} {'errors':>6}  status")
        for r in results:
            click.echo(f"{r.portal:<14} {r.pages:>6} {r.new:>5} {r.changed:>7} {r.gone:>5} {r.errors:>6}  {r.status}")
    if problem := next((r.problem for r in results if r.problem), None):
        raise click.ClickException(problem)
    if failed := [r.portal for r in results if r.status == "failed"]:
        raise click.ClickException(f"crawl failed for {', '.join(failed)}; see the log")
    if rejected := sum(r.rejected for r in results):
        raise click.ClickException(f"the archive refused {rejected} articles (the others are kept); see the log")


@main.command()
@click.argument("query")
@archive_option(exists=True)
@click.option("--portal", help="Only this portal's articles.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only articles published on or after DATE.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def search(query: str, db: str, portal: str | None, since: datetime | None, limit: int, as_json: bool) -> None:
    """Search the archive; accents, case and đ/d are optional, "quoted words" are a phrase."""
    from archive.search import END_MARK, MARK, QueryError, search_archive

    try:
        hits = search_archive(db, query, portal=portal, since=since, limit=limit)
    except QueryError as err:
        raise click.BadParameter(str(err), param_hint="QUERY") from err
    tty = sys.stdout.isatty()
    for hit in hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
            continue
        reposts = f"  (+{hit.copies} reposts)" if hit.copies else ""
        click.echo(click.style(hit.title, bold=True) + reposts)
        click.echo(f"  {hit.portal}  {hit.published or 'date unknown'}  {hit.url}")
        text = hit.snippet.replace(MARK, "\x1b[1m" if tty else "[").replace(END_MARK, "\x1b[0m" if tty else "]")
        click.echo(f"  {text}\n")
    if not hits and not as_json:
        click.echo("no match", err=True)


@main.command()
@click.argument("portal")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "source", required=True, type=click.Choice(["wayback", "warc"]),
              help="Where the captures are: the Wayback Machine, or WARC/WACZ FILES.")
@archive_option()
@click.option("--wayback", "wayback", default="https://web.archive.org", show_default=True,
              callback=lambda ctx, param, value: origin_url(value, "--wayback"),
              help="The Wayback Machine to ask (its twin, or a mirror that answers its CDX API).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only captures made on or after DATE.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only captures made before DATE.")
@click.option("--cdx-per-minute", default=24.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="CDX API requests a minute at most (the Internet Archive blocks past 30).")
@click.option("--mementos-per-minute", default=480.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Memento requests a minute at most (the Internet Archive blocks past 600).")
@workers_option
@log_options
@json_option
def recover(portal: str, files: tuple[str, ...], source: str, db: str, wayback: str, since: datetime | None,
            until: datetime | None, cdx_per_minute: float, mementos_per_minute: float, workers: int | None,
            log_dir: str | None, log_level: str, as_json: bool) -> None:
    """Archive PORTAL's articles from captures: the Wayback Machine's, or WARC/WACZ FILES others made.

    Each distinct text of an article becomes a version, dated by its capture. Safe to repeat and to
    interrupt: captures already archived are skipped, and a second run from the Wayback Machine asks
    only for captures newer than the last complete one listed.
    """
    from crawler import runner

    if source == "wayback" and files:
        raise click.BadParameter("FILES are for --from warc; --from wayback asks the Wayback Machine",
                                 param_hint="FILES")
    if source == "warc":
        if not files:
            raise click.BadParameter("--from warc needs one or more WARC or WACZ files", param_hint="FILES")
        _recover_warcs(portal, list(files), db, workers, as_json)
        return
    settings = {**runner.pace(None, None, workers), **runner.logging(log_level, log_dir),
                "PROGRESS_LINE": sys.stderr.isatty() and not as_json}
    limits = {"cdx_per_minute": cdx_per_minute, "mementos_per_minute": mementos_per_minute}
    (result,) = runner.recover_wayback([portal], db, wayback, settings, since, until, limits)
    if as_json:
        click.echo(json.dumps(asdict(result)))
    else:
        click.echo(f"{'portal':<14} {'captures':>8} {'new':>5} {'changed':>7} {'missing':>7} {'waited':>7}  status")
        click.echo(f"{result.portal:<14} {result.captures:>8} {result.new:>5} {result.changed:>7} "
                   f"{result.missing:>7} {result.waited:>6.0f}s  {result.status}")
    if result.problem:
        raise click.ClickException(result.problem)
    if result.status == "failed":
        raise click.ClickException(f"recovery of {portal} failed; see the log")


def _recover_warcs(portal: str, files: list[str], db: str, workers: int | None, as_json: bool) -> None:
    import os

    from archive.db import writing
    from archive.warcs import SOURCE, WarcError, recover_warcs
    from crawler.profile import load_profile

    profile = load_profile(portal)

    def own_article(uri: str) -> str | None:
        own = profile.own(uri)
        return own if own and profile.is_article(own) else None

    with writing(db) as archive:
        archive.upsert_portal(profile.name, profile.title, profile.base_url, "warc", profile.retired)
        run = archive.start_run(profile.name, False, os.getpid(), source=SOURCE)
        try:
            result = recover_warcs(archive, portal, own_article, profile.rules, files, workers)
        except WarcError as err:  # what came before the broken file is archived; the run says partial
            archive.finish_run(run, "partial", {})
            raise click.ClickException(str(err)) from err
        except BaseException:
            archive.finish_run(run, "interrupted", {})
            raise
        archive.finish_run(run, "finished", {"new": result.new, "changed": result.changed,
                                             "unchanged": result.unchanged, "pages": result.records,
                                             "missing": result.not_ok})
    if as_json:
        click.echo(json.dumps({"portal": portal, **asdict(result)}))
    else:
        click.echo(f"{portal}: {result.records} records read, {result.new} new articles, {result.changed} "
                   f"changed, {result.unchanged} unchanged, {result.revisits} revisits, {result.not_ok} not 200, "
                   f"{result.done_before} imported before, {result.skipped} other pages")


@main.command()
@archive_option(exists=True)
@click.option("--portal", help="Only this portal.")
@click.option("--runs", default=5, show_default=True, type=click.IntRange(1, 1000), help="Runs shown per portal.")
@json_option
def status(db: str, portal: str | None, runs: int, as_json: bool) -> None:
    """Summarise the last crawl runs and flag portals that need a look.

    Exit status 1 when a portal's last run failed outright.
    """
    from archive.health import assess_archive

    reports = assess_archive(db, portal, runs)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            retired = f", retired {report.retired}" if report.retired else ""
            click.echo(f"{report.portal}: {report.articles} articles, last run {report.last_status}{retired}")
            for source, (articles, texts) in report.recovered.items():
                click.echo(f"  recovered {articles} articles ({texts} texts) from {source}")
            for run in report.runs:
                click.echo(f"  {run['started'][:19]}  {run['source'] or 'crawl':<7} {run['status']:<11} "
                           f"pages {run['pages'] or 0:>5}  "
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
    """Print the clean article a saved PAGE holds, as JSON.

    Exit status 1, with the reason, for a page the crawl would skip: empty, binary, a PDF, larger than
    the crawl's DOWNLOAD_MAXSIZE, or holding no article text.
    """
    from archive.extract import extract as run_extract
    from archive.model import Hints
    from archive.text import not_html
    from crawler.profile import load_profile, profile_for_url
    from crawler.settings import DOWNLOAD_MAXSIZE

    profile = load_profile(portal) if portal else profile_for_url(url)
    body = page.read(DOWNLOAD_MAXSIZE + 1)
    if len(body) > DOWNLOAD_MAXSIZE:
        raise click.ClickException(f"{page.name}: larger than {DOWNLOAD_MAXSIZE // 2**20} MiB, the most a crawl reads")
    if reason := not_html(body):
        raise click.ClickException(f"{page.name}: {reason}")
    article = run_extract(
        body, url, portal=profile.name if profile else None,
        rules=profile.rules if profile else None, hints=Hints(published=listing_date),
    )
    if not article.paragraphs:
        raise click.ClickException(f"{page.name}: no article text found")
    click.echo(json.dumps(article.as_dict(), ensure_ascii=False, indent=2))


@main.command()
@archive_option(exists=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.option("--allow-robots", is_flag=True,
              help="Let search engines index the archive (robots.txt says Disallow unless this is given).")
def serve(db: str, host: str, port: int, allow_robots: bool) -> None:
    """Serve the archive: the reading room at /, Datasette's tables, SQL and API at /archive."""
    from archive.db import reading
    from archive.serve import serve as run_serve

    with reading(db):  # one clear line now if the file is not a usable archive
        pass
    click.echo(f"Serving {db} at http://{host}:{port}/  (Ctrl-C to stop)")
    run_serve(db, host, port, allow_robots)


@main.command()
@click.argument("kind", type=click.Choice(["warc", "wacz"]))
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@archive_option(exists=True)
@click.option("--portal", help="Only this portal's pages.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only pages fetched or captured on or after DATE.")
@click.option("--operator", help="Who runs this archive, for the warcinfo record (a name, an e-mail).")
@json_option
def export(kind: str, out: str, db: str, portal: str | None, since: datetime | None, operator: str | None,
           as_json: bool) -> None:
    """Write the stored pages as a WARC/1.1 file (request, response and revisit records) or a WACZ."""
    from archive.db import reading
    from archive.export import write_wacz, write_warc
    from archive.model import aware

    target = Path(out)
    if kind == "wacz" and target.suffix != ".wacz":
        raise click.BadParameter("a WACZ file's name ends in .wacz", param_hint="OUT")
    with reading(db) as archive:
        moment = aware(since) if since else None
        if kind == "warc":
            result, _ = write_warc(archive, target, portal, moment, operator)
        else:
            result = write_wacz(archive, target, portal, moment, operator)
    if as_json:
        click.echo(json.dumps({"out": str(target), **asdict(result)}))
    else:
        click.echo(f"{target}: {result.pages} pages ({result.responses} responses, {result.revisits} revisits, "
                   f"{result.requests} requests)")


@main.command()
@archive_option(exists=True)
@click.option("--portal", help="Only this portal's pages.")
@json_option
def verify(db: str, portal: str | None, as_json: bool) -> None:
    """Hash every stored page again and compare it with the digest taken when it was fetched.

    Exit status 1 when any page no longer matches (its URL is printed): restore the file from a copy.
    """
    from archive.db import reading
    from archive.fixity import verify as run_verify

    with reading(db) as archive:
        result = run_verify(archive, portal)
    if as_json:
        click.echo(json.dumps(asdict(result)))
    else:
        for url in result.failed:
            click.echo(f"changed since it was fetched: {url}")
        click.echo(f"{result.checked} stored pages and media files checked, {len(result.failed)} changed, "
                   f"{result.undigested} pages archived before digests were kept")
    if result.failed:
        sys.exit(1)


@main.command()
@archive_option(exists=True)
@click.option("--portal", help="Only this portal's articles.")
@workers_option
def reextract(db: str, portal: str | None, workers: int | None) -> None:
    """Extract the stored pages again with the current rules, updating the rows in place."""
    from archive.db import writing
    from archive.reextract import reextract as run_reextract
    from crawler.profile import rules_for

    with writing(db) as archive, click.progressbar(length=archive.count(portal), label="Re-extracting",
                                                   file=sys.stderr) as bar:
        result = run_reextract(archive, rules_for, portal, progress=lambda: bar.update(1), workers=workers)
    click.echo(f"{result.seen} articles re-extracted, {result.changed} changed")


@main.group(cls=_Group)
def cluster() -> None:
    """Crawl on several machines: a Redis server shares the work, each worker writes its own shard."""


@cluster.command("crawl")
@click.argument("portals", nargs=-1)
@redis_option
@origins_option
def cluster_crawl(portals: tuple[str, ...], redis_url: str, origins: dict[str, str]) -> None:
    """Queue PORTALS (default: every profile) for the workers; each is crawled by one worker at a time."""
    from crawler.cluster import connect, start_crawl
    from crawler.runner import check_portals

    names = _portals(portals)
    _only_crawled(origins, names)
    check_portals(names)
    busy = start_crawl(connect(redis_url), {name: origins.get(name) for name in names})
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
@pace_options
def cluster_work(redis_url: str, shard: str, name: str | None, portals_at_once: int, lease_seconds: float,
                 until_idle: bool, delay: float | None, timeout: float | None, workers: int | None) -> None:
    """Crawl portals queued by `cluster crawl` into SHARD, until stopped.

    Exit status 75 when another process writes the shard.
    """
    from crawler.runner import pace
    from crawler.worker import Worker

    worker = Worker.ready(redis_url, shard, name, portals_at_once=portals_at_once, lease_seconds=lease_seconds,
                          until_idle=until_idle, overrides=pace(delay, timeout, workers))
    worker.run()


@cluster.command("status")
@redis_option
@json_option
def cluster_status(redis_url: str, as_json: bool) -> None:
    """Workers alive, requests queued, and each portal's progress."""
    from crawler.cluster import connect
    from crawler.cluster import status as cluster_state

    state = cluster_state(connect(redis_url))
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
    from archive.merge import merge_all

    failed = False
    for shard, result in merge_all(into, list(shards)):
        if isinstance(result, ArchiveError):
            click.echo(f"Error: {result}", err=True)
            failed = True
        else:
            click.echo(f"{shard}: {result.new} new, {result.changed} changed, {result.unchanged} unchanged, "
                       f"{result.runs} crawl runs, {result.media} new photos and documents")
    if failed:
        sys.exit(1)


@main.command()
@click.option("--print", "print_", is_flag=True, required=True, help="Print the units and the cron line.")
@archive_option()
@click.option("--log-dir", default="logs", show_default=True, type=click.Path(file_okay=False))
@click.option("--at", default="01:30", show_default=True, help="Local time of the nightly run, HH:MM.")
def schedule(print_: bool, db: str, log_dir: str, at: str) -> None:
    """Print a systemd service + timer and a cron line that run the crawl every night from here."""
    from archive.schedule import Install, render_all

    try:
        install = Install.here(db, log_dir, at)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--at") from err
    for name, text in render_all(install).items():
        click.echo(f"# ---- {name}\n{text}")


@main.command("add-portal")
@click.argument("url")
@click.option("--name", help="The profile's name (default: from the host, e.g. halong).")
@click.option("--force", is_flag=True, help="Overwrite an existing profile.")
def add_portal(url: str, name: str | None, force: bool) -> None:
    """Create a profile for the portal whose news listing is at URL, with its pages saved for its tests."""
    from crawler.newportal import add_portal as run_add_portal

    added = run_add_portal(http_url(url, "URL"), name, force)
    for warning in added.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {added.path}" + ("" if added.found_articles else " (articles pattern to fill in)"))
    for page in added.saved:
        click.echo(f"saved {page} and its expected JSON")
    click.echo(f"next: portal-archive check {added.name}")


@main.command()
@click.argument("portal")
@click.option("--origin", help="Fetch from this origin instead of the profile's (a mirror or sample twin).")
@click.option("--articles", "limit", default=3, show_default=True, type=click.IntRange(1, 50),
              help="How many article pages to fetch.")
@pace_options
def check(portal: str, origin: str | None, limit: int, delay: float | None, timeout: float | None,
          workers: int | None) -> None:
    """Fetch a few pages of PORTAL and print what would be archived (JSON lines); store nothing.

    Then, on stderr, how the profile fits the site: for each selector, on how many of the pages fetched
    it matched and what the crawl falls back to where it matched nothing. Exits 1 when a selector the
    archive relies on (listing items, title, date, body) matched no page."""
    from crawler.runner import check as run_check
    from crawler.runner import pace

    result = run_check(portal, origin_url(origin, "--origin") if origin else None, limit, pace(delay, timeout, workers))
    if result.status == "failed" or not result.pages:
        raise click.ClickException(f"{portal}: no page could be fetched")
    if result.misfits:
        raise click.ClickException(f"{portal}: the profile does not fit the site ({', '.join(result.misfits)} "
                                   "matched nothing); see the report above")


@main.command("sample-site")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65530),
              help="Port of the first twin; the others take the next ones (0: any free ports).")
@click.option("--count", default=30, show_default=True, type=click.IntRange(0, 100_000),
              help="Generated articles per portal, besides the seed articles.")
@click.option("--expected", type=click.File("w", encoding="utf-8"),
              help="Write the expected clean article of every page to this file (JSON lines).")
def sample_site(port: int, count: int, expected: click.utils.LazyFile | None) -> None:
    """Serve the sample portals (local twins of the real ones) on 127.0.0.1."""
    from archive.samples.server import SampleSite, serve_until_interrupted

    with SampleSite(count=count, port=port) as site:
        for name, origin in site.origins.items():
            click.echo(f"{name:<14} {origin}")
        if expected:
            for article in site.expected():
                expected.write(json.dumps(article, ensure_ascii=False) + "\n")
            expected.close()
        click.echo("Serving the sample portals (Ctrl-C to stop)")
        serve_until_interrupted()


@main.command()
@archive_option()
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Datasette's port.")
@click.option("--count", default=30, show_default=True, type=click.IntRange(0, 100_000),
              help="Generated articles per sample portal.")
@click.option("--no-serve", is_flag=True, help="Stop after the crawl.")
def demo(db: str, port: int, count: int, no_serve: bool) -> None:
    """Start the sample portals, crawl them all into the archive, and serve it."""
    from portal_archive.demo import crawl_samples

    crawl_samples(db, count, click.echo)
    if not no_serve:
        from archive.serve import serve as run_serve

        click.echo(f"Open http://127.0.0.1:{port}/  (Ctrl-C to stop)")
        sys.stdout.flush()
        run_serve(db, "127.0.0.1", port)

"""`portal-archive`: crawl government news portals into a SQLite archive and serve it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from archive.db import ArchiveError
from crawler.profile import ProfileError, load_profile, profile_for_url, profile_names

DEFAULT_DB = "archive.db"
db_option = click.option(
    "--db", "db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
    help="The archive's SQLite file.",
)


class _Group(click.Group):
    """Turns the project's own errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ProfileError, ArchiveError) as err:
            raise click.ClickException(str(err)) from err


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
@click.option("--delay", type=float, help="Seconds between requests to one portal (default: the profile's).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def crawl(portals: tuple[str, ...], db: str, origin_values: tuple[str, ...], delay: float | None,
          log_level: str) -> None:
    """Crawl PORTALS (default: every profile) into the archive."""
    from crawler.runner import run_crawl

    names = list(portals) or profile_names()
    for name in names:
        load_profile(name)  # fail before crawling anything if a profile is missing or broken
    origins = _origins(origin_values)
    unknown = set(origins) - set(names)
    if unknown:
        raise click.BadParameter(
            f"not crawled in this run: {', '.join(sorted(unknown))}", param_hint="--origin"
        )
    overrides: dict[str, object] = {"LOG_LEVEL": log_level.upper()}
    if delay is not None:
        overrides.update(DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=delay > 0)
    results = run_crawl(names, db, origins, overrides)
    failed = False
    click.echo(f"{'portal':<14} {'pages':>6} {'new':>5} {'changed':>7} {'errors':>6}  finish")
    for r in results:
        click.echo(f"{r.portal:<14} {r.pages:>6} {r.new:>5} {r.changed:>7} {r.errors:>6}  {r.finish_reason}")
        failed |= r.finish_reason != "finished" or r.pages == 0
    if failed:
        raise click.ClickException("at least one portal failed; see the log above")


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
def reextract(db: str, portal: str | None) -> None:
    """Extract the stored pages again with the current rules, updating the rows in place."""
    from archive.db import Archive
    from archive.reextract import reextract as run_reextract

    archive = Archive(db)
    try:
        with click.progressbar(length=archive.count(portal), label="Re-extracting", file=sys.stderr) as bar:
            result = run_reextract(archive, portal, progress=lambda: bar.update(1))
    finally:
        archive.close()
    click.echo(f"{result.seen} articles re-extracted, {result.changed} changed")


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

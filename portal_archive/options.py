"""The command line's option groups, as decorators (the way sqlite-utils shares its options): each
group is written once and means the same in every command that takes it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "archive.db"


def _apply(fn: F, *decorators: Callable[[F], F]) -> F:
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def archive_option(exists: bool = False) -> Callable[[F], F]:
    """``--db``: the archive's SQLite file; ``exists`` for commands that only read one."""
    return click.option("--db", "db", default=DEFAULT_DB, show_default=True,
                        type=click.Path(exists=exists, dir_okay=False), help="The archive's SQLite file.")


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line for lists).")(fn)


def workers_option(fn: F) -> F:
    return click.option("--workers", type=click.IntRange(0, 256),
                        help="Extraction processes (default: one per core; 0 extracts in the main process).")(fn)


class _Seconds(click.ParamType):
    """A number of seconds, zero or more, finite."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number of seconds, got {value!r}", param, ctx)
        if not math.isfinite(seconds) or not 0 <= seconds <= 3600:
            self.fail(f"expected 0 to 3600 seconds, got {value!r}", param, ctx)
        return seconds


def pace_options(fn: F) -> F:
    """How fast the crawl goes: the delay, the timeout, the extraction processes."""
    return _apply(
        fn,
        click.option("--delay", type=_Seconds(),
                     help="Seconds between requests to one portal (default: the profile's)."),
        click.option("--timeout", type=click.FloatRange(1, 600), help="Seconds to wait for a page (default 30)."),
        workers_option,
    )


def media_options(fn: F) -> F:
    """Which photos and documents a crawl keeps."""
    return _apply(
        fn,
        click.option("--no-media", "no_media", is_flag=True, help="Keep no photos or documents, only the pages."),
        click.option("--media-max-bytes", type=click.IntRange(1, 2**40),
                     help="Leave out any photo or document larger than this many bytes (default: 20 mebibytes)."),
        click.option("--media-types", metavar="EXT,...",
                     help="The file types kept, e.g. jpg,png,pdf (default: photos, office documents, archives)."),
    )


def log_options(fn: F) -> F:
    return _apply(
        fn,
        click.option("--log-dir", type=click.Path(file_okay=False), help="Write this run's log to a new file there."),
        click.option("--log-level", default="INFO", show_default=True,
                     type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)),
    )


def http_url(value: str, hint: str) -> str:
    """An http(s) URL with a host and a valid port, or click.BadParameter."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise click.BadParameter(f"expected an http(s) URL with a host, got {value!r}", param_hint=hint)
    return value


def origin_url(value: str, hint: str) -> str:
    """An origin, scheme://host[:port], or click.BadParameter."""
    return http_url(value, hint).rstrip("/")


def _origins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    origins = {}
    for value in values:
        name, sep, origin = value.partition("=")
        if not sep or not origin.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected PORTAL=http://host:port, got {value!r}", param_hint="--origin")
        origins[name] = origin_url(origin, "--origin")
    return origins


def origins_option(fn: F) -> F:
    """``--origin PORTAL=URL``, repeatable: read as a dict of portal -> origin."""
    return click.option("--origin", "origins", multiple=True, metavar="PORTAL=URL", callback=_origins,
                        help="Crawl PORTAL from another origin (a mirror or its sample twin). Repeatable.")(fn)


def redis_option(fn: F) -> F:
    return click.option("--redis", "redis_url", default="redis://127.0.0.1:6379/0", show_default=True,
                        envvar="PORTAL_ARCHIVE_REDIS", help="The Redis server the workers share.")(fn)

"""Datasette on the archive: the database is always named `archive`, whatever the file is called."""

from __future__ import annotations

import asyncio
import os
from importlib import resources
from pathlib import Path

import uvicorn
import yaml
from datasette import version as datasette_version
from datasette.app import Datasette
from datasette.database import Database

from archive.datasette_plugin import DATABASE_NAME, search_query
from archive.db import writable


def metadata() -> dict:
    return yaml.safe_load(resources.files("archive").joinpath("metadata.yml").read_text("utf-8"))


def configuration(allow_robots: bool = False) -> dict[str, dict]:
    """Datasette's keyword arguments for the archive's metadata and configuration. Datasette 1.0 reads
    queries and plugin settings from its configuration (and moves the tables' settings there itself);
    earlier releases read them all from the metadata."""
    meta = metadata()
    queries = {"search": search_query(), **meta["databases"][DATABASE_NAME].pop("queries", {})}
    config = {"databases": {DATABASE_NAME: {"queries": queries}},
              "plugins": {"portal_archive_room": {"allow_robots": allow_robots}}}
    if datasette_version.__version__.startswith("0."):
        meta["databases"][DATABASE_NAME]["queries"] = queries
        meta["plugins"] = config["plugins"]
        return {"metadata": meta}
    return {"metadata": meta, "config": config}


def build(db_path: str | Path, allow_robots: bool = False) -> Datasette:
    """A Datasette instance serving the archive read-only, with the project's metadata and the reading
    room; robots are kept off unless ``allow_robots``."""
    from datasette.plugins import pm

    from archive import datasette_plugin, guard, room

    for name, plugin in (("portal_archive", datasette_plugin), ("portal_archive_guard", guard),
                         ("portal_archive_room", room)):
        if not pm.is_registered(plugin):  # installed without its entry points
            pm.register(plugin, name=name)
    ds = Datasette(
        **configuration(allow_robots),
        settings={
            "sql_time_limit_ms": 3000, "max_returned_rows": 1000, "facet_time_limit_ms": 500,
            "truncate_cells_html": 300, "allow_download": False, "default_page_size": 50,
        },
    )
    # A copy nobody may write cannot change: Datasette reads it as immutable, without the WAL index it
    # could not create.
    path = Path(db_path).resolve()
    ds.add_database(Database(ds, path=str(path), is_mutable=writable(path)), name=DATABASE_NAME)
    return ds


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, allow_robots: bool = False) -> None:
    from archive.datasette_plugin import remove_snapshots

    ds = build(db_path, allow_robots)
    asyncio.run(ds.invoke_startup())
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    finally:
        remove_snapshots(os.getpid())

"""Datasette on the archive: the database is always named `archive`, whatever the file is called."""

from __future__ import annotations

import asyncio
import os
from importlib import resources
from pathlib import Path

import uvicorn
import yaml
from datasette.app import Datasette
from datasette.database import Database

from archive.datasette_plugin import DATABASE_NAME
from archive.db import writable


def metadata() -> dict:
    return yaml.safe_load(resources.files("archive").joinpath("metadata.yml").read_text("utf-8"))


def build(db_path: str | Path) -> Datasette:
    """A Datasette instance serving the archive read-only, with the project's metadata."""
    from datasette.plugins import pm

    from archive import datasette_plugin, guard

    for name, plugin in (("portal_archive", datasette_plugin), ("portal_archive_guard", guard)):
        if not pm.is_registered(plugin):  # installed without its entry points
            pm.register(plugin, name=name)
    ds = Datasette(
        metadata=metadata(),
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


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    from archive.datasette_plugin import remove_snapshots

    ds = build(db_path)
    asyncio.run(ds.invoke_startup())
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    finally:
        remove_snapshots(os.getpid())

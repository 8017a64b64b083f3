"""Datasette on the archive: the database is always named `archive`, whatever the file is called."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import uvicorn
import yaml
from datasette.app import Datasette
from datasette.database import Database

from archive.datasette_plugin import DATABASE_NAME


def metadata() -> dict:
    return yaml.safe_load(resources.files("archive").joinpath("metadata.yml").read_text("utf-8"))


def build(db_path: str | Path) -> Datasette:
    """A Datasette instance serving the archive read-only, with the project's metadata."""
    from datasette.plugins import pm

    from archive import datasette_plugin

    if not pm.is_registered(datasette_plugin):  # installed without its entry point
        pm.register(datasette_plugin, name="portal_archive")
    ds = Datasette(
        metadata=metadata(),
        settings={
            "sql_time_limit_ms": 3000, "max_returned_rows": 1000, "facet_time_limit_ms": 500,
            "truncate_cells_html": 300, "allow_download": False, "default_page_size": 50,
        },
    )
    ds.add_database(Database(ds, path=str(db_path), is_mutable=True), name=DATABASE_NAME)
    return ds


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    ds = build(db_path)
    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def child_server(command: list[str], ready: Callable[[], bool], wait: float) -> Iterator[None]:
    """A server in a child process, for tests and benches: entered once ``ready()`` holds, stopped when
    the block ends; RuntimeError if it exits or is not ready within ``wait`` seconds."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {' '.join(command)}")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serving(db_path: str | Path, port: int = 0, wait: float = 10.0) -> Iterator[str]:
    """`portal-archive serve` on 127.0.0.1 (a free port unless given), until the block ends; yields
    its base URL once it answers."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
        except OSError:
            return False
        return True

    command = [sys.executable, "-m", "archive", "serve", "--db", str(db_path), "--port", str(port)]
    with child_server(command, answers, wait):
        yield base

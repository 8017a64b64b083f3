"""Servers in child processes, for tests and benches: started on 127.0.0.1, stopped when the block ends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def child_server(command: list[str], ready: Callable[[], bool], wait: float, cwd: Path | None = None
                 ) -> Iterator[subprocess.Popen]:
    """A server in a child process, for tests and benches: entered once ``ready()`` holds, stopped when
    the block ends; RuntimeError if it exits or is not ready within ``wait`` seconds."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        deadline = time.monotonic() + wait
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {' '.join(command)}")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serving(db_path: str | Path, port: int = 0, wait: float = 10.0) -> Iterator[str]:
    """`portal-archive serve` on 127.0.0.1 (a free port unless given), until the block ends; yields
    its base URL once it answers."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "portal_archive", "serve", "--db", str(db_path), "--port", str(port)]
    with child_server(command, datasette_answers(base), wait):
        yield base


def datasette_answers(base: str) -> Callable[[], bool]:
    """Whether the Datasette at ``base`` answers yet: a ``ready`` for child_server."""

    def answers() -> bool:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
        except OSError:
            return False
        return True

    return answers

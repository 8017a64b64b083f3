"""A throwaway Redis server on 127.0.0.1, for the cluster's tests and bench: Debian's `redis-server`,
stopped when the block ends, with nothing saved to disk unless given a directory to keep its data in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.servers import child_server, free_port


@contextmanager
def local_redis(port: int = 0, data: Path | None = None, wait: float = 10) -> Iterator[str]:
    """Start redis-server on ``port`` (a free one by default) and yield its URL. With ``data``, every
    write is logged there (append-only file, synced each time) and read back by the next server started
    on it: a restart loses nothing, as with a production Redis."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: run `make test-deps` (Debian's redis-server package)")
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(redis.Redis.from_url(url).ping())
        except redis.ConnectionError:
            return False

    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    if data is None:
        command += ["--appendonly", "no"]
    else:
        data.mkdir(parents=True, exist_ok=True)
        command += ["--dir", str(data), "--appendonly", "yes", "--appendfsync", "always"]
    with child_server(command, answers, wait):
        yield url

"""A throwaway Redis server on 127.0.0.1, for the cluster's tests and bench: Debian's `redis-server`,
with nothing saved to disk, stopped when the block ends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from archive.serve import child_server, free_port


@contextmanager
def local_redis(port: int = 0, wait: float = 10) -> Iterator[str]:
    """Start redis-server on ``port`` (a free one by default) and yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install Debian's redis-server package")
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(redis.Redis.from_url(url).ping())
        except redis.ConnectionError:
            return False

    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with child_server(command, answers, wait):
        yield url

"""Several workers crawling through a real Redis on 127.0.0.1, each into its own shard, merged into one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from archive.samples.server import SampleSite
from crawler import cluster
from crawler.profile import load_profile
from tests.conftest import ROOT, cli, rows
from tests.support.redis_server import local_redis
from tests.support.servers import free_port

WORKERS = 3


@pytest.fixture
def redis_url() -> Iterator[str]:
    with local_redis() as url:
        yield url


def start_worker(redis_url: str, shard: Path, name: str, lease: int = 3, delay: float = 0.01
                 ) -> subprocess.Popen[bytes]:
    """A worker in its own process group, so that SIGKILL takes its extraction processes too. The lease
    is short, so that a dead worker's portal is taken over quickly; the delay makes a crawl last long
    enough to be caught mid-way."""
    return subprocess.Popen(
        [sys.executable, "-m", "portal_archive", "cluster", "work", "--redis", redis_url, "--shard", str(shard),
         "--name", name, "--portals-at-once", "1", "--lease", str(lease), "--delay", str(delay), "--until-idle",
         "--workers", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(f"{shard}.log", "w"), start_new_session=True,
    )


def queue_crawl(site: SampleSite, redis_url: str) -> None:
    origins = [f"--origin={name}={origin}" for name, origin in site.origins.items()]
    cli("cluster", "crawl", *site.origins, "--redis", redis_url, *origins)


def merged(shards: list[Path], into: Path) -> list[str]:
    cli("merge", *map(str, shards), "--into", str(into))
    return [row["url"] for row in rows(into, "select url from articles")]


def article_fetches(site: SampleSite) -> Counter[str]:
    return Counter(running.origin + hit.path for running in site.running.values() for hit in running.hits
                   if running.family.is_article(hit.path) and hit.status == 200)


def wait_all(workers: list[subprocess.Popen[bytes]], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.wait(timeout=max(1, deadline - time.monotonic()))
        assert worker.returncode in (0, -signal.SIGKILL), f"worker exited {worker.returncode}"


def wait_for_articles(site: SampleSite, portal: str, count: int) -> None:
    """Until ``count`` article pages of ``portal`` were fetched: the crawl is well under way."""
    running, deadline = site.running[portal], time.monotonic() + 120
    while len([hit for hit in running.hits if running.family.is_article(hit.path)]) < count:
        assert time.monotonic() < deadline, f"the crawl of {portal} never got going"
        time.sleep(0.05)


def test_three_workers_archive_every_article_once_within_each_portals_politeness(
        redis_url: str, tmp_path: Path) -> None:
    # Each answer takes 30 ms and there is no delay between requests: only the concurrency limit keeps them
    # from piling up, and three workers on one portal would overlap up to three times as much.
    with SampleSite(count=40, latency=0.03) as site:
        queue_crawl(site, redis_url)
        shards = [tmp_path / f"worker{i}.db" for i in range(WORKERS)]
        # No worker dies here: leases long enough that one held up on a loaded machine keeps its portal.
        wait_all([start_worker(redis_url, shard, f"w{i}", lease=15, delay=0) for i, shard in enumerate(shards)])
        fetched = article_fetches(site)
        expected = {article["url"] for article in site.expected()}
        served = {article["fetched_from"] for article in site.expected()}
        busiest = {name: running.most_at_once() for name, running in site.running.items()}
    urls = merged(shards, tmp_path / "archive.db")
    assert sorted(urls) == sorted(expected)  # every article, and each once, under its portal address
    assert set(fetched) == served and max(fetched.values()) == 1  # no page fetched twice
    # The work was shared: each worker archived a portal of its own.
    assert all(rows(shard, "select count(*) from articles")[0][0] > 0 for shard in shards)
    lost = [line for shard in shards for line in Path(f"{shard}.log").read_text().splitlines() if "lease" in line]
    for name, most in busiest.items():
        assert most <= load_profile(name).politeness.concurrency, (name, most, lost)
    state = cluster.status(redis.Redis.from_url(redis_url))
    assert {p["state"] for p in state["portals"].values()} == {"done"} and state["queued"] == 0


def test_a_worker_killed_mid_crawl_leaves_nothing_missing(redis_url: str, tmp_path: Path) -> None:
    server = redis.Redis.from_url(redis_url)
    with SampleSite(count=150) as site:
        queue_crawl(site, redis_url)
        shards = [tmp_path / f"worker{i}.db" for i in range(WORKERS)]
        workers = [start_worker(redis_url, shard, f"w{i}") for i, shard in enumerate(shards)]
        wait_for_articles(site, "mongcai", 40)
        holder = server.get(cluster.key("mongcai", "lease")).decode()
        victim = workers[int(holder.removeprefix("w"))]
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its extraction processes, mid-crawl
        wait_all(workers)
        expected = {article["url"] for article in site.expected()}
    assert victim.returncode == -signal.SIGKILL
    assert len(expected) > 150
    urls = merged(shards, tmp_path / "archive.db")
    assert sorted(urls) == sorted(expected)
    assert cluster.status(server)["portals"]["mongcai"]["state"] == "done"


def test_redis_restarting_mid_crawl_is_waited_out(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "redis"
    shards = [tmp_path / f"worker{i}.db" for i in range(WORKERS)]
    with SampleSite(count=150) as site:
        with local_redis(port, data) as redis_url:
            queue_crawl(site, redis_url)
            # A lease outlasts the restart: each worker goes on with its portal once Redis is back.
            workers = [start_worker(redis_url, shard, f"w{i}", lease=15) for i, shard in enumerate(shards)]
            wait_for_articles(site, "mongcai", 40)
        time.sleep(2)  # Redis is down (as in `systemctl restart redis-server`): the workers wait
        assert all(worker.poll() is None for worker in workers)
        with local_redis(port, data):
            wait_all(workers)
            state = cluster.status(redis.Redis.from_url(redis_url))
        expected = {article["url"] for article in site.expected()}
    assert all(worker.returncode == 0 for worker in workers)
    assert not any("lost" in Path(f"{shard}.log").read_text() for shard in shards)
    assert sorted(merged(shards, tmp_path / "archive.db")) == sorted(expected)
    assert {p["state"] for p in state["portals"].values()} == {"done"} and state["queued"] == 0


def test_cluster_status_and_bad_redis_are_one_line(redis_url: str, tmp_path: Path) -> None:
    result = cli("cluster", "status", "--redis", "redis://127.0.0.1:9/0", check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot reach Redis" in result.stderr
    cli("cluster", "crawl", "mongcai", "--redis", redis_url)
    out = cli("cluster", "status", "--redis", redis_url).stdout
    assert "0 workers" in out and "mongcai" in out and "waiting" in out


def test_a_portal_that_cannot_be_crawled_is_logged_and_skipped(redis_url: str, tmp_path: Path) -> None:
    server = redis.Redis.from_url(redis_url)
    server.hset(cluster.PENDING, "nosuchportal", "")  # queued, then its profile was removed
    worker = start_worker(redis_url, tmp_path / "worker.db", "w0")
    assert worker.wait(timeout=60) == 0  # not taken again and again
    assert "nosuchportal" in Path(f"{tmp_path / 'worker.db'}.log").read_text()
    done = cluster.status(server)["portals"]["nosuchportal"]
    assert done["state"] == "done" and done["status"] == "failed" and "nosuchportal" in done["error"]


def test_cluster_mode_is_switched_on_by_one_setting() -> None:
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object

    from crawler.runner import project_settings

    def effective(overrides: dict) -> tuple[str, bool]:
        """The settings once the project's add-ons have run, as Scrapy's AddonManager runs them."""
        settings = project_settings(overrides)
        for path in build_component_list(settings["ADDONS"]):
            with contextlib.suppress(NotConfigured):  # the add-on stays out
                load_object(path)().update_settings(settings)
        middlewares = {load_object(m) if isinstance(m, str) else m for m in settings.getdict("SPIDER_MIDDLEWARES")}
        return settings.get("SCHEDULER"), cluster.Acknowledge in middlewares

    assert effective({}) == ("scrapy.core.scheduler.Scheduler", False)
    assert effective({"CLUSTER_REDIS_URL": "redis://127.0.0.1:1/0"}) == ("crawler.cluster.Scheduler", True)

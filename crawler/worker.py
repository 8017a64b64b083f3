"""A cluster worker: takes portals from Redis, one lease each, and crawls them into its own shard.

`portal-archive cluster work --redis URL --shard shard.db` runs one. Every second it renews its leases
(a portal whose lease it lost, say after a long pause, is stopped at once), tells Redis it is alive, and
takes a waiting portal while it crawls fewer than ``portals_at_once``. A portal is done when its spider
finished with nothing left queued or in flight; a worker that dies leaves its portals to the others.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.reactor import install_reactor
from twisted.internet import task
from twisted.python.failure import Failure

from archive.lock import ArchiveLockedError
from crawler import cluster
from crawler.extensions.runrecord import run_status
from crawler.runner import project_settings

logger = logging.getLogger(__name__)


@dataclass
class Worker:
    redis_url: str
    shard: str
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    portals_at_once: int = 8
    lease_seconds: float = 30.0
    until_idle: bool = False  # stop when no portal is waiting (tests, benches, one-off backfills)
    overrides: dict[str, Any] = field(default_factory=dict)
    server: redis.Redis = field(init=False)
    process: CrawlerProcess = field(init=False)
    active: dict[str, Crawler] = field(default_factory=dict, init=False)
    losing: set[str] = field(default_factory=set, init=False)  # active, but stopping: their lease ran out
    done: int = field(default=0, init=False)
    ticked: float = field(default=0.0, init=False)  # time.monotonic() of the last tick

    @classmethod
    def ready(cls, redis_url: str, shard: str, name: str | None = None, **options: Any) -> Worker:
        """A worker whose Redis answers and whose shard can be used, or a one-line error now
        (ConnectionError, ArchiveError, ArchiveLockedError)."""
        from archive.db import writing

        cluster.connect(redis_url)
        with writing(shard):  # ArchiveLockedError now, with the lock's own message, if another process writes it
            pass
        worker = cls(redis_url, shard, **options)
        if name:
            worker.name = name
        return worker

    def run(self) -> None:
        """Work until stopped (or, with ``until_idle``, until nothing is left to crawl)."""
        self.server = redis.Redis.from_url(self.redis_url)
        try:
            settings = project_settings({"ARCHIVE_DB": self.shard, "CLUSTER_REDIS_URL": self.redis_url,
                                         **self.overrides})
            self.process = CrawlerProcess(settings)
            # The ticker needs the reactor before the first crawler would install it.
            install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
            ticker = task.LoopingCall(self.tick)
            ticker.start(1.0, now=True).addErrback(self._stop_on_error)
            self.process.start(stop_after_crawl=False)
        finally:
            self.server.delete(cluster.worker_key(self.name))

    def tick(self) -> None:
        now = time.monotonic()
        if self.ticked and now - self.ticked > self.lease_seconds / 2:
            # Leases are renewed here: a reactor held up this long may have let one run out.
            logger.warning("the worker was held up %.1f s (leases last %.0f s)", now - self.ticked, self.lease_seconds)
        self.ticked = now
        try:
            self._tick()
        except redis.ConnectionError as err:  # restarting, say: the leases outlast a short outage
            logger.warning("Redis unreachable, trying again: %s", err)

    def _tick(self) -> None:
        for portal, crawler in list(self.active.items()):
            if portal in self.losing or not crawler.engine:
                continue
            if not cluster.renew_lease(self.server, portal, self.name, self.lease_seconds):
                crawler.spider.logger.error("lease on %s lost: stopping this crawl of it", portal)
                self.losing.add(portal)
                deferred_from_coro(crawler.engine.close_spider_async(reason="lease_lost"))
        waiting = {p.decode(): o.decode() for p, o in self.server.hgetall(cluster.PENDING).items()}
        # One new portal per tick at most, so that workers starting together share the portals out.
        if len(self.active) < self.portals_at_once:
            for portal, origin in sorted(waiting.items()):
                if portal not in self.active and cluster.take_lease(self.server, portal, self.name, self.lease_seconds):
                    self.start(portal, origin or None)
                    break
        self.server.set(cluster.worker_key(self.name), json.dumps({
            "name": self.name, "host": socket.gethostname(), "pid": os.getpid(), "shard": os.path.abspath(self.shard),
            "portals": sorted(self.active), "portals_done": self.done, "seen_at": time.time(),
        }), ex=max(1, int(self.lease_seconds)))
        if self.until_idle and not self.active and not waiting:
            self.stop()

    def start(self, portal: str, origin: str | None) -> None:
        crawler = self.process.create_crawler(cluster.ClusterSpider)
        self.active[portal] = crawler
        self.process.crawl(crawler, portal=portal, origin=origin).addBoth(self.finished, portal, crawler)

    def finished(self, result: Any, portal: str, crawler: Crawler) -> None:
        self.active.pop(portal, None)
        self.losing.discard(portal)
        if isinstance(result, Failure) and result.check(ArchiveLockedError):
            # Another process writes this worker's shard: the portal is left to the other workers.
            logger.error("%s", result.getErrorMessage())
            cluster.release_lease(self.server, portal, self.name)
            self.stop()
            return
        if isinstance(result, Failure):  # it could not even start (a profile gone bad): logged and skipped
            logger.error("crawl of %s failed: %s", portal, result.getErrorMessage())
            self.finish(portal, "failed", result.getErrorMessage())
        else:
            stats = crawler.stats.get_stats()
            reason = str(stats.get("finish_reason"))
            if reason == "finished" and not cluster.remaining(self.server, portal):
                self.finish(portal, run_status(stats, reason))
        cluster.release_lease(self.server, portal, self.name)

    def finish(self, portal: str, status: str, error: str | None = None) -> None:
        self.done += 1
        self.server.hset(cluster.DONE, portal, json.dumps({
            "worker": self.name, "status": status, "error": error, "finished_at": time.time()}))
        self.server.hdel(cluster.PENDING, portal)

    def _stop_on_error(self, failure: Any) -> None:
        """Redis gone for good, or a bug: say so and stop, leaving the portals to the other workers."""
        print(f"cluster worker {self.name}: {failure.getErrorMessage()}", flush=True)
        self.stop()

    def stop(self) -> None:
        from twisted.internet import reactor

        self.process.stop()
        reactor.callLater(0, reactor.stop)

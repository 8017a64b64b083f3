"""Crawling on several machines with scrapy-redis: the pieces a portal's spider needs to share its work.

Each portal's request queue and seen-set live in Redis (scrapy-redis' scheduler and dupefilter, keyed by
the portal), so whichever worker crawls a portal never fetches a page another one already took. A portal
is *leased* to one worker at a time (a Redis key with a time-to-live that the worker keeps renewing), so
the portal's own politeness (concurrency, delay) holds in total however many workers run.

A request taken from the queue is kept in the portal's *in-flight* set until what it produced is safe:
its article committed to the worker's shard (acknowledged a batch at a time, when the batch commits), or
its new requests queued. When a worker dies, its lease runs out and the next worker to take the portal
puts those requests back in the queue first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy_redis import defaults
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.python.failure import Failure

from crawler.signals import stored
from crawler.spiders.portal import PortalSpider

PREFIX = "portal-archive"
PENDING = f"{PREFIX}:pending"  # portal -> origin ("" for the profile's own) of every portal still to crawl
DONE = f"{PREFIX}:done"  # portal -> how its crawl ended (JSON)
TASK = "cluster_task"  # request.meta key: the queue entry the request was taken from
PARENT = "cluster_parent"  # request.meta key: the entry of the response that yielded the request


def key(portal: str, part: str) -> str:
    return f"{PREFIX}:{portal}:{part}"


def worker_key(name: str) -> str:
    return f"{PREFIX}:worker:{name}"


class ClusterAddon:
    """Scrapy add-on (``ADDONS`` in crawler/settings.py): with ``CLUSTER_REDIS_URL`` set, the crawl
    shares its work through that Redis server, with the settings scrapy-redis reads; without it, the
    crawl is a plain one-machine crawl."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("CLUSTER_REDIS_URL")
        if not url:
            raise NotConfigured
        settings.setdict({
            "REDIS_URL": url,
            # A Redis restart (a few seconds) is waited out rather than failing the crawl.
            "REDIS_PARAMS": {**defaults.REDIS_PARAMS, "retry": Retry(ExponentialBackoff(cap=2.0, base=0.1), 30),
                             "retry_on_error": [redis.ConnectionError, redis.TimeoutError]},
            "SCHEDULER": "crawler.cluster.Scheduler",
            "SCHEDULER_PERSIST": True,  # the queue outlives a worker: that is the point
            "SCHEDULER_QUEUE_KEY": key("%(spider)s", "requests"),
            "SCHEDULER_DUPEFILTER_KEY": key("%(spider)s", "seen"),
            "DUPEFILTER_CLASS": defaults.SCHEDULER_DUPEFILTER_CLASS,  # scrapy-redis reads this name
            "SCHEDULER_QUEUE_CLASS": defaults.SCHEDULER_QUEUE_CLASS,
        }, priority="addon")
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", Acknowledge, 1000)


# Atomic moves between the seen-set, the queue (a sorted set by priority) and the in-flight set. A
# request is marked seen and queued in one step: a worker killed between the two would otherwise leave it
# seen but never queued, and lost for good.
_PUSH = """
local added = 0
if ARGV[1] == '' or redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
    added = 1
end
if ARGV[4] ~= '' then redis.call('ZREM', KEYS[3], ARGV[4]) end
return added
"""
_TAKE = """
local taken = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #taken == 0 then return nil end
redis.call('ZREM', KEYS[1], taken[1])
redis.call('ZADD', KEYS[2], taken[2], taken[1])
return taken[1]
"""
_REQUEUE = """
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do redis.call('ZADD', KEYS[1], entries[i + 1], entries[i]) end
redis.call('DEL', KEYS[2])
return #entries / 2
"""


class Scheduler(RedisScheduler):
    """scrapy-redis' scheduler, whose taken requests stay in flight until acknowledged."""

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.inflight = key(spider.name, "inflight")
        spider.cluster = self
        # Per taken request: its callback (while it runs) plus the requests it yielded, not yet queued.
        self.outstanding: dict[bytes, int] = {}
        self.items: dict[int, bytes] = {}  # id of an item on its way to the shard -> its request's entry
        back = self.server.eval(_REQUEUE, 2, self.queue.key, self.inflight)
        if back:
            spider.logger.warning("%s requests a stopped worker left unfinished are queued again", back)
        spider.crawler.signals.connect(self._stored, signal=stored)
        spider.crawler.signals.connect(self._dropped, signal=signals.item_dropped)
        spider.crawler.signals.connect(self._errored, signal=signals.item_error)

    def enqueue_request(self, request: Request) -> bool:
        replaced = request.meta.pop(TASK, b"")  # a retry or a redirect carries its origin's entry
        parent = request.meta.pop(PARENT, None)
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        added = bool(self.server.eval(_PUSH, 3, self.df.key, self.queue.key, self.inflight, fingerprint,
                                      -request.priority, self.queue._encode_request(request), replaced))
        if not added:
            self.df.log(request, self.spider)
        elif self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        if parent is not None:
            self.release(parent)
        return added

    def next_request(self) -> Request | None:
        data = self.server.eval(_TAKE, 2, self.queue.key, self.inflight)
        if data is None:
            return None
        request = self.queue._decode_request(data)
        request.meta[TASK] = data
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def ack(self, request: Request | None) -> None:
        """Everything ``request`` produced is safe: forget it."""
        if request is not None and TASK in request.meta:
            self.server.zrem(self.inflight, request.meta[TASK])

    def hold(self, task: bytes, child: Request | None = None) -> None:
        """One more thing the entry ``task`` waits for: its callback, or a request it yielded."""
        self.outstanding[task] = self.outstanding.get(task, 0) + 1
        if child is not None:
            child.meta[PARENT] = task

    def release(self, task: bytes, ack: bool = True) -> None:
        """One of them is done; when none is left, forget the entry (``ack``) or leave it to its item."""
        self.outstanding[task] -= 1
        if not self.outstanding[task]:
            del self.outstanding[task]
            if ack:
                self.server.zrem(self.inflight, task)

    def carry(self, task: bytes, item: Any) -> None:
        """``item`` is what the entry ``task`` waits for: acknowledged once stored (or dropped)."""
        self.items[id(item)] = task

    def _stored(self, items: list[Any]) -> None:
        tasks = [task for item in items if (task := self.items.pop(id(item), None)) is not None]
        if tasks:
            self.server.zrem(self.inflight, *tasks)

    def _dropped(self, item: Any, **kwargs: Any) -> None:
        task = self.items.pop(id(item), None)
        # Not archived because the shard cannot be written: left in flight for the next worker.
        if task is not None and not self.spider.crawler.stats.get_value("archive/unwritable"):
            self.server.zrem(self.inflight, task)

    def _errored(self, item: Any, **kwargs: Any) -> None:
        """A pipeline failed on ``item`` (Scrapy logs it): its entry stays in flight, for the next run."""
        self.items.pop(id(item), None)


class Acknowledge:
    """Spider middleware: a response that yielded no item (a listing, a feed, a page that is not an
    article) is done once every request it yielded is queued (Scrapy queues them after the callback
    has returned); one that did waits for its item."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Acknowledge:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        cluster, task = self.crawler.spider.cluster, response.request.meta.get(TASK)
        if task is None:  # not taken from the queue: nothing to acknowledge
            async for output in result:
                yield output
            return
        cluster.hold(task)
        items = 0
        async for output in result:
            if isinstance(output, Request):
                cluster.hold(task, output)
            else:
                items += 1
                cluster.carry(task, output)
            yield output
        cluster.release(task, ack=not items)


class ClusterSpider(PortalSpider):
    """The portal spider, named after its portal so that scrapy-redis keys its queue by portal."""

    cluster: Scheduler

    def __init__(self, portal: str, **kwargs: Any) -> None:
        super().__init__(portal, **kwargs)
        self.name = self.profile.name

    def _failed(self, failure: Failure) -> None:
        super()._failed(failure)
        self.cluster.ack(failure.request)


# Leases: one worker per portal at a time. ------------------------------------------------------------
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def connect(url: str) -> redis.Redis:
    """The Redis server at ``url``, once it answers; ConnectionError with a one-line message if not."""
    server = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        server.ping()
    except redis.RedisError as err:
        raise ConnectionError(f"{url}: cannot reach Redis: {err}") from err
    return server


def take_lease(server: redis.Redis, portal: str, worker: str, seconds: float) -> bool:
    return bool(server.set(key(portal, "lease"), worker, nx=True, px=int(seconds * 1000)))


def renew_lease(server: redis.Redis, portal: str, worker: str, seconds: float) -> bool:
    return bool(server.eval(_RENEW, 1, key(portal, "lease"), worker, int(seconds * 1000)))


def release_lease(server: redis.Redis, portal: str, worker: str) -> None:
    server.eval(_RELEASE, 1, key(portal, "lease"), worker)


def remaining(server: redis.Redis, portal: str) -> int:
    """Requests of the portal still queued or in flight."""
    return int(server.zcard(key(portal, "requests"))) + int(server.zcard(key(portal, "inflight")))


def start_crawl(server: redis.Redis, portals: dict[str, str | None]) -> list[str]:
    """Queue a cluster crawl of ``portals`` (name -> origin or None); returns those skipped because a
    worker is crawling them now."""
    busy = [portal for portal in portals if server.exists(key(portal, "lease"))]
    with server.pipeline() as pipe:
        for portal, origin in portals.items():
            if portal in busy:
                continue
            pipe.delete(key(portal, "requests"), key(portal, "seen"), key(portal, "inflight"))
            pipe.hdel(DONE, portal)
            pipe.hset(PENDING, portal, origin or "")
        pipe.execute()
    return busy


def status(server: redis.Redis) -> dict[str, Any]:
    """Workers, queue lengths and each portal's progress, for `portal-archive cluster status`."""
    workers = [json.loads(value) for name in server.scan_iter(worker_key("*"))
               if (value := server.get(name)) is not None]
    portals = {}
    for portal in sorted({p.decode() for p in server.hkeys(PENDING)} | {p.decode() for p in server.hkeys(DONE)}):
        done = server.hget(DONE, portal)
        lease = server.get(key(portal, "lease"))
        portals[portal] = {
            "state": "done" if done else ("crawling" if lease else "waiting"),
            "worker": lease.decode() if lease else None,
            "queued": int(server.zcard(key(portal, "requests"))),
            "in_flight": int(server.zcard(key(portal, "inflight"))),
            "seen": int(server.scard(key(portal, "seen"))),
            **(json.loads(done) if done else {}),
        }
    return {"workers": sorted(workers, key=lambda w: w["name"]), "portals": portals,
            "queued": sum(p["queued"] for p in portals.values())}

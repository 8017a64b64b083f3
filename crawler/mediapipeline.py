"""Fetch each article's photos and documents: Scrapy's FilesPipeline, storing into the archive's media
file (archive.mediastore) by the SHA-256 of the bytes.

The requests go through the crawl's own downloader, so they keep the portal's delay, concurrency and
robots.txt. An address fetched before is not asked for again (``media_sources``), however many
articles show it. A file that is missing, too large (``MEDIA_MAX_BYTES``) or of a type not kept
(``MEDIA_TYPES``) is logged, counted (``media/*`` stats) and left; the article is archived all the
same, its link to that file without bytes. ``MEDIA_ENABLED = False`` (``--no-media``) turns it off.
"""

from __future__ import annotations

import mimetypes
import sqlite3
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.pipelines.media import MediaPipeline as ScrapyMediaPipeline
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archive.mediastore import MediaStore, media_path
from crawler.httprecord import exchange
from crawler.items import FetchedPage
from crawler.pipelines import UNWRITABLE

DEFAULT_TYPES = ("jpg", "jpeg", "png", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
                 "odt", "ods", "zip", "rar")
KNOWN = "known:"  # a file_path for an address fetched before: no download, its digest from media_sources


class _Store:
    """The FilesStore protocol over the media file: ``stat_file`` says whether an address was fetched."""

    def __init__(self, uri: str) -> None:
        self.media = MediaStore(uri.removeprefix("sqlite:"))

    def stat_file(self, path: str, info: ScrapyMediaPipeline.SpiderInfo) -> dict:
        digest = self.media.known(path.removeprefix(KNOWN)) if path.startswith(KNOWN) else None
        return {"checksum": digest, "last_modified": 1e12} if digest else {}  # media never expire

    def persist_file(self, path: str, buf: Any, info: ScrapyMediaPipeline.SpiderInfo, meta: Any = None,
                     headers: Any = None) -> None:
        """Unused: MediaPipeline.file_downloaded writes with the address and the HTTP exchange."""


class MediaPipeline(FilesPipeline):
    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "sqlite": _Store}  # noqa: RUF012 (Scrapy's own attribute)
    LOG_FAILED_RESULTS = False  # a missing photo is a WARNING line of FilesPipeline's, not a crawl error

    def __init__(self, store_uri: str, *, crawler: Crawler) -> None:
        super().__init__(store_uri, crawler=crawler)
        settings = crawler.settings
        self.max_bytes = settings.getint("MEDIA_MAX_BYTES", 20 * 1024 * 1024)
        self.types = {t.lower().lstrip(".") for t in settings.getlist("MEDIA_TYPES") or DEFAULT_TYPES}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaPipeline:
        if not crawler.settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured
        cls._update_stores(crawler.settings)
        return cls(f"sqlite:{media_path(crawler.settings.get('ARCHIVE_DB'))}", crawler=crawler)

    def get_media_requests(self, item: Any, info: ScrapyMediaPipeline.SpiderInfo) -> list[Request]:
        spider = self.crawler.spider
        if not isinstance(item, FetchedPage) or not item.media or not hasattr(spider, "fetch_url"):
            return []  # a recovery's mementos keep their text; their photos are another capture
        requests = []
        for ref in item.media:
            extension = PurePosixPath(urlsplit(ref.url).path).suffix.lower().lstrip(".")
            # A document is known by its extension; a photo without one (an image script) is kept.
            if (extension or ref.kind == "document") and extension not in self.types:
                self.crawler.stats.inc_value("media/type_not_kept")
                continue
            requests.append(Request(spider.fetch_url(ref.url), meta={
                "portal_url": ref.url, "download_maxsize": self.max_bytes, "download_warnsize": 0}))
        return requests

    def file_path(self, request: Request, response: Response | None = None,
                  info: ScrapyMediaPipeline.SpiderInfo | None = None, *, item: Any = None) -> str:
        return KNOWN + request.meta.get("portal_url", request.url)

    def file_downloaded(self, response: Response, request: Request, info: ScrapyMediaPipeline.SpiderInfo, *,
                        item: Any = None) -> str:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or \
            mimetypes.guess_type(request.url)[0]
        try:
            digest, new = self.store.media.put(response.body, request.meta.get("portal_url", request.url),
                                               content_type, response.url, exchange(response))
        except sqlite3.OperationalError as err:  # a full disk, a read-only file: the crawl stops, as for the archive
            stats = self.crawler.stats
            if not stats.get_value("archive/unwritable"):
                message = f"{self.store.media.path}: cannot write the media file: {err}"
                stats.set_value("archive/unwritable", message)
                self.crawler.spider.logger.error(message)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNWRITABLE))
            raise FileException(str(err)) from err
        self.crawler.stats.inc_value("media/stored" if new else "media/already_stored")
        return digest

    async def media_downloaded(self, response: Response, request: Request, info: ScrapyMediaPipeline.SpiderInfo,
                               *, item: Any = None) -> dict:
        self.crawler.stats.inc_value("media/responses")  # not pages: the run's page count leaves them out
        try:
            return await super().media_downloaded(response, request, info, item=item)
        except FileException:  # a 404, an empty file: FilesPipeline logged a WARNING; not a crawl error
            self.crawler.stats.inc_value("media/failed")
            return {"url": request.url, "path": self.file_path(request), "checksum": None, "status": "failed"}

    def media_failed(self, failure: Failure, request: Request, info: ScrapyMediaPipeline.SpiderInfo) -> None:
        """A download that failed (past MEDIA_MAX_BYTES, a timeout): a WARNING and a count, not an ERROR
        (Scrapy logs what this raises as one); the link stays without bytes."""
        if isinstance(failure.value, IgnoreRequest):  # robots.txt: FilesPipeline's own quiet handling
            super().media_failed(failure, request, info)
        self.crawler.stats.inc_value("media/failed")
        self.crawler.spider.logger.warning("photo or document not kept: %s (%s)", request.url,
                                           failure.getErrorMessage())

    def item_completed(self, results: list, item: Any, info: ScrapyMediaPipeline.SpiderInfo) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        got = {result["path"].removeprefix(KNOWN): result["checksum"] for ok, result in results if ok and result}
        item.media_links = [
            {"position": ref.position, "kind": ref.kind, "source_url": ref.url, "sha256": got.get(ref.url),
             "caption": ref.caption, "alt": ref.alt}
            for ref in item.media
        ]
        return item

    def close_spider(self) -> None:
        self.store.media.close()

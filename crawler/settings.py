"""Scrapy settings for portal-archive: a slow, polite crawler that identifies itself.

Per-portal delay and concurrency come from the portal's profile (set by the spider at start-up);
what is here is the default for every portal.
"""

BOT_NAME = "portal-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = (
    "portal-archive/0.1 (+https://github.com/portal-archive/portal-archive; "
    "archive of Vietnamese government news)"
)
ROBOTSTXT_OBEY = True

# Politeness: one portal never sees more than a couple of requests at a time, spaced out, and
# AutoThrottle slows down further when the portal answers slowly.
CONCURRENT_REQUESTS = 16
# Portals crawled at once by one process; the next starts as one ends (crawler/runner.py). Each costs
# about a megabyte while it crawls, whatever else it does.
PORTALS_AT_ONCE = 200
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy's own, but a request counts against the concurrency as soon as it leaves the queue.
DOWNLOADER = "crawler.downloader.Downloader"
# A page yields one item; Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's output
# whatever its size, and the default 100 cost the crawl's process more than parsing the page.
CONCURRENT_ITEMS = 4
# Scrapy reads and parses each callback's source for every response to warn about `return value` in a
# generator (its cache misses: the bound method is new each time): a check for developers that cost
# the crawl's process 4 % of its time.
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Government servers are slow and flaky: wait, retry, but never forever.
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Scrapy's meta-refresh redirects, without decoding every page to look for one (crawler/middlewares).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.metarefresh.MetaRefreshMiddleware": 580,
}
EXTENSIONS = {
    "crawler.extensions.archivelock.ArchiveLock": 0,  # first: a crawl that cannot have the archive stops here
    "crawler.extensions.runrecord.RunRecord": 100,
    "crawler.extensions.progress.ProgressLine": 500,
    "crawler.extensions.selectorreport.SelectorReport": 600,
    "crawler.extensions.gcpolicy.GcPolicy": 700,
}
# Objects allocated between two collections of the youngest while crawls run, a full collection after
# every wider one (crawler/extensions/gcpolicy.py); 0 leaves Python's default (700, 10, 10).
GC_THRESHOLD = 10_000
# Cluster mode (crawler/cluster.py) when CLUSTER_REDIS_URL names the Redis server the workers share.
ADDONS = {"crawler.cluster.ClusterAddon": 0}
CLUSTER_REDIS_URL = None
PROGRESS_LINE = False  # `portal-archive crawl` turns it on when writing to a terminal
SELECTOR_REPORT = False  # `portal-archive check` turns it on: how the profile's selectors fit the site

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.mediapipeline.MediaPipeline": 500,
    "crawler.pipelines.ArchivePipeline": 800,
}

# Where the archive is written; `portal-archive crawl --db` and `scrapy crawl -s ARCHIVE_DB=` set it.
ARCHIVE_DB = "archive.db"
# Photos and documents (crawler/mediapipeline.py), kept in the media file beside ARCHIVE_DB; a profile's
# `media:` block and the command line's --no-media, --media-max-bytes and --media-types override these.
MEDIA_ENABLED = True
MEDIA_MAX_BYTES = 20 * 1024 * 1024
MEDIA_TYPES = ["jpg", "jpeg", "png", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
               "ods", "zip", "rar"]

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

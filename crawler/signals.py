"""The crawl's own signals, beside Scrapy's (``scrapy.signals``)."""

# A batch of items is committed to the archive; handlers get ``items``, the list of them.
stored = object()

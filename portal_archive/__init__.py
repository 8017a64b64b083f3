"""The `portal-archive` command: the one place that drives both the crawler (``crawler/``) and the
archive (``archive/``)."""

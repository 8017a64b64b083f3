"""The crawl process's garbage collector: set while crawls run, as it was once the last one ends."""

from __future__ import annotations

import gc

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.extensions.gcpolicy import GcPolicy


def _engine(crawler: object, signal: object) -> None:
    crawler.signals.send_catch_log(signal)  # type: ignore[attr-defined]


def test_crawls_collect_less_often_while_they_run_and_the_default_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(GcPolicy, "frozen", False)  # as in a process that has not crawled yet
    gc.unfreeze()
    before = gc.get_threshold()
    threshold = before[0] * 7 + 1  # neither Python's default nor the project's
    first, second = (get_crawler(settings_dict={"GC_THRESHOLD": threshold, "MEMUSAGE_ENABLED": False})
                     for _ in range(2))
    policies = [GcPolicy.from_crawler(first), GcPolicy.from_crawler(second)]  # signals hold them weakly
    _engine(first, signals.engine_started)
    assert gc.get_threshold() == (threshold, before[1], 1)
    assert gc.get_freeze_count() > 0  # what the process held at the start is out of the collections
    _engine(second, signals.engine_started)
    _engine(first, signals.engine_stopped)
    assert gc.get_threshold()[0] == threshold  # a crawl still runs
    _engine(second, signals.engine_stopped)
    assert gc.get_threshold() == before
    assert all(policy.threshold == threshold for policy in policies)


def test_a_zero_threshold_leaves_python_s_collector_alone() -> None:
    with pytest.raises(NotConfigured):
        GcPolicy.from_crawler(get_crawler(settings_dict={"GC_THRESHOLD": 0}))


def test_the_project_s_crawls_run_with_the_policy() -> None:
    from crawler.runner import project_settings

    settings = project_settings()
    assert settings.getdict("EXTENSIONS")["crawler.extensions.gcpolicy.GcPolicy"] is not None
    assert settings.getint("GC_THRESHOLD") > gc.get_threshold()[0]

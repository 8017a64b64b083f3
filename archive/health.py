"""What `portal-archive status` says about each portal: its last runs and what looks wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive import lock
from archive.db import Archive, reading

# An error rate this much higher than the portal's usual one, and above the floor, is a jump.
JUMP_FACTOR, JUMP_FLOOR = 2.0, 0.10


@dataclass
class Report:
    portal: str
    articles: int
    last_status: str
    runs: list[dict] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    retired: str | None = None
    # source ("wayback", "warc") -> [articles it gave, texts it gave (each a version or the current one)]
    recovered: dict[str, list[int]] = field(default_factory=dict)


def _rate(run: dict) -> float:
    return (run["errors"] or 0) / max(run["pages"] or 0, 1)


def assess(archive: Archive, portal: str | None = None, keep: int = 5) -> list[Report]:
    writing = lock.holder(archive.path) is not None
    tables = set(archive.db.table_names())
    portals = [portal] if portal else [r[0] for r in archive.db.execute("select name from portals order by name")]
    reports = []
    for name in portals:
        runs = archive.runs(name, limit=max(keep, 10))
        for run in runs:  # a run still marked running while nobody holds the lock was cut short
            if run["status"] == "running" and not writing:
                run["status"] = "interrupted"
        report = Report(name, archive.count(name), runs[0]["status"] if runs else "never", runs[:keep])
        if runs:
            last, earlier = runs[0], [r for r in runs[1:] if r["status"] in ("finished", "partial")]
            if last["status"] == "failed":
                report.flags.append("the last run failed outright: no page could be fetched")
            elif last["status"] != "running" and not last["links_seen"] and not last.get("source"):
                report.flags.append("the listings yielded no article link: URL shapes or listing pages changed?")
            usual = sum(map(_rate, earlier)) / len(earlier) if earlier else 0.0
            if _rate(last) > max(JUMP_FLOOR, JUMP_FACTOR * usual):
                report.flags.append(f"error rate jumped to {_rate(last):.0%} of pages (usually {usual:.0%})")
            if last.get("listing_fallbacks"):
                report.flags.append(f"{last['listing_fallbacks']} listing pages matched none of the profile's "
                                    "listing selectors; their links were read from the whole page: the listing "
                                    "markup changed, update the profile (portal-archive check)")
            if last["fallbacks"]:
                report.flags.append(f"{last['fallbacks']} articles fell back to the generic extractor: "
                                    "the portal was probably redesigned, update its profile")
        if "captures" in tables:
            report.recovered = {source: [articles, texts] for source, articles, texts in archive.db.execute(
                "select source, count(distinct url), count(*) from captures where portal = ? and outcome in "
                "('new', 'changed') group by source order by source", [name])}
            (report.retired,) = archive.db.execute("select retired from portals where name = ?", [name]).fetchone()
        if "retries" in tables:
            failing, soonest = archive.db.execute(
                "select count(*), min(next_try) from retries where portal = ?", [name]).fetchone()
            if failing:
                report.flags.append(f"{failing} article pages keep failing; retried on a schedule, next at "
                                    f"{soonest[:16]} (table retries)")
        reports.append(report)
    return reports


def assess_archive(db: str, portal: str | None = None, keep: int = 5) -> list[Report]:
    """`portal-archive status`: :func:`assess` over the archive file ``db``."""
    with reading(db) as archive:
        return assess(archive, portal, keep)

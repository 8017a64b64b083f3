"""Operating the nightly crawl: schedule files, a new portal's profile, check, logs and progress."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from archive.samples.server import SampleSite
from archive.schedule import Install, render_all
from crawler.extensions.selectorreport import Report
from crawler.profile import PROFILE_DIR, load_profile
from tests.conftest import ROOT, cli, crawl_args, rows
from tests.support.faults import RedesignedCity

DEPLOY = ROOT / "deploy"


def test_schedule_prints_units_and_cron_for_this_install(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    out = cli("schedule", "--print", "--db", str(db), "--log-dir", str(tmp_path / "logs"), "--at", "02:15").stdout
    assert f"crawl --db {db} --log-dir {tmp_path / 'logs'} --json" in out
    assert "OnCalendar=*-*-* 02:15:00" in out and "SuccessExitStatus=75" in out
    cron = next(line for line in out.splitlines() if line.startswith("15 2 * * *"))
    assert f">> {tmp_path / 'logs'}/cron.log 2>&1" in cron
    assert cli("schedule", "--print", "--at", "25:00", check=False).returncode == 2


def test_deploy_folder_holds_the_rendered_files_for_srv() -> None:
    home = Path("/srv/portal-archive")
    install = Install(home, home / ".venv/bin/portal-archive", home / "archive.db", home / "logs")
    for name, text in render_all(install).items():
        assert (DEPLOY / name).read_text() == text


def _with_profiles(tmp_path: Path) -> dict[str, str]:
    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILE_DIR, profiles)
    return {**os.environ, "PORTAL_ARCHIVE_PROFILES": str(profiles)}


def test_add_portal_makes_a_profile_that_crawls_with_the_generic_rules(
    sample_site: SampleSite, tmp_path: Path
) -> None:
    env = _with_profiles(tmp_path)
    origin = sample_site.origins["baoquangninh"]
    made = cli("add-portal", f"{origin}/chinh-tri", "--name", "newspaper", env=env, check=False)
    assert made.returncode == 0, made.stderr
    profile = (tmp_path / "profiles" / "newspaper.yaml").read_text()
    assert "sitemaps:\n  - /sitemap.xml" in profile and "trang" in profile
    db = tmp_path / "archive.db"
    crawled = cli("crawl", "newspaper", "--db", str(db), "--delay", "0", "--log-level", "ERROR", env=env, check=False)
    assert crawled.returncode == 0, crawled.stderr
    # The profile add-portal made names the twin as the portal's origin: its articles are archived there.
    want = {e["fetched_from"]: e for e in sample_site.expected() if e["portal"] == "baoquangninh"}
    got = {r["url"]: r for r in rows(db, "select url, title, text, extractor from articles")}
    assert set(got) == set(want)
    assert all(r["extractor"] == "generic" and r["title"] == want[u]["title"] and r["text"] == want[u]["text"]
               for u, r in got.items())
    again = cli("add-portal", f"{origin}/chinh-tri", "--name", "newspaper", env=env, check=False)
    assert again.returncode == 1 and "--force" in again.stderr


def test_check_prints_what_would_be_archived_and_stores_nothing(sample_site: SampleSite, tmp_path: Path) -> None:
    result = cli("check", "mongcai", "--origin", sample_site.origins["mongcai"], "--articles", "2", "--delay", "0")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    titles = {e["title"] for e in sample_site.expected() if e["portal"] == "mongcai"}
    assert len(lines) == 2 and all(line["title"] in titles and line["extractor"] == "profile" for line in lines)
    dead = cli("check", "mongcai", "--origin", "http://127.0.0.1:9", check=False)
    assert dead.returncode == 1 and "no page could be fetched" in dead.stderr


def _report(stderr: str) -> dict[str, tuple[int, int]]:
    """The selector report's `name  M of N pages` lines: name -> (M, N)."""
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"\s+(listing\.\S+|rules\.\S+)\s+(\d+) of (\d+) pages", line)
        if match:
            found[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return found


def test_check_reports_how_every_selector_of_the_profile_fits_the_site(sample_site: SampleSite) -> None:
    profile = load_profile("quangninh")
    result = cli("check", "quangninh", "--origin", sample_site.origins["quangninh"], "--articles", "2", "--delay", "0")
    report = _report(result.stderr)
    listing, article = Report.selectors(profile)
    assert set(report) == set(listing) | set(article)
    for name in ("listing.item", "rules.title", "rules.published", "rules.body", "rules.captions"):
        matched, pages = report[name]
        assert pages >= 1 and matched == pages, name
    assert "does not fit" not in result.stderr
    # It reads what it was asked to and no more: two articles, from the first listing page.
    assert report["rules.body"][1] == len(result.stdout.splitlines()) == 2
    assert report["listing.item"][1] == 1


def test_check_says_when_the_listing_markup_no_longer_fits_and_exits_1() -> None:
    with SampleSite(count=12, families={"mongcai": RedesignedCity}) as site:
        result = cli("check", "mongcai", "--origin", site.origins["mongcai"], "--articles", "2", "--delay", "0",
                     check=False)
    assert result.returncode == 1
    report = _report(result.stderr)
    assert report["listing.item"][0] == 0 and report["listing.item"][1] >= 1
    assert report["rules.body"][0] == report["rules.body"][1] >= 1  # the articles themselves still fit
    assert "article links read from every link on the page" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: mongcai: the profile does not fit the site")
    assert len(result.stdout.splitlines()) >= 2  # and the articles were found all the same


def test_check_says_which_article_selectors_match_nothing(sample_site: SampleSite, tmp_path: Path) -> None:
    env = _with_profiles(tmp_path)
    path = Path(env["PORTAL_ARCHIVE_PROFILES"]) / "mongcai.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["rules"]["body"], data["rules"]["title"] = ".noi-dung-bai", "h1.tieu-de-bai"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = cli("check", "mongcai", "--origin", sample_site.origins["mongcai"], "--articles", "2", "--delay", "0",
                 check=False, env=env)
    assert result.returncode == 1
    report = _report(result.stderr)
    assert report["rules.body"][0] == report["rules.title"][0] == 0 < report["rules.body"][1]
    assert report["listing.item"][0] == report["listing.item"][1]
    assert "rules.title, rules.body matched nothing" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(line["extractor"] == "generic-fallback" for line in lines)


def test_unattended_runs_log_to_a_file_and_print_json(sample_site: SampleSite, tmp_path: Path) -> None:
    db, logs = tmp_path / "archive.db", tmp_path / "logs"
    result = cli(*crawl_args(sample_site, db, "quangninh"), "--json", "--log-dir", str(logs), "--log-level", "INFO")
    summary = [json.loads(line) for line in result.stdout.splitlines()]
    published = sum(e["portal"] == "quangninh" for e in sample_site.expected())
    assert summary[0]["portal"] == "quangninh" and summary[0]["new"] == published
    assert summary[0]["status"] == "finished"
    (log,) = logs.glob("crawl-*.log")
    assert "Spider closed (finished)" in log.read_text()
    assert "\r" not in result.stderr  # no progress line without a terminal
    assert rows(db, "select log_file from crawl_runs")[0][0] == str(log)


def test_interactive_runs_show_a_live_progress_line(sample_site: SampleSite, tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    args = [sys.executable, "-m", "portal_archive", *crawl_args(sample_site, tmp_path / "a.db", "mongcai")]
    args[args.index("0")] = "0.05"  # slow enough for the line to refresh
    process = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, timeout=300)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.returncode == 0
    text = screen.decode()
    published = sum(e["portal"] == "mongcai" for e in sample_site.expected())
    assert "\r" in text and "pages/s" in text and f"{published} new" in text

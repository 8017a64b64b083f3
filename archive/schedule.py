"""systemd units and a cron line for the nightly crawl, for a given install (deploy/ holds one)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Install:
    home: Path  # the working directory: the archive, profiles, logs
    command: Path  # the portal-archive executable
    db: Path
    log_dir: Path
    at: str = "01:30"  # local time of the nightly run

    @classmethod
    def here(cls, db: str, log_dir: str, at: str) -> Install:
        """The install this command runs from: the current folder, this portal-archive, the paths given."""
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
            raise ValueError(f"expected HH:MM, got {at!r}")
        command = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "portal-archive" else \
            Path(sys.executable).parent / "portal-archive"
        return cls(Path.cwd(), command, Path(db).resolve(), Path(log_dir).resolve(), at)

    @property
    def crawl(self) -> str:
        return f"{self.command} crawl --db {self.db} --log-dir {self.log_dir} --json"


def service(install: Install) -> str:
    return f"""[Unit]
Description=portal-archive: nightly crawl of the government news portals
Documentation=https://github.com/portal-archive/portal-archive
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={install.home}
ExecStart={install.crawl}
# 75: the previous night's crawl is still running; this one stood aside, which is not a failure.
SuccessExitStatus=75
Nice=10
IOSchedulingClass=idle
"""


def timer(install: Install) -> str:
    return f"""[Unit]
Description=Run the portal-archive crawl every night

[Timer]
OnCalendar=*-*-* {install.at}:00
RandomizedDelaySec=20m
Persistent=true

[Install]
WantedBy=timers.target
"""


def cron(install: Install) -> str:
    hour, minute = install.at.split(":")
    return (f"{int(minute)} {int(hour)} * * * cd {install.home} && {install.crawl} "
            f">> {install.log_dir}/cron.log 2>&1\n")


def render_all(install: Install) -> dict[str, str]:
    """File name -> content, as in deploy/."""
    return {
        "portal-archive.service": service(install),
        "portal-archive.timer": timer(install),
        "crontab": cron(install),
    }

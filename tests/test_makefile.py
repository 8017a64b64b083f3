"""`make test` on a fresh machine: `make test-deps` installs the binaries the tests need when they are
missing from PATH, through apt-get (sudo when not root), or says in one line why it cannot.

The target runs for real, with a PATH that holds only make, env and chmod, and stand-ins for
apt-get, sudo and id that log what they were asked and "install" a package by putting its command on
that PATH, as Debian's package would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What the Makefile says the tests need: command -> Debian package.
NEEDED = dict(pair.split(":") for pair in re.search(
    r"^TEST_BINARIES := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1).split())

FAKE_APT = """#!/bin/sh
echo "apt-get $*" >> "${0%/*}/../log"
[ -f "${0%/*}/../apt-fails" ] && exit 100
[ "$1" = install ] || exit 0
for arg in "$@"; do
    case "$arg" in
        redis-server) made=redis-server ;;
        chromium) made=chromium ;;
        chromium-driver) made=chromedriver ;;
        *) continue ;;
    esac
    printf '#!/bin/sh\\n' > "${0%/*}/$made" && chmod +x "${0%/*}/$made"
done
"""
FAKE_SUDO = """#!/bin/sh
echo "sudo $*" >> "${0%/*}/../log"
exec "$@"
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    """A PATH with none of the needed commands: make, env, chmod, an apt-get and an id saying root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "env", "chmod"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    _script(bin_dir / "apt-get", FAKE_APT)
    _script(bin_dir / "id", "#!/bin/sh\necho 0\n")
    return bin_dir


def run_target(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run([str(bin_dir / "make"), "-s", "-C", str(ROOT), "test-deps"], env=env,
                          capture_output=True, text=True, timeout=60)


def log(bin_dir: Path) -> list[str]:
    path = bin_dir.parent / "log"
    return path.read_text().splitlines() if path.exists() else []


def packages(call: str) -> set[str]:
    """The packages an `apt-get install` call asked for."""
    return {word for word in call.split()[2:] if not word.startswith("-")}


def our_lines(stderr: str) -> list[str]:
    """What the recipe printed on stderr, without make's own `*** [...] Error 1` line."""
    return [line for line in stderr.splitlines() if "***" not in line]


def test_the_needed_commands_are_the_ones_the_tests_use() -> None:
    assert set(NEEDED) == {"redis-server", "chromium", "chromedriver"}
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in (ROOT / ".ci" / "run").read_text()  # only `make test` installs


def test_missing_binaries_are_installed_as_root_without_sudo(machine: Path) -> None:
    result = run_target(machine)
    assert result.returncode == 0, result.stderr
    calls = log(machine)
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y")
    assert packages(calls[1]) == set(NEEDED.values())
    assert all((machine / command).exists() for command in NEEDED)


def test_only_what_is_missing_is_installed(machine: Path) -> None:
    _script(machine / "redis-server", "#!/bin/sh\n")
    assert run_target(machine).returncode == 0
    assert packages(log(machine)[1]) == {"chromium", "chromium-driver"}


def test_nothing_is_installed_when_everything_is_there(machine: Path) -> None:
    for command in NEEDED:
        _script(machine / command, "#!/bin/sh\n")
    result = run_target(machine)
    assert result.returncode == 0 and log(machine) == []


def test_a_user_who_is_not_root_installs_through_sudo(machine: Path) -> None:
    _script(machine / "id", "#!/bin/sh\necho 1000\n")
    _script(machine / "sudo", FAKE_SUDO)
    result = run_target(machine)
    assert result.returncode == 0, result.stderr
    assert log(machine)[0].startswith("sudo env DEBIAN_FRONTEND=noninteractive apt-get update")
    assert all((machine / command).exists() for command in NEEDED)


def test_no_root_and_no_sudo_is_one_line_and_a_failure(machine: Path) -> None:
    _script(machine / "id", "#!/bin/sh\necho 1000\n")
    result = run_target(machine)
    assert result.returncode != 0
    assert len(our_lines(result.stderr)) == 1 and "sudo" in result.stderr
    assert log(machine) == []


def test_no_apt_get_is_one_line_and_a_failure(machine: Path) -> None:
    (machine / "apt-get").unlink()
    result = run_target(machine)
    assert result.returncode != 0
    (line,) = our_lines(result.stderr)
    assert "no apt-get" in line and all(package in line for package in NEEDED.values())


def test_a_failing_apt_get_is_one_line_and_a_failure(machine: Path) -> None:
    (machine.parent / "apt-fails").touch()
    result = run_target(machine)
    assert result.returncode != 0
    (line,) = our_lines(result.stderr)
    assert "could not install" in line

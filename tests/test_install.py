"""A plain `pip install .` (the pip that ships with Python 3.11, no constraints file) gives a
portal-archive that starts and extracts: every package the code imports is declared."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import ROOT


def test_a_plain_pip_install_works(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(ROOT)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    meta = json.loads((ROOT / "crawler" / "profiles" / "mongcai" / "article-1.json").read_text("utf-8"))
    page = tmp_path / "page.html"
    page.write_bytes(gzip.decompress((ROOT / "crawler" / "profiles" / "mongcai" / "article-1.html.gz").read_bytes()))
    result = subprocess.run([str(env_dir / "bin" / "portal-archive"), "extract", str(page), "--url", meta["url"]],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == meta["expected"]["title"]
    assert sys.version_info >= (3, 11)

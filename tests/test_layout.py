"""The layout the data flow draws: imports point one way, and the served archive needs neither the
crawler nor the extractor."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from archive.db import Archive
from archive.model import Article
from tests.conftest import ROOT
from tests.support.servers import child_server, datasette_answers, free_port

PACKAGES = ("archive", "crawler", "portal_archive")
HEAVY = ("trafilatura", "dateparser", "scrapy", "twisted")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every project module and the project modules it imports (anywhere in it, lazily or not)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found = set()
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module)
                    found |= {f"{node.module}.{alias.name}" for alias in node.names}
            graph[_module_name(path)] = found
    return graph


GRAPH = _imports()


def _reach(module: str) -> set[str]:
    """The project modules ``module`` imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        for name in GRAPH.get(todo.pop(), ()):
            if name in GRAPH and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_the_layout_is_what_the_test_reads() -> None:
    assert {"archive.model", "archive.db", "archive.extract", "crawler.pipelines", "portal_archive.cli"} <= set(GRAPH)


def test_archive_never_imports_the_crawler_or_the_command_line() -> None:
    offenders = {module: sorted(n for n in names if n.split(".")[0] in ("crawler", "portal_archive"))
                 for module, names in GRAPH.items() if module.startswith("archive")}
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_crawler_never_imports_the_command_line() -> None:
    offenders = {m: n for m, names in GRAPH.items() if m.startswith("crawler")
                 for n in names if n.startswith("portal_archive")}
    assert offenders == {}


@pytest.mark.parametrize("module", ["archive.db", "archive.merge", "archive.search", "archive.health",
                                    "archive.serve", "archive.datasette_plugin"])
def test_storage_search_and_serving_do_not_reach_extraction(module: str) -> None:
    assert not {"archive.extract", "archive.dates", "archive.workers"} & (_reach(module) | {module})


def test_the_model_depends_on_the_standard_library_alone() -> None:
    tree = ast.parse((ROOT / "archive" / "model.py").read_text("utf-8"))
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert roots and roots <= set(sys.stdlib_module_names) | {"__future__"}


# A child Python in which the heavy modules cannot be imported at all.
BLOCKER = f"""
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {HEAVY!r}:
            raise ImportError('blocked for the test: ' + name)
sys.meta_path.insert(0, Blocked())
"""


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("layout") / "archive.db"
    archive = Archive(db)
    text = "Sáng 11/7, Thành ủy Móng Cái tổ chức hội nghị giao ban công tác Đảng."
    archive.save(Article(url="https://mongcai.gov.vn/vi-vn/tin/giao-ban-n1", portal="mongcai",
                         title="Đảng ủy Móng Cái giao ban", text=text, paragraphs=[text], captions=[],
                         author=None, unit=None, published="2024-07-11T16:58:00+07:00", published_from="page",
                         content_hash="x", extractor="profile", story="s1"), b"<html></html>")
    archive.close()
    return db


def test_the_datasette_plugin_answers_without_crawler_or_extractor(small_archive: Path) -> None:
    script = BLOCKER + f"""
import asyncio, json
from archive.serve import build
ds = build({str(small_archive)!r})
async def main():
    await ds.invoke_startup()
    response = await ds.client.get('/archive/articles.json?_search=dang+uy+mong+cai&_shape=array')
    print(json.dumps([response.status_code, [row['title'] for row in response.json()]]))
asyncio.run(main())
print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    answer, loaded = result.stdout.splitlines()[-2:]
    assert json.loads(answer) == [200, ["Đảng ủy Móng Cái giao ban"]]
    assert loaded == "[]"


def test_portal_archive_serve_and_search_run_without_crawler_or_extractor(small_archive: Path) -> None:
    port = free_port()
    serve = BLOCKER + f"""
from portal_archive.cli import main
main(['serve', '--db', {str(small_archive)!r}, '--port', '{port}'])
"""
    base = f"http://127.0.0.1:{port}"
    with child_server([sys.executable, "-c", serve], datasette_answers(base), wait=30), \
            urllib.request.urlopen(base + "/archive/articles.json?_shape=array&_col=title") as response:
        assert [row["title"] for row in json.load(response)] == ["Đảng ủy Móng Cái giao ban"]
    search = BLOCKER + f"""
from portal_archive.cli import main
main(['search', 'dang uy', '--db', {str(small_archive)!r}, '--json'])
"""
    result = subprocess.run([sys.executable, "-c", search], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["title"] == "Đảng ủy Móng Cái giao ban"

"""The docs stay in their place: a short README, one topic per page, a CLI reference that matches --help."""

from __future__ import annotations

import re

import click
import pytest

from portal_archive.cli import main
from portal_archive.docs import reference
from tests.conftest import ROOT

DOCS = ROOT / "docs"
TOPICS = ["architecture", "cli", "profiles", "extraction", "crawling", "schema", "datasette", "cluster", "development"]


def test_the_cli_reference_is_generated_from_the_current_help() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == reference(), "docs/cli.md is stale: run `make docs`"


def test_the_reference_holds_every_command() -> None:
    text = (DOCS / "cli.md").read_text("utf-8")
    ctx = click.Context(main)
    names = [f"portal-archive {name}" for name in main.list_commands(ctx)]
    names += [f"portal-archive cluster {name}" for name in main.get_command(ctx, "cluster").list_commands(ctx)]
    assert all(f"\n## {name}\n" in text for name in names)


def test_a_changed_help_text_makes_the_reference_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    command = main.get_command(click.Context(main), "status")
    monkeypatch.setattr(command, "help", command.help + " A sentence nobody documented.")
    assert (DOCS / "cli.md").read_text("utf-8") != reference()


def test_the_readme_is_short_with_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= 150
    first_block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL).group(1)
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "demo"], ["make", "test"]]


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_has_its_page_linked_from_the_readme(topic: str) -> None:
    page = DOCS / f"{topic}.md"
    assert page.read_text("utf-8").startswith("# ")
    assert f"docs/{topic}.md" in (ROOT / "README.md").read_text("utf-8")


def test_links_between_pages_lead_somewhere() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+\.md)", page.read_text("utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which is not there"


def test_measured_figures_live_in_benchmarks_only() -> None:
    figure = re.compile(r"\d[\d,.]* ?(?:pages/s|ms per|ms\b|MiB|GiB|× )")
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        found = [line for line in page.read_text("utf-8").splitlines() if figure.search(line)]
        assert found == [], f"{page.name} quotes figures; they belong in BENCHMARKS.md"

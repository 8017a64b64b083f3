"""The CLI reference, docs/cli.md, generated from the commands' own --help (as sqlite-utils does with
cog): `make docs` writes it, tests/test_docs.py fails when it is stale."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal_archive.cli import main

WIDTH = 100
HEADER = """# Command-line reference

Generated from `--help` by `make docs` (`python -m portal_archive.docs docs/cli.md`); do not edit by
hand. Errors in what you give a command (an unknown portal, a broken profile, a bad `--origin`, a
file that is not an archive) end in one line on stderr and a non-zero exit, before anything is
written; 75 means another process is writing the archive: try again later.
"""


def _commands(command: click.Command, ctx: click.Context) -> list[tuple[str, click.Context]]:
    found = [(ctx.command_path, ctx)]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found += _commands(sub, click.Context(sub, info_name=name, parent=ctx, terminal_width=WIDTH,
                                                       max_content_width=WIDTH))
    return found


def reference() -> str:
    root = click.Context(main, info_name="portal-archive", terminal_width=WIDTH, max_content_width=WIDTH)
    parts = [HEADER]
    for path, ctx in _commands(main, root):
        parts.append(f"\n## {path}\n\n```\n{ctx.command.get_help(ctx)}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if target:
        target.write_text(reference(), encoding="utf-8")
    else:
        sys.stdout.write(reference())

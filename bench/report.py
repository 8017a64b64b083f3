"""Write one bench's section of BENCHMARKS.md, leaving the other sections as they are."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def write_section(key: str, body: str) -> None:
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n{body.rstrip()}\n{end}"
    current = BENCHMARKS.read_text("utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    if start in current:
        before, rest = current.split(start, 1)
        current = before + section + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.write_text(current, "utf-8")


def publish(key: str, heading: str, lines: list[str]) -> None:
    """Print a bench's section and write it to BENCHMARKS.md."""
    body = f"## {heading}\n\n" + "\n".join(lines)
    print(body)
    write_section(key, body)

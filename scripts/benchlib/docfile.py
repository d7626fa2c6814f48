"""docs/benchmarks.md holds two generated parts: `make bench`'s report and, between markers,
`make bench-peers`'s table. Each command rewrites its own part and keeps the other."""

from __future__ import annotations

import re
from pathlib import Path

BEGIN, END = "<!-- bench-peers:begin -->", "<!-- bench-peers:end -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)


def peers_block(doc: Path) -> str:
    """The peers part of the current file (markers included), or ''."""
    if not doc.is_file():
        return ""
    m = _BLOCK.search(doc.read_text())
    return m.group(0).rstrip("\n") + "\n" if m else ""


def write_bench(doc: Path, report: str) -> None:
    """`make bench`'s report, followed by the peers part already in the file."""
    block = peers_block(doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(report.rstrip("\n") + "\n" + ("\n" + block if block else ""))


def write_peers(doc: Path, section: str) -> None:
    """Replace the peers part (or append it) and keep everything else."""
    block = f"{BEGIN}\n{section.strip()}\n{END}\n"
    text = doc.read_text() if doc.is_file() else "# Benchmarks\n"
    found = _BLOCK.search(text)
    text = text[: found.start()] + block + text[found.end() :] if found else text.rstrip("\n") + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)

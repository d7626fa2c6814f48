"""JSON Lines files (catalogs, labelled queries): one JSON value a line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class JsonLinesError(ValueError):
    """A line that is not JSON, or a file that cannot be read; the message names the file and line."""


def read_json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) of every non-blank line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise JsonLinesError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise JsonLinesError(f"{path}:{number}: not JSON ({exc})") from None

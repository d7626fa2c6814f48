"""What a gateway's own JSON log says about a run: requests logged, non-200 answers, warnings, errors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from benchlib.common import Result


def _log_line(line: str, summary: Result) -> None:
    try:
        rec = json.loads(line)
    except ValueError:
        rec = None
    if not isinstance(rec, dict):  # plain text: aigw's start-up lines, or a crash
        summary["text"] += 1
        if not line.startswith("aigw: serving on") and len(summary["samples"]) < 5:
            summary["samples"].append(line[:300])
        return
    if rec.get("logger") == "aigw.access":
        status = str(rec.get("status"))
        summary["access"] += 1
        if status != "200":
            summary["non_200"][status] = summary["non_200"].get(status, 0) + 1
        return
    level = str(rec.get("level"))
    if level in ("warning", "error", "critical"):
        summary[level if level != "critical" else "error"] += 1
        if len(summary["samples"]) < 5:
            summary["samples"].append(f"{level}: {rec.get('logger')}: {str(rec.get('msg'))[:200]}")


def gateway_log_summary(path: Path) -> Result:
    """Counts from a gateway's JSON log: access-log lines and their non-200 statuses, warnings, errors."""
    summary: Result = {"access": 0, "non_200": {}, "warning": 0, "error": 0, "text": 0, "samples": []}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            if line.strip():
                _log_line(line.strip(), summary)
    return summary


def merge_logs(summaries: Iterable[Result]) -> Result | None:
    out: Result | None = None
    for s in summaries:
        if out is None:
            out = {"access": 0, "non_200": {}, "warning": 0, "error": 0, "text": 0, "samples": []}
        for k in ("access", "warning", "error", "text"):
            out[k] += s[k]
        for status, n in s["non_200"].items():
            out["non_200"][status] = out["non_200"].get(status, 0) + n
        out["samples"] += [x for x in s["samples"] if x not in out["samples"]][: 5 - len(out["samples"])]
    return out

"""Benchmarks that run in a process of their own in the gateway's virtualenv: PII scanning and
masking, the local semantic search, and what persisted traces cost (scripts/bench_*.py)."""

from __future__ import annotations

import json

from benchlib.common import REPO, Result, log, run_json, venv_python

SEARCH_ITEMS, SEARCH_QUERIES = 10_000, 300
PII_PROMPT_KIB, PII_ROUNDS = 4, 300


def pii_phase() -> Result:
    """Time PII scanning and masking (`benchlib.pii_scan.benchmark`) in a fresh process."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(REPO / 'scripts')!r}); from benchlib.pii_scan import benchmark; "
        f"print(json.dumps(benchmark({PII_PROMPT_KIB}, {PII_ROUNDS})))"
    )
    result = run_json([str(venv_python()), "-c", code], "PII benchmark", timeout=300)
    log(f"PII scan: {result}")
    return result


def search_phase(quick: bool) -> Result:
    """scripts/bench_search.py: a 10,000-item catalog searched with the kill switch on."""
    items, queries = (2_000, 50) if quick else (SEARCH_ITEMS, SEARCH_QUERIES)
    cmd = [str(venv_python()), str(REPO / "scripts" / "bench_search.py")]
    cmd += ["--items", str(items), "--queries", str(queries)]
    result = run_json(cmd, "search benchmark", timeout=900)
    result["items"] = items
    log(f"local search: {json.dumps(result)[:300]}")
    return result


def tracing_phase(quick: bool) -> Result:
    """scripts/bench_tracing.py: tracing off vs persisted at the defaults, and browsing under load."""
    cmd = [str(venv_python()), str(REPO / "scripts" / "bench_tracing.py")]
    if quick:
        cmd += ["--seconds", "3", "--rounds", "1"]
    result = run_json(cmd, "tracing benchmark", timeout=900)
    log(f"persisted traces: { {k: v for k, v in result.items() if k != 'runs'} }")
    return result

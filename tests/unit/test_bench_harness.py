"""The benchmark harness's own logic (scripts/benchlib): a target is pass, FAIL or n/a exactly as
measured, the two generated parts of docs/benchmarks.md keep each other, and time to first token
counts the first event with content, not the role-only chunk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib import targets
from benchlib.docfile import write_bench, write_peers
from benchlib.memory import MemoryRun
from benchlib.pii_scan import benchmark
from benchlib.ttft import first_token


def stats(rps: float, p99: float | None, cpu: float | None, saturated: bool = False) -> dict[str, object]:
    return {"rps": rps, "ovh_p99": p99, "cpu_us": cpu, "saturated": saturated}


def test_plain_targets_pass_and_fail_as_measured() -> None:
    floor = stats(1000, 0.5, 100)
    limits = (targets.PLAIN_MIN_RATIO, targets.PLAIN_MAX_P99_MS, targets.PLAIN_MAX_CPU_US)
    ok = targets.proxy_targets("plain", stats(600, 2.0, 400), floor, limits)
    assert all(r.endswith("**pass** |") for r in ok)
    bad = targets.proxy_targets("plain", stats(599, 2.01, 401), floor, limits)
    assert all(r.endswith("**FAIL** |") for r in bad)


def test_a_saturated_system_fails_its_latency_target_whatever_the_number() -> None:
    limits = (targets.PLAIN_MIN_RATIO, targets.PLAIN_MAX_P99_MS, targets.PLAIN_MAX_CPU_US)
    rows = targets.proxy_targets("plain", stats(900, 0.1, 100, saturated=True), stats(1000, 0.1, 100), limits)
    assert "SATURATED" in rows[1] and rows[1].endswith("**FAIL** |")


def test_a_missing_measurement_is_never_a_pass() -> None:
    limits = (targets.POLICY_MIN_RATIO, targets.POLICY_MAX_P99_MS, targets.POLICY_MAX_CPU_US)
    rows = [
        *targets.proxy_targets("full policy", None, None, limits),
        *targets.streaming_targets(None, None, None),
        *targets.memory_targets(None),
        *targets.translation_targets(None),
    ]
    assert rows and all(r.endswith("| n/a |") for r in rows)


def test_memory_targets_judge_every_worker_and_the_supervisor_apart() -> None:
    def sample(label: str, sup: float, workers: list[float]) -> dict[str, object]:
        return {
            "label": label,
            "requests": 0,
            "supervisor": {"rss_mib": sup, "hwm_mib": sup},
            "workers": [{"rss_mib": w, "hwm_mib": w} for w in workers],
            "helpers": [],
        }

    run = MemoryRun(total=100_000)
    run.samples = [sample("idle", 30, [80, 85]), sample("50%", 31, [86, 88]), sample("100%", 41, [86, 91])]
    rows = targets.memory_targets(run)
    verdicts = [r.rsplit("|", 2)[1].strip() for r in rows]
    # idle workers pass; one worker over 90 MiB after the calls fails; supervisor idle passes, after fails
    assert verdicts == ["**pass**", "**FAIL**", "**pass**", "**FAIL**", "**pass**"]


def test_translation_allows_fifteen_percent_more_cpu_than_the_passthrough() -> None:
    def tr(anthropic: float, gemini: float) -> dict[str, object]:
        fam = {"errors": 0, "p50_ms": 1.0, "rps": 200.0}
        return {"rate": 200, "openai": {"cpu_us": 100.0, **fam}, "anthropic": {"cpu_us": anthropic, **fam},
                "gemini": {"cpu_us": gemini, **fam}}  # fmt: skip

    rows = targets.translation_targets(tr(115.0, 116.0))
    assert rows[0].endswith("**pass** |") and rows[1].endswith("**FAIL** |")


def test_the_peers_part_and_the_bench_part_keep_each_other(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_bench(doc, "# Benchmarks\n\nfirst\n")
    write_peers(doc, "## Peers\n\npeers one\n")
    write_bench(doc, "# Benchmarks\n\nsecond\n")
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nsecond\n") and "peers one" in text and "first" not in text
    write_peers(doc, "## Peers\n\npeers two\n")
    text = doc.read_text()
    assert "second" in text and "peers two" in text and "peers one" not in text
    assert text.count("<!-- bench-peers:begin -->") == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n', False),
        (b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n', True),
        (b"data: [DONE]\n", False),
        (b": keep-alive\n", False),
        (b'data: {"choices":[],"usage":{"total_tokens":3}}\n', False),
    ],
)
def test_time_to_first_token_counts_the_first_content(line: bytes, expected: bool) -> None:
    assert first_token(line) is expected


def test_benchmark_reports_ms_per_kib() -> None:
    result = benchmark(kib=4, rounds=40)
    print(f"PII scan+mask: {result}")
    assert set(result) >= {"p50_ms_per_kib", "p95_ms_per_kib", "kib", "rounds"}
    assert result["findings_per_text"] >= 3
    # The budget is 0.2 ms/KiB at p95 (measured ~0.15); only a gross regression fails on a busy machine.
    assert result["p95_ms_per_kib"] < 1.0

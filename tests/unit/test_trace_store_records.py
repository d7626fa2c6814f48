"""Persisted traces, pure parts: outcome classes, bounded rows, rollup cells, query bounds, the
writer's request-path side."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from aigw.observability.redact import LogRedactor
from aigw.observability.tracing import MAX_SPANS, Trace
from aigw.settings import Settings
from aigw.store.batches import FlushLoop
from aigw.store.database import Database
from aigw.store.traces import rollups as rollups_module
from aigw.store.traces.queries import InvalidCursor, TraceQuery, decode_cursor, escape_like
from aigw.store.traces.record import MAX_SPANS_JSON, facts_of, must_keep, row_of
from aigw.store.traces.rollups import OTHER, Rollups
from aigw.store.traces.settings import TraceSettings
from aigw.store.traces.tables import LENGTHS
from aigw.store.traces.writer import TraceWriter


def make(**attrs: object) -> Trace:
    trace = Trace("req-1", endpoint="chat", method="POST")
    trace.attrs.update(attrs)
    return trace


@pytest.mark.parametrize(
    ("attrs", "error", "reason", "fallback"),
    [
        ({"http_status": 200}, False, None, False),
        ({"http_status": 429, "error_code": "rate_limit_exceeded"}, False, "rate_limit_exceeded", False),
        ({"http_status": 404}, False, "http_404", False),
        ({"http_status": 499}, False, None, False),  # the client went away: neither
        ({"http_status": 502, "error_code": "upstream_error"}, True, None, False),
        ({"http_status": 200, "fallback_from": "openai"}, False, None, True),
        ({"http_status": 200, "served_by": "fuzzy"}, False, None, True),
        ({"http_status": 200, "served_by": "provider", "cache": "hit"}, False, None, False),
    ],
)
def test_outcome_classes(attrs: dict[str, object], error: bool, reason: str | None, fallback: bool) -> None:
    facts = facts_of(make(**attrs))
    assert (facts.error, facts.refusal_reason, facts.fallback) == (error, reason, fallback)
    assert must_keep(facts) == (error or reason is not None or fallback or facts.http_status >= 400)


def test_added_latency_is_what_the_gateway_added_to_the_upstream() -> None:
    facts = facts_of(make(http_status=200, latency_ms=120.0, upstream_ms=100.0))
    assert facts.added_ms == pytest.approx(20.0)
    assert facts_of(make(http_status=200, latency_ms=5.0)).added_ms == 5.0  # no upstream call
    bogus = facts_of(make(http_status="x", latency_ms=float("inf"), prompt_tokens=-4, cost_usd="nan"))
    assert (bogus.http_status, bogus.prompt_tokens, bogus.cost_usd) == (200, 0, 0.0)


def test_a_row_is_bounded_and_never_refused_for_its_data() -> None:
    trace = make(
        http_status=200,
        model="m" * 10_000 + "\x00",
        user="u\x00ser",
        pii={"EMAIL": 2, "PHONE": "alice@example.com"},  # a value, not a count: left out
        weird=float("nan"),
    )
    for index in range(MAX_SPANS):
        trace.span(f"stage{index}", blob="x" * 1000).finish()
    row = row_of(trace, facts_of(trace), ("mail bob@example.com", None), LogRedactor())
    assert len(row["model"]) == LENGTHS["model"]
    assert row["user"] == "user"
    assert row["pii"] == {"EMAIL": 2}
    assert row["prompt_preview"] == "mail [EMAIL]"
    assert json.loads(row["attributes"], parse_constant=_refuse)["weird"] is None
    spans = json.loads(row["spans"])
    assert len(row["spans"]) <= MAX_SPANS_JSON + 64
    assert spans[-1]["dropped_spans"] == MAX_SPANS - (len(spans) - 1)
    assert "\x00" not in json.dumps(row, default=str)


def _refuse(name: str) -> None:
    raise AssertionError(f"not JSON: {name}")


def test_rollups_bound_the_models_of_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollups_module, "MAX_CELLS_PER_MINUTE", 3)
    counts = Rollups()
    for index in range(10):
        counts.add(facts_of(make(http_status=429, error_code="x", provider="p", model=f"m{index}")))
    cells, reasons = counts.rows()
    assert sorted(c["model"] for c in cells) == [OTHER, "m0", "m1", "m2"]
    assert sum(c["requests"] for c in cells) == 10
    assert sum(r["count"] for r in reasons) == 10


def test_rollups_merge_adds_and_past_the_pending_bound_counts_what_was_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = Rollups(), Rollups()
    for counts, latency in ((one, 10.0), (two, 1000.0)):
        counts.add(facts_of(make(http_status=200, provider="p", model="m", latency_ms=latency, prompt_tokens=5)))
    one.merge(two)
    ((cell,), _) = one.rows()
    assert (cell["requests"], cell["prompt_tokens"]) == (2, 10)
    assert sum(value for name, value in cell.items() if name.startswith("added_h")) == 2
    monkeypatch.setattr(rollups_module, "MAX_PENDING_CELLS", 1)
    one.add(facts_of(make(http_status=200, provider="p", model="other")))
    assert one.dropped == 1 and len(one) == 1


def test_like_wildcards_are_matched_literally_and_cursors_are_checked() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    for hostile in ("!!!", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMXx4", "x" * 90):
        with pytest.raises(InvalidCursor):
            decode_cursor(hostile)


def test_query_filters_are_bounded() -> None:
    with pytest.raises(ValidationError):
        TraceQuery(model="m" * 257)
    with pytest.raises(ValidationError):
        TraceQuery(limit=10_000)
    with pytest.raises(ValidationError):
        TraceQuery(status="anything")
    with pytest.raises(ValidationError):
        TraceQuery.model_validate({"sql": "1"})


def test_submit_never_waits_drops_past_the_queue_and_cuts_previews(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")  # never connected: nothing is flushed
    writer = TraceWriter(database, TraceSettings(queue_size=10, preview_chars=8))
    accepted = [writer.submit(make(), "p" * 100, "a" * 100) for _ in range(15)]
    assert accepted == [True] * 10 + [False] * 5
    assert (writer.pending, writer.dropped_full) == (10, 5)
    assert writer._queue[0][1:] == ("p" * 8, "a" * 8)
    off = TraceWriter(database, TraceSettings(payloads="off"))
    off.submit(make(), "secret prompt", "answer")
    assert off._queue[0][1:] == (None, None)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`AI_TRACE_*` are read (and bounded) by the process settings; the writer gets its part."""
    monkeypatch.setenv("AI_TRACE_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("AI_TRACE_RETENTION_DAYS", "3")
    monkeypatch.setenv("AI_TRACE_PAYLOADS", "off")
    settings = TraceSettings.of(Settings())
    assert (settings.sample_rate, settings.retention_days, settings.payloads) == (0.25, 3, "off")
    assert not settings.previews
    monkeypatch.setenv("AI_TRACE_SAMPLE_RATE", "2")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("AI_TRACE_SAMPLE_RATE")
    monkeypatch.delenv("AI_TRACE_PAYLOADS")
    defaults = TraceSettings()
    assert (defaults.sample_rate, defaults.payloads, defaults.retention_days) == (0.1, "masked", 7)
    assert TraceSettings.of(Settings()).sample_rate == defaults.sample_rate and defaults.previews


async def test_the_flush_loop_survives_a_failing_flush() -> None:
    calls: list[int] = []

    async def flush() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a bug in one flush")

    loop = FlushLoop(flush, 0.01, lambda: False)
    loop.start()
    for _ in range(200):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    await loop.stop()
    assert len(calls) >= 3

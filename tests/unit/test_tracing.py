"""Trace, Span and the bounded TraceStore."""

from __future__ import annotations

import pytest

from aigw.observability.tracing import Trace, TraceStore


def make(request_id: str, status: str = "ok") -> Trace:
    trace = Trace(request_id, endpoint="chat")
    trace.status = status
    return trace


def test_store_keeps_only_the_newest_capacity_traces() -> None:
    store = TraceStore(capacity=3)
    for i in range(5):
        store.add(make(f"r{i}"))
    assert len(store) == 3
    assert store.get("r0") is None and store.get("r1") is None
    assert [t.request_id for t in store.recent()] == ["r4", "r3", "r2"]


def test_re_adding_a_trace_makes_it_the_newest() -> None:
    store = TraceStore(capacity=3)
    first = make("a")
    for trace in (first, make("b"), make("c")):
        store.add(trace)
    store.add(first)
    store.add(make("d"))  # evicts the oldest, which is now "b"
    assert store.get("b") is None
    assert store.get("a") is first
    assert [t.request_id for t in store.recent()] == ["d", "a", "c"]


def test_recent_limits_and_filters_by_status() -> None:
    store = TraceStore()
    for i in range(10):
        store.add(make(f"r{i}", "error" if i % 3 == 0 else "ok"))
    assert [t.request_id for t in store.recent(limit=2)] == ["r9", "r8"]
    assert [t.request_id for t in store.recent(status="error")] == ["r9", "r6", "r3", "r0"]
    assert [t.request_id for t in store.recent(limit=2, status="error")] == ["r9", "r6"]
    assert store.recent(status="timeout") == []


def test_to_dict_has_spans_with_non_negative_durations() -> None:
    trace = Trace("req-1", endpoint="chat", model="m")
    with trace.span("route", model="m") as span:
        span.set(routes=["p/m"])
    attempt = trace.span("provider_attempt", provider="p", attempt=1)
    attempt.fail("http_503")
    attempt.finish()
    trace.span("stream")  # never finished: measured up to now
    data = trace.to_dict()
    assert data["request_id"] == "req-1"
    assert data["endpoint"] == "chat" and data["model"] == "m"
    assert data["status"] == "ok"
    assert data["duration_ms"] >= 0
    names = [s["name"] for s in data["spans"]]
    assert names == ["route", "provider_attempt", "stream"]
    starts = [s["start_ms"] for s in data["spans"]]
    assert starts == sorted(starts) and starts[0] >= 0
    for span_dict in data["spans"]:
        assert span_dict["duration_ms"] >= 0
    route, failed, _ = data["spans"]
    assert route["status"] == "ok" and route["attributes"] == {"model": "m", "routes": ["p/m"]}
    assert failed["status"] == "error" and failed["attributes"]["error"] == "http_503"


def test_span_context_manager_records_the_exception_type() -> None:
    trace = Trace("req-2")
    with pytest.raises(KeyError), trace.span("lookup"):
        raise KeyError("x")
    (span,) = trace.spans
    assert span.status == "error"
    assert span.attrs["error"] == "KeyError"
    assert span.end is not None


def test_span_keeps_an_explicit_failure_reason() -> None:
    trace = Trace("req-3")
    with pytest.raises(RuntimeError), trace.span("call") as span:
        span.fail("timeout")
        raise RuntimeError
    assert trace.spans[0].attrs["error"] == "timeout"


def test_finish_is_idempotent() -> None:
    trace = Trace("req-4")
    span = trace.span("x")
    span.finish()
    end = span.end
    span.finish()
    assert span.end == end


def test_summary_has_no_spans() -> None:
    trace = Trace("req-5", path="/v1/embeddings")
    trace.span("route").finish()
    summary = trace.summary()
    assert "spans" not in summary
    assert summary["path"] == "/v1/embeddings"
    assert summary["duration_ms"] >= 0

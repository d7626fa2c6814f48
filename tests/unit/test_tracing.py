"""Trace and Span, and how a trace is bounded before it is stored."""

from __future__ import annotations

import orjson
import pytest

from aigw.observability.tracing import MAX_ATTRIBUTE_LENGTH, MAX_ATTRIBUTES, MAX_SPANS, Trace


def make(request_id: str, status: str = "ok") -> Trace:
    trace = Trace(request_id, endpoint="chat")
    trace.status = status
    return trace


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


def test_stored_attributes_are_bounded() -> None:
    """A model name of a megabyte must not be kept at full size in thousands of stored traces."""
    huge = "m" * 1_000_000
    trace = Trace("r" * 10_000, endpoint="chat", model=huge)
    trace.attrs.update({f"a{i}": i for i in range(100)})
    with trace.span("route", model=huge) as span:
        span.set(routes=[huge] * 1000, pii={f"T{i}": i for i in range(100)}, nested=[[[["deep"]]]])
        span.fail(huge)
    trace.bound()
    stored = trace
    assert len(stored.request_id) <= MAX_ATTRIBUTE_LENGTH + 1
    assert len(stored.attrs) <= MAX_ATTRIBUTES
    assert len(stored.attrs["model"]) == MAX_ATTRIBUTE_LENGTH + 1
    attrs = stored.spans[0].attrs
    assert len(attrs["model"]) == MAX_ATTRIBUTE_LENGTH + 1 and len(attrs["error"]) == MAX_ATTRIBUTE_LENGTH + 1
    assert len(attrs["routes"]) == MAX_ATTRIBUTES and all(len(r) == MAX_ATTRIBUTE_LENGTH + 1 for r in attrs["routes"])
    assert len(attrs["pii"]) == MAX_ATTRIBUTES
    assert attrs["nested"] == [["…"]]
    assert len(orjson.dumps(stored.to_dict())) < 50_000


def test_ordinary_attributes_are_stored_as_they_are() -> None:
    trace = Trace("req", endpoint="chat", model="gpt-4o-mini", attempts=1, stream=False, provider=None)
    with trace.span("route", model="gpt-4o-mini") as span:
        span.set(routes=["openai/gpt-4o-mini"])
    attrs = trace.attrs
    trace.bound()
    assert trace.attrs is attrs
    assert trace.spans[0].attrs == {"model": "gpt-4o-mini", "routes": ["openai/gpt-4o-mini"]}


def test_spans_past_the_bound_are_counted_not_kept() -> None:
    trace = Trace("req")
    for i in range(MAX_SPANS + 20):
        with trace.span(f"step{i}"):
            pass
    assert len(trace.spans) == MAX_SPANS
    assert trace.summary()["dropped_spans"] == 20
    assert "dropped_spans" not in Trace("other").summary()

"""Trace, Span and the bounded TraceStore."""

from __future__ import annotations

import orjson
import pytest

from aigw.observability.tracing import MAX_ATTRIBUTE_LENGTH, MAX_ATTRIBUTES, MAX_SPANS, Trace, TraceStore


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


def test_traces_sharing_a_request_id_are_both_kept() -> None:
    """`X-Request-ID` is the caller's: a second request with the same id must not replace the first."""
    store = TraceStore(capacity=10)
    first, other, second = make("same"), make("x"), make("same", "error")
    for trace in (first, other, second):
        store.add(trace)
    assert len(store) == 3
    assert store.get("same") is second
    assert store.find_all("same") == [second, first]
    assert store.recent() == [second, other, first]
    assert store.find_all("nothing") == [] and store.get("nothing") is None


def test_evicting_the_older_of_two_traces_keeps_the_newer() -> None:
    store = TraceStore(capacity=2)
    first, second, third = make("same"), make("same"), make("third")
    for trace in (first, second, third):
        store.add(trace)
    assert store.find_all("same") == [second]
    store.add(make("fourth"))
    assert store.get("same") is None and store.find_all("same") == []
    assert [t.request_id for t in store.recent()] == ["fourth", "third"]


def test_one_id_flooding_the_store_stays_within_capacity() -> None:
    store = TraceStore(capacity=50)
    for _ in range(500):
        store.add(make("flood"))
    assert len(store) == 50 and len(store.find_all("flood")) == 50


def test_stored_attributes_are_bounded() -> None:
    """A model name of a megabyte must not be kept at full size in thousands of stored traces."""
    huge = "m" * 1_000_000
    trace = Trace("r" * 10_000, endpoint="chat", model=huge)
    trace.attrs.update({f"a{i}": i for i in range(100)})
    with trace.span("route", model=huge) as span:
        span.set(routes=[huge] * 1000, pii={f"T{i}": i for i in range(100)}, nested=[[[["deep"]]]])
        span.fail(huge)
    store = TraceStore()
    store.add(trace)
    stored = store.recent()[0]
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
    store = TraceStore()
    store.add(trace)
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

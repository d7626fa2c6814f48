"""W3C trace context parsing (strict, bounded) and the masked previews' bounds."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigw.observability.propagation import TraceContext, current_trace, parse_traceparent, trace_headers
from aigw.observability.tracing import Trace
from aigw.orchestration.previews import answer_preview, prompt_preview
from aigw.types import ChatRequest, EmbeddingRequest

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_a_valid_traceparent_is_continued() -> None:
    context = parse_traceparent(f"00-{TRACE}-{PARENT}-01", "vendor=a,other=b")
    assert (context.trace_id, context.parent_span_id, context.sampled) == (TRACE, PARENT, True)
    assert context.tracestate == "vendor=a,other=b"
    assert not parse_traceparent(f"00-{TRACE}-{PARENT}-00").sampled
    future = parse_traceparent(f"01-{TRACE}-{PARENT}-01-more-fields")  # a later version: its first 55 characters
    assert future.trace_id == TRACE


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        f"00-{TRACE.upper()}-{PARENT}-01",  # lowercase hex only
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 is exactly 55 characters
        f"00_{TRACE}-{PARENT}-01",
        f"00-{TRACE}-{PARENT}-0g",
        f"01-{TRACE}-{PARENT}-01x",
        "00-" + "a" * 10_000,
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace(value: str | None) -> None:
    context = parse_traceparent(value, "vendor=a")
    assert context.parent_span_id is None and context.tracestate is None
    assert len(context.trace_id) == 32 and context.trace_id != TRACE


@pytest.mark.parametrize(
    "state", ["a=" + "x" * 600, ",".join(f"k{i}=v" for i in range(40)), "bad\x00state", "naïve=1", ""]
)
def test_a_tracestate_out_of_bounds_is_dropped(state: str) -> None:
    assert parse_traceparent(f"00-{TRACE}-{PARENT}-01", state).tracestate is None


@given(st.text(max_size=200))
def test_any_header_parses_without_error(value: str) -> None:
    context = parse_traceparent(value, value)
    assert len(context.trace_id) == 32 and len(context.span_id(0)) == 16


def test_parsing_a_long_header_is_cheap() -> None:
    started = time.thread_time()
    for _ in range(1000):
        parse_traceparent("00-" + "a" * 100_000, "x" * 100_000)
    assert time.thread_time() - started < 0.5


def test_span_ids_are_stable_distinct_and_name_the_attempt_in_flight() -> None:
    context = TraceContext(TRACE, PARENT)
    ids = {context.span_id(i) for i in range(-1, 128)}
    assert len(ids) == 129 and "0" * 16 not in ids and context.span_id(3) == context.span_id(3)
    trace = Trace("r")
    trace.context = context
    trace.span("auth").finish()
    attempt = trace.span("provider_attempt")
    token = current_trace.set(trace)
    try:
        assert trace_headers() == {"traceparent": f"00-{TRACE}-{context.span_id(1)}-01"}
        attempt.finish()
        assert trace_headers() == {"traceparent": f"00-{TRACE}-{context.span_id(-1)}-01"}
    finally:
        current_trace.reset(token)
    assert trace_headers() is None  # nothing exported: no header


def test_previews_are_bounded_and_read_from_the_last_message() -> None:
    huge = "x" * 1_000_000
    request = ChatRequest("m", [{"role": "system", "content": huge}, {"role": "user", "content": "the question"}])
    preview = prompt_preview(request, 40)
    assert len(preview) <= 40 and preview.endswith("user: the question")
    parts = ChatRequest("m", [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}]}])
    assert prompt_preview(parts, 100) == "user: look"
    assert prompt_preview(EmbeddingRequest("e", ["one", "two", [1, 2]]), 100) == "one\ntwo"
    assert answer_preview({"choices": [{"message": {"content": huge}}]}, 10) == "x" * 10
    tool = {"choices": [{"message": {"content": None, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}}]}
    assert answer_preview(tool, 100) == "f({})"
    assert answer_preview({"choices": "nonsense"}, 10) is None

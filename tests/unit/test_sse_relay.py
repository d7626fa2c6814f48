"""The SSE relay: whatever fails once the stream has started, the caller gets an OpenAI error
event and then `data: [DONE]`, never a cut stream; the upstream stream is always closed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aigw.api.middleware import RequestState
from aigw.api.openai import _sse
from aigw.errors import InvalidRequestError, ProviderConnectionError, ProviderStatusError
from aigw.observability.tracing import Trace
from aigw.types import ChatRequest, ChatStream

CHAT = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
CHUNK = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "a"}}]}


class Closable:
    def __init__(self, error: Exception | None = None) -> None:
        self.closed = 0
        self.error = error

    async def __call__(self) -> None:
        self.closed += 1
        if self.error is not None:
            raise self.error


def stream_of(chunks: list[dict[str, Any]], failure: Exception | None, close: Closable) -> ChatStream:
    async def gen() -> AsyncIterator[dict[str, Any]]:
        for chunk in chunks:
            yield chunk
        if failure is not None:
            raise failure

    return ChatStream(gen(), close=close)


async def relay(stream: ChatStream) -> tuple[list[Any], RequestState]:
    state = RequestState("req", Trace("req"))
    events = [event async for event in _sse(stream, CHAT, state)]
    assert all(e.startswith(b"data: ") and e.endswith(b"\n\n") for e in events)
    return [e[6:-2] if e == b"data: [DONE]\n\n" else json.loads(e[6:-2]) for e in events], state


FAILURES = {
    "provider cut": (ProviderConnectionError("reset", provider="p"), "upstream_unreachable"),
    "provider error event": (ProviderStatusError(500, {"error": {"message": "boom"}}, provider="p"), "upstream_error"),
    "gateway error": (InvalidRequestError("nope", code="bad"), "bad"),
    "a bug in restore or accounting": (RuntimeError("unexpected"), "internal_error"),
    "unhashable key": (TypeError("unhashable type: 'list'"), "internal_error"),
}


@pytest.mark.parametrize(("failure", "code"), FAILURES.values(), ids=FAILURES.keys())
async def test_a_failure_mid_stream_ends_with_an_error_event_and_done(failure: Exception, code: str) -> None:
    close = Closable()
    events, state = await relay(stream_of([CHUNK, CHUNK], failure, close))
    assert events[:2] == [CHUNK, CHUNK]
    assert set(events[2]) == {"error"}
    assert set(events[2]["error"]) == {"message", "type", "param", "code"}
    assert events[2]["error"]["code"] == code
    assert "unexpected" not in events[2]["error"]["message"]  # a bug's text is logged, not sent
    assert events[3:] == [b"[DONE]"]
    assert close.closed == 1
    assert state.error_code == code
    assert [s.status for s in state.trace.spans if s.name == "relay"] == ["error"]


async def test_a_failure_while_closing_still_ends_with_an_error_event_and_done() -> None:
    events, _ = await relay(stream_of([CHUNK], None, Closable(RuntimeError("settle failed"))))
    assert events[0] == CHUNK
    assert events[1]["error"]["code"] == "internal_error"
    assert events[2:] == [b"[DONE]"]


async def test_a_chunk_that_cannot_be_serialised_ends_with_an_error_event_and_done() -> None:
    deep: Any = []
    for _ in range(300):  # orjson writes at most 254 levels
        deep = [deep]
    events, _ = await relay(stream_of([CHUNK, {**CHUNK, "extra": deep}], None, Closable()))
    assert events[0] == CHUNK
    assert events[1]["error"]["code"] == "internal_error"
    assert events[2:] == [b"[DONE]"]


async def test_a_clean_stream_ends_with_done_only() -> None:
    close = Closable()
    events, state = await relay(stream_of([CHUNK], None, close))
    assert events == [CHUNK, b"[DONE]"]
    assert close.closed == 1
    assert state.error_code is None


async def test_the_caller_going_away_closes_the_upstream_stream() -> None:
    close = Closable()
    events = _sse(stream_of([CHUNK, CHUNK], None, close), CHAT, RequestState("req", Trace("req")))
    assert (await anext(events)).startswith(b"data: ")
    await events.aclose()
    assert close.closed == 1

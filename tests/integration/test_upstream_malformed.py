"""A misbehaving upstream over real TCP (raw bytes, no HTTP library in between): malformed HTTP,
huge SSE lines, oversized and over-nested answers, streams broken half-way. Every failure must be
a `ProviderError` the client retries and the breaker counts, never a stray exception (a 500)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from aigw.breaker import CircuitBreaker
from aigw.client import AIClient
from aigw.errors import ProviderError, ProviderResponseError, ProviderTimeoutError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.providers.openai import OpenAIProvider, OpenAIProviderConfig
from aigw.retry import RetryPolicy
from aigw.types import AIResponse, CallInfo, ChatRequest, ChatStream
from tests.support.raw_upstream import (
    RawAnswer,
    RawUpstream,
    chunk_event,
    completion_body,
    http_answer,
    sse_answer,
)

pytestmark = pytest.mark.integration

REQUEST = ChatRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
STREAM = ChatRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
SMALL = 4096  # max_body_bytes and max_event_bytes of the provider under test
JSON_CHUNKED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
)


def nested(depth: int) -> bytes:
    """A chat completion whose message carries a value nested `depth` levels."""
    body = json.loads(completion_body())
    body["choices"][0]["message"]["extra"] = json.loads("[" * depth + "]" * depth)
    return json.dumps(body).encode()


MALFORMED = {
    "garbage status line": RawAnswer((b"HTTP/1.1 twohundred OK\r\n\r\n",)),
    "not HTTP at all": RawAnswer((b"\x00\x01\x02 hello\r\n\r\n",)),
    "invalid header line": RawAnswer((b"HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 2\r\n\r\n{}",)),
    "header over 8 KiB": RawAnswer(
        (b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * 70_000 + b"\r\ncontent-length: 2\r\n\r\n{}",)
    ),
    "bad chunked encoding": RawAnswer((JSON_CHUNKED + b"zz\r\n{}\r\n",)),
    "shorter than content-length": RawAnswer(
        (b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"id":',)
    ),
    "announced larger than the bound": RawAnswer(
        (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {SMALL + 1}\r\n\r\n".encode(),)
    ),
    "chunked past the bound": RawAnswer(
        (
            JSON_CHUNKED,
            *[b"400\r\n" + b" " * 1024 + b"\r\n" for _ in range(8)],
            b"0\r\n\r\n",
        )
    ),
    "nested 300 levels": http_answer(nested(300)),
    "not JSON": http_answer(b"{'single': 'quotes'}"),
}


@pytest.fixture
def raw() -> Iterator[RawUpstream]:
    server = RawUpstream().start()
    yield server
    server.stop()


@pytest.fixture
async def provider(raw: RawUpstream) -> AsyncIterator[OpenAIProvider]:
    config = OpenAIProviderConfig(
        name="raw", base_url=raw.url, api_key="sk-x", timeout=2, max_body_bytes=SMALL, max_event_bytes=SMALL
    )
    provider = OpenAIProvider(config)
    await provider.start()
    yield provider
    await provider.close()


def client_of(provider: OpenAIProvider, retries: int = 1) -> AIClient:
    async def no_sleep(_: float) -> None:
        return None

    breaker = CircuitBreaker(min_calls=100)
    return AIClient(provider, RetryPolicy(retries, 0.0, 0.0), breaker, GatewayMetrics(enabled=False), sleep=no_sleep)


async def collect(stream: ChatStream) -> list[dict[str, object]]:
    try:
        return [chunk async for chunk in stream]
    finally:
        await stream.aclose()


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_answer_is_a_provider_error_that_is_retried_and_counted(
    raw: RawUpstream, provider: OpenAIProvider, answer: RawAnswer
) -> None:
    raw.then(answer)
    client = client_of(provider, retries=1)
    result = await client.execute(REQUEST, Trace("r"), CallInfo())
    assert isinstance(result, AIResponse)  # the retry got the good answer
    assert raw.arrivals == 2
    assert client.breaker.snapshot()["window_failures"] == 1


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
async def test_the_provider_raises_only_provider_errors(
    raw: RawUpstream, provider: OpenAIProvider, answer: RawAnswer
) -> None:
    raw.then(answer)
    with pytest.raises(ProviderError) as raised:
        await provider.execute_task(REQUEST)
    assert raised.value.provider == "raw"
    assert len(raised.value.message) < 400


async def test_an_sse_line_over_aiohttps_512_kib_limit_is_relayed(raw: RawUpstream) -> None:
    config = OpenAIProviderConfig(name="raw", base_url=raw.url, api_key="sk-x", timeout=5)
    provider = OpenAIProvider(config)
    await provider.start()
    try:
        big = "x" * (600 * 1024)
        raw.then(sse_answer(chunk_event("a"), chunk_event(big), chunk_event("z")))
        stream = await provider.execute_task(STREAM)
        assert isinstance(stream, ChatStream)
        chunks = await collect(stream)
    finally:
        await provider.close()
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["a", big, "z"]  # type: ignore[index]


async def test_events_split_anywhere_and_with_crlf_are_reassembled(raw: RawUpstream, provider: OpenAIProvider) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    events = b"".join(b": comment\r\nevent: x\r\ndata: " + chunk_event(t) + b"\r\n\r\n" for t in "abc")
    body = events + b"data: [DONE]\r\n\r\n"
    raw.then(RawAnswer((head, *(body[i : i + 7] for i in range(0, len(body), 7)))))
    stream = await provider.execute_task(STREAM)
    assert isinstance(stream, ChatStream)
    assert [c["choices"][0]["delta"]["content"] for c in await collect(stream)] == ["a", "b", "c"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (sse_answer(chunk_event("a"), chunk_event("x" * SMALL)), ProviderResponseError),
        (
            RawAnswer((*sse_answer(chunk_event("a"), done=False).pieces, b"data: " + b"y" * SMALL)),
            ProviderResponseError,
        ),
        (sse_answer(chunk_event("a"), b"[" * 100 + b"]" * 100), ProviderResponseError),
        (sse_answer(chunk_event("a"), b"{not json"), ProviderResponseError),
        (
            RawAnswer(
                (
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
                    b"%x\r\n" % (len(chunk_event("a")) + 8) + b"data: " + chunk_event("a") + b"\n\n\r\n",
                    b"zz\r\n",
                ),
                pause=0.1,
            ),
            ProviderTimeoutError,  # aiohttp never tells its reader: the provider's own deadline ends it
        ),
    ],
    ids=["event over the bound", "line over the bound", "nested event", "event not JSON", "bad chunk mid-stream"],
)
async def test_a_stream_broken_half_way_raises_a_provider_error_after_the_good_chunks(
    raw: RawUpstream, provider: OpenAIProvider, answer: RawAnswer, error: type[ProviderError]
) -> None:
    raw.then(answer)
    client = client_of(provider, retries=0)
    stream = await client.execute(STREAM, Trace("r"), CallInfo())
    assert isinstance(stream, ChatStream)
    seen: list[dict[str, object]] = []
    with pytest.raises(error):
        async for chunk in stream:
            seen.append(chunk)
    await stream.aclose()
    assert len(seen) == 1
    assert client.breaker.snapshot()["window_failures"] == 1  # the breaker was told

"""`HttpTransport`: reads that wait have a deadline and buffered ones take none, upstream cookies
are not kept, and `failures` translates every aiohttp failure (and lets anything else through)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.test_utils import TestServer
from yarl import URL

from aigw.errors import ProviderConnectionError, ProviderError, ProviderResponseError, ProviderTimeoutError
from aigw.providers.http_transport import HttpTransport, TransportLimits
from aigw.providers.sse import EventTooLarge
from tests.support.raw_upstream import RawAnswer, RawUpstream, http_answer

BODY = b'{"id": "x", "object": "chat.completion"}'


@pytest.fixture
def raw() -> Iterator[RawUpstream]:
    server = RawUpstream().start()
    yield server
    server.stop()


async def opened(timeout: float = 2.0, max_body_bytes: int = 4096) -> HttpTransport:
    transport = HttpTransport("p", TransportLimits(timeout=timeout, max_body_bytes=max_body_bytes), {"x-key": "k"})
    await transport.start()
    return transport


DEADLINE = 12.0  # a per-read deadline no other timer of aiohttp's uses (its connect timeout is 10 s)


@pytest.fixture
def deadlines(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The per-read deadlines (`asyncio.timeout(DEADLINE)`) taken while the test runs."""
    taken: list[float | None] = []
    real = asyncio.timeout

    def counting(delay: float | None) -> asyncio.Timeout:
        if delay == DEADLINE:
            taken.append(delay)
        return real(delay)

    monkeypatch.setattr(asyncio, "timeout", counting)
    return taken


async def test_a_body_that_came_with_the_head_is_read_without_a_deadline(
    raw: RawUpstream, deadlines: list[float | None]
) -> None:
    raw.then(http_answer(BODY))
    transport = await opened(DEADLINE)
    try:
        answer = await transport.post_json(URL(raw.url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()
    assert answer == {"id": "x", "object": "chat.completion"}
    assert deadlines == []


async def test_an_empty_body_is_read_at_once(raw: RawUpstream, deadlines: list[float | None]) -> None:
    raw.then(http_answer(b""))
    transport = await opened(DEADLINE)
    try:
        with pytest.raises(ProviderResponseError, match="not valid JSON"):
            await transport.post_json(URL(raw.url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()
    assert deadlines == []


async def test_a_body_that_comes_later_is_awaited_under_a_deadline_per_read(
    raw: RawUpstream, deadlines: list[float | None]
) -> None:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(BODY)}\r\n\r\n".encode()
    raw.then(RawAnswer((head, BODY[:10], BODY[10:]), pause=0.1))
    transport = await opened(DEADLINE)
    try:
        answer = await transport.post_json(URL(raw.url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()
    assert answer["id"] == "x"
    assert len(deadlines) >= 2 and set(deadlines) == {DEADLINE}, deadlines


async def test_a_body_that_stops_coming_times_out(raw: RawUpstream) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n"
    raw.then(RawAnswer((head, b'{"id":'), close=False))
    transport = await opened(timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(ProviderTimeoutError):
            await transport.post_json(URL(raw.url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()
    assert loop.time() - started < 3


async def test_an_announced_length_over_the_bound_is_refused_before_reading(raw: RawUpstream) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n"
    raw.then(RawAnswer((head, b"{"), close=False))  # the rest never comes: a read would time out instead
    transport = await opened(timeout=5, max_body_bytes=4096)
    try:
        with pytest.raises(ProviderResponseError, match="larger than 4096"):
            await transport.post_json(URL(raw.url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()


@pytest.fixture
async def cookie_server() -> AsyncIterator[tuple[str, list[str | None]]]:
    """A server that sets a cookie on every answer and records the Cookie header of each request."""
    seen: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.headers.get("cookie"))
        response = web.json_response({"id": "x"})
        response.set_cookie("session", "caller-one", path="/")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    async with TestServer(app, host="127.0.0.1") as server:
        # A host name: aiohttp's default jar keeps no cookie from an IP address
        yield f"http://localhost:{server.port}/v1", seen


async def test_upstream_cookies_are_not_sent_with_later_calls(cookie_server: tuple[str, list[str | None]]) -> None:
    url, seen = cookie_server
    transport = await opened()
    try:
        for _ in range(2):
            await transport.post_json(URL(url + "/chat/completions"), {"model": "m"})
    finally:
        await transport.close()
    assert seen == [None, None]


TRANSLATED: dict[str, tuple[BaseException, type[Exception], str]] = {
    "timeout": (aiohttp.ServerTimeoutError("read"), ProviderTimeoutError, "stream broken: timed out"),
    "plain timeout": (TimeoutError(), ProviderTimeoutError, "stream broken: timed out"),
    "connection": (aiohttp.ClientConnectionError("reset"), ProviderConnectionError, "stream broken: ClientConne"),
    "payload": (aiohttp.ClientPayloadError("cut"), ProviderConnectionError, "stream broken: ClientPayloadError: cut"),
    "parser": (BadHttpMessage("bad"), ProviderResponseError, "stream broken: malformed HTTP answer: BadHttpMessage"),
    "client": (aiohttp.ClientError("odd"), ProviderResponseError, "stream broken: malformed HTTP answer: ClientError"),
    "event": (EventTooLarge(8), ProviderResponseError, "a stream event is larger than 8 bytes"),
}


@pytest.mark.parametrize(("raised", "expected", "message"), TRANSLATED.values(), ids=TRANSLATED.keys())
def test_failures_translates_aiohttps_exceptions(
    raised: BaseException, expected: type[Exception], message: str
) -> None:
    transport = HttpTransport("p", TransportLimits(timeout=1), {})
    with pytest.raises(expected) as caught, transport.failures("stream broken"):
        raise raised
    error = caught.value
    assert isinstance(error, ProviderError)
    assert error.provider == "p"
    assert error.message.startswith(message), error.message
    assert error.__suppress_context__ and error.__cause__ is None


def test_failures_without_a_stage_has_no_prefix_and_lets_other_exceptions_through() -> None:
    transport = HttpTransport("p", TransportLimits(timeout=1), {})
    with pytest.raises(ProviderTimeoutError, match=r"^timed out$"), transport.failures():
        raise TimeoutError
    for other in (ValueError("mine"), asyncio.CancelledError()):
        with pytest.raises(type(other)), transport.failures():
            raise other
    with transport.failures():
        pass  # nothing raised: nothing happens

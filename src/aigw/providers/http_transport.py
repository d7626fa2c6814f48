"""The HTTP exchange every HTTP provider family shares: one pooled session, bounded reads, and
every failure translated into the `ProviderError` it is.

A family's adapter (OpenAI, Anthropic, Gemini ...) only translates request and answer shapes; it
calls `post_json`, `open_sse` or `open_stream` here and gets an answer or a `ProviderError` (so
the client retries, the breaker counts it and the orchestrator falls back the same way for every
family).

Decisions:
- One aiohttp session per provider (keep-alive connections), opened by `start`, without a cookie
  jar: a cookie an upstream sets for one caller must not go with another caller's call.
- Every exception of aiohttp's tree, its HTTP parser's included (`HttpProcessingError` is not an
  `aiohttp.ClientError`), is translated in one place, `failures`.
- What is read is bounded: a plain answer by `max_body_bytes`, one stream event by
  `max_event_bytes` (see `providers.sse`), an error answer by 64 KiB, and a JSON answer may nest
  at most `MAX_JSON_DEPTH` levels (deeper ones could not be passed on: orjson writes 254 at most).
- Each read of a body that waits has its own deadline (`timeout`): when aiohttp's parser fails
  after the head (a bad chunk size mid-stream) it drops its socket-read timer and never wakes the
  reader, which would otherwise wait forever (aiohttp 3.14). What has already arrived is taken
  without a deadline: a plain answer usually comes with its head.
- An error status becomes `ProviderStatusError` with the parsed body (for its message) and the
  `retry-after-ms` / `retry-after` wait; a family whose error bodies differ from OpenAI's maps
  them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from aigw.errors import (
    ProviderConnectionError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth
from aigw.observability.propagation import trace_headers
from aigw.providers.sse import EventSplitter, EventTooLarge
from aigw.retry import parse_retry_after

_MAX_ERROR_BODY_BYTES = 64 * 1024  # an error answer is read for its message, no further
_MAX_DETAIL_CHARS = 200  # of an exception's text quoted in an error message


@dataclass(frozen=True, slots=True)
class TransportLimits:
    """Deadlines and bounds of one provider's HTTP exchange."""

    timeout: float
    max_connections: int = 1000
    max_body_bytes: int = 128 * 1024 * 1024  # a plain (not streamed) answer
    max_event_bytes: int = 8 * 1024 * 1024  # one event of a stream


class OpenedStream:
    """An upstream answer whose head has arrived and whose body is read as it comes."""

    def __init__(self, transport: HttpTransport, response: aiohttp.ClientResponse) -> None:
        self._transport = transport
        self._response = response

    async def release(self) -> None:
        self._response.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (for framings other than SSE), failures translated."""
        try:
            with self._transport.failures("stream broken"):
                async for chunk in self._transport.read_chunks(self._response):
                    yield chunk
        finally:
            self._response.release()

    async def events(self) -> AsyncIterator[tuple[str, bytes]]:
        """The server-sent events as (event name, data payload), each bounded in size."""
        splitter = EventSplitter(self._transport.limits.max_event_bytes)
        try:
            with self._transport.failures("stream broken"):
                async for chunk in self._transport.read_chunks(self._response):
                    for named in splitter.feed_named(chunk):
                        yield named
                for named in splitter.close_named():
                    yield named
        finally:
            self._response.release()


class HttpTransport:
    """One provider's HTTP client: session lifecycle, JSON calls, streams and their failures."""

    def __init__(self, provider: str, limits: TransportLimits, headers: Mapping[str, str]) -> None:
        self.provider = provider
        self.limits = limits
        self._headers = dict(headers)
        self._session: aiohttp.ClientSession | None = None
        self._failures = _Failures(provider, "")

    async def start(self) -> None:
        limits = self.limits
        connector = aiohttp.TCPConnector(limit=limits.max_connections, ttl_dns_cache=300, keepalive_timeout=30)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(limits.timeout, 10.0), sock_read=limits.timeout)
        # No cookie jar (see the module docstring); a jar also filters cookies on every request.
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers=self._headers,
            raise_for_status=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def is_open(self) -> bool:
        return self._session is not None and not self._session.closed

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise ProviderConnectionError("provider is not started", provider=self.provider)
        return self._session

    def failures(self, during: str = "") -> contextlib.AbstractContextManager[None]:
        """Every failure of the HTTP exchange as the `ProviderError` it is: the one place where
        aiohttp's exceptions are translated (`during` prefixes the message, e.g. "stream broken")."""
        return _Failures(self.provider, f"{during}: ") if during else self._failures

    async def post_json(
        self, url: URL, body: dict[str, Any] | bytes, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST `body` as JSON (bytes: already encoded, e.g. signed); the answer's JSON object, or a
        `ProviderError`."""
        with self.failures():
            async with self._require_session().post(
                url, data=_encoded(body), headers=_request_headers(headers)
            ) as resp:
                if resp.status >= 400:
                    raise await self._status_error(resp)
                raw = await self.read_body(resp, self.limits.max_body_bytes)
        return self.parse_json(raw, "the body")

    async def get_json(self, url: URL) -> Any:
        """GET `url`; its JSON value, or None when it answered an error or no JSON."""
        with self.failures():
            async with self._require_session().get(url) as resp:
                raw = await self.read_body(resp, self.limits.max_body_bytes) if resp.status == 200 else b""
        try:
            return orjson.loads(raw) if raw and not text_exceeds_depth(raw) else None
        except orjson.JSONDecodeError:
            return None

    async def open_sse(self, url: URL, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> OpenedStream:
        """POST `body` and wait for the head of a `text/event-stream` answer."""
        return await self.open_stream(url, body, headers, content_type="text/event-stream")

    async def open_stream(
        self, url: URL, body: dict[str, Any] | bytes, headers: Mapping[str, str] | None = None, *, content_type: str
    ) -> OpenedStream:
        """POST `body` and wait for the head of a streamed answer of `content_type`."""
        session = self._require_session()
        with self.failures():
            resp = await session.post(url, data=_encoded(body), headers=_request_headers(headers))
        if resp.status >= 400:
            try:
                raise await self._status_error(resp)
            finally:
                resp.release()
        if not resp.content_type.startswith(content_type):
            resp.release()
            raise ProviderResponseError(f"expected {content_type}, got {resp.content_type}", provider=self.provider)
        return OpenedStream(self, resp)

    async def read_chunks(self, resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The body as it arrives, each read that waits under its own deadline (see the module
        docstring); what is already buffered is taken at once, without a timer."""
        content = resp.content
        while True:
            chunk = content.read_nowait()
            if not chunk:
                if content.at_eof():
                    return
                async with asyncio.timeout(self.limits.timeout):
                    chunk = await content.readany()
                if not chunk:
                    return
            yield chunk

    async def read_body(self, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        """The whole body, or ProviderResponseError once it is known to be longer than `limit`."""
        parts: list[bytes] = []
        size = resp.content_length or 0  # the announced size is checked before anything is read
        if size <= limit:
            size = 0
            async for chunk in self.read_chunks(resp):
                size += len(chunk)
                if size > limit:
                    break
                parts.append(chunk)
        if size > limit:
            raise ProviderResponseError(f"the body is larger than {limit} bytes", provider=self.provider)
        return b"".join(parts)

    def parse_json(self, raw: bytes, what: str) -> dict[str, Any]:
        """An upstream JSON object, or ProviderResponseError: not JSON, not an object, or nested
        deeper than the gateway could pass it on."""
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ProviderResponseError(f"{what} is not valid JSON", provider=self.provider) from None
        if not isinstance(parsed, dict):
            raise ProviderResponseError(f"{what} is not a JSON object", provider=self.provider)
        if text_exceeds_depth(raw):
            raise ProviderResponseError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels", provider=self.provider)
        return parsed

    async def _status_error(self, resp: aiohttp.ClientResponse) -> ProviderStatusError:
        """The error status as a ProviderStatusError; its body is read (bounded) for the message."""
        try:
            raw = await self.read_body(resp, _MAX_ERROR_BODY_BYTES)
            parsed = orjson.loads(raw) if raw and not text_exceeds_depth(raw) else None
        except (TimeoutError, aiohttp.ClientError, HttpProcessingError, ProviderResponseError, orjson.JSONDecodeError):
            parsed = None  # the status alone is the answer
        retry_ms = parse_retry_after(resp.headers.get("retry-after-ms"))
        retry_after = retry_ms / 1000 if retry_ms is not None else parse_retry_after(resp.headers.get("retry-after"))
        return ProviderStatusError(
            resp.status, parsed if isinstance(parsed, dict) else None, provider=self.provider, retry_after=retry_after
        )


class _Failures(contextlib.AbstractContextManager[None]):
    """`HttpTransport.failures`: a plain class, not a generator context manager, as it wraps every
    call (stateless, so one instance serves concurrent calls)."""

    __slots__ = ("prefix", "provider")

    def __init__(self, provider: str, prefix: str) -> None:
        self.provider = provider
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return
        prefix = self.prefix
        if isinstance(exc, TimeoutError):  # aiohttp's timeouts (ServerTimeoutError ...) are TimeoutErrors too
            raise ProviderTimeoutError(prefix + "timed out", provider=self.provider) from None
        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            raise ProviderConnectionError(prefix + _describe(exc), provider=self.provider) from None
        if isinstance(exc, aiohttp.ClientError | HttpProcessingError):  # a malformed HTTP answer, and the rest
            message = prefix + "malformed HTTP answer: " + _describe(exc)
            raise ProviderResponseError(message, provider=self.provider) from None
        if isinstance(exc, EventTooLarge):
            raise ProviderResponseError(str(exc), provider=self.provider) from None


def _encoded(body: dict[str, Any] | bytes) -> bytes:
    return body if isinstance(body, bytes) else orjson.dumps(body)


def _request_headers(extra: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """Per-call headers (the session's own are sent anyway): trace context and a call's extras."""
    tracing = trace_headers()
    if not extra:
        return tracing
    return {**tracing, **extra} if tracing else extra


def _describe(exc: BaseException) -> str:
    """The exception's kind and its text, shortened: the text can quote what the upstream sent."""
    text = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    text = text if len(text) <= _MAX_DETAIL_CHARS else text[: _MAX_DETAIL_CHARS - 3] + "..."
    return type(exc).__name__ + (f": {text}" if text else "")

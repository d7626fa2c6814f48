"""OpenAI-compatible provider: OpenAI itself, Azure OpenAI, vLLM, Ollama, LM Studio, and the like.

One pooled aiohttp session per provider (keep-alive connections); one HTTP call per task; SSE
streams are parsed event by event and handed on as they arrive.

Whatever the upstream does, a call ends in an answer or a `ProviderError` (so the client retries,
the breaker counts it and the orchestrator falls back): every exception of aiohttp's tree, its
HTTP parser's included (`HttpProcessingError` is not an `aiohttp.ClientError`), is translated in
one place, `_upstream_failures`. What is read is bounded: a plain answer by `max_body_bytes`
(128 MiB: an embeddings batch of 2,048 inputs at 3,072 float dimensions is about 125 MB), one
stream event by `max_event_bytes` (8 MiB, see `providers.sse`), and a JSON answer may nest at
most `MAX_JSON_DEPTH` levels (deeper ones could not be passed on: orjson writes 254 at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar, Literal

import aiohttp
import orjson
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import Field, SecretStr
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth
from aigw.observability.propagation import trace_headers
from aigw.providers.base import AIProvider
from aigw.providers.sse import EventSplitter, EventTooLarge
from aigw.retry import parse_retry_after
from aigw.types import (
    AIRequest,
    AIResponse,
    Capabilities,
    ChatRequest,
    ChatStream,
    EmbeddingRequest,
    TaskKind,
    Usage,
)

_MODELS_CACHE_SECONDS = 60.0
_MAX_ERROR_BODY_BYTES = 64 * 1024  # an error answer is read for its message, no further
_MAX_DETAIL_CHARS = 200  # of an exception's text quoted in an error message


class OpenAIProviderConfig(ProviderConfigBase):
    type: Literal["openai"] = "openai"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    api_key_env: str | None = None  # read the key from this environment variable instead
    auth_header: Literal["authorization", "api-key"] = "authorization"  # Azure uses "api-key"
    query_params: dict[str, str] = {}  # e.g. {"api-version": "2024-10-21"} for Azure
    headers: dict[str, str] = {}
    max_connections: int = Field(1000, ge=1)
    max_body_bytes: int = Field(128 * 1024 * 1024, ge=1024)  # a plain (not streamed) answer
    max_event_bytes: int = Field(8 * 1024 * 1024, ge=1024)  # one event of a stream

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return None


class OpenAIProvider(AIProvider):
    type_name: ClassVar[str] = "openai"
    config_class: ClassVar[type[ProviderConfigBase]] = OpenAIProviderConfig
    config: OpenAIProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, OpenAIProviderConfig)
        super().__init__(config)
        base = URL(config.base_url.rstrip("/"))
        self._chat_url = base.joinpath("chat/completions").with_query(config.query_params)
        self._embeddings_url = base.joinpath("embeddings").with_query(config.query_params)
        self._models_url = base.joinpath("models").with_query(config.query_params)
        self._headers = {"content-type": "application/json", "accept": "application/json", **config.headers}
        key = config.resolved_api_key()
        if key:
            if config.auth_header == "api-key":
                self._headers["api-key"] = key
            else:
                self._headers["authorization"] = f"Bearer {key}"
        self._session: aiohttp.ClientSession | None = None
        self._models_cache: tuple[float, list[str]] | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.config.max_connections, ttl_dns_cache=300, keepalive_timeout=30)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(self.config.timeout, 10.0), sock_read=self.config.timeout
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers=self._headers, raise_for_status=False
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def is_available(self) -> bool:
        return self._session is not None and not self._session.closed

    def get_capabilities(self) -> Capabilities:
        return Capabilities(
            tasks=frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS}), streaming=True, models=self.config.models
        )

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        if isinstance(request, EmbeddingRequest):
            body = {**request.params, "model": request.model, "input": request.input}
            return await self._call_json(self._embeddings_url, body)
        body = _chat_body(request)
        if request.stream:
            return await self._open_stream(body)
        return await self._call_json(self._chat_url, body)

    async def list_models(self) -> list[str]:
        if self.config.models:
            return list(self.config.models)
        now = time.monotonic()
        if self._models_cache and now - self._models_cache[0] < _MODELS_CACHE_SECONDS:
            return self._models_cache[1]
        try:
            with self._upstream_failures():
                async with self._require_session().get(self._models_url) as resp:
                    raw = await self._read(resp, self.config.max_body_bytes) if resp.status == 200 else b""
            data = orjson.loads(raw) if raw else {}
        except (ProviderError, orjson.JSONDecodeError):
            data = {}
        entries = data.get("data") if isinstance(data, dict) else None
        models = [m["id"] for m in entries or () if isinstance(m, dict) and isinstance(m.get("id"), str)]
        self._models_cache = (now, models)
        return models

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise ProviderConnectionError("provider is not started", provider=self.name)
        return self._session

    @contextlib.contextmanager
    def _upstream_failures(self, during: str = "") -> Iterator[None]:
        """Every failure of the HTTP exchange as the `ProviderError` it is: the one place where
        aiohttp's exceptions are translated (`during` prefixes the message, e.g. "stream broken")."""
        prefix = f"{during}: " if during else ""
        try:
            yield
        except TimeoutError:  # aiohttp's timeouts (ServerTimeoutError ...) are TimeoutErrors too
            raise ProviderTimeoutError(prefix + "timed out", provider=self.name) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ProviderConnectionError(prefix + _describe(exc), provider=self.name) from None
        except (aiohttp.ClientError, HttpProcessingError) as exc:  # a malformed HTTP answer, and the rest
            message = prefix + "malformed HTTP answer: " + _describe(exc)
            raise ProviderResponseError(message, provider=self.name) from None
        except EventTooLarge as exc:
            raise ProviderResponseError(str(exc), provider=self.name) from None

    async def _call_json(self, url: URL, body: dict[str, Any]) -> AIResponse:
        with self._upstream_failures():
            async with self._require_session().post(url, data=orjson.dumps(body), headers=trace_headers()) as resp:
                if resp.status >= 400:
                    raise await self._status_error(resp)
                raw = await self._read(resp, self.config.max_body_bytes)
        parsed = self._parse_json(raw, "the body")
        if "error" in parsed:
            raise ProviderResponseError("the body is not an OpenAI response object", provider=self.name)
        return AIResponse(
            body=parsed,
            usage=Usage.from_openai(parsed.get("usage")),
            model=str(parsed.get("model") or body.get("model")),
        )

    async def _open_stream(self, body: dict[str, Any]) -> ChatStream:
        session = self._require_session()
        with self._upstream_failures():
            resp = await session.post(self._chat_url, data=orjson.dumps(body), headers=trace_headers())
        if resp.status >= 400:
            try:
                raise await self._status_error(resp)
            finally:
                resp.release()
        if not resp.content_type.startswith("text/event-stream"):
            resp.release()
            raise ProviderResponseError(f"expected an event stream, got {resp.content_type}", provider=self.name)

        async def release() -> None:
            resp.release()

        return ChatStream(self._events(resp), close=release)

    async def _events(self, resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        splitter = EventSplitter(self.config.max_event_bytes)
        try:
            with self._upstream_failures("stream broken"):
                async for chunk in self._chunks(resp):
                    for payload in splitter.feed(chunk):
                        if payload == b"[DONE]":
                            return
                        yield self._parse_event(payload)
                for payload in splitter.close():
                    if payload != b"[DONE]":
                        yield self._parse_event(payload)
        finally:
            resp.release()

    async def _chunks(self, resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The body as it arrives, each read under its own deadline: when aiohttp's parser fails
        after the head (a bad chunk size mid-stream) it drops its socket-read timer and never
        wakes the reader, which would otherwise wait forever (aiohttp 3.14)."""
        while True:
            async with asyncio.timeout(self.config.timeout):
                chunk = await resp.content.readany()
            if not chunk:
                return
            yield chunk

    async def _read(self, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        """The whole body, or ProviderResponseError once it is known to be longer than `limit`."""
        parts: list[bytes] = []
        size = resp.content_length or 0  # the announced size is checked before anything is read
        if size <= limit:
            size = 0
            async for chunk in self._chunks(resp):
                size += len(chunk)
                if size > limit:
                    break
                parts.append(chunk)
        if size > limit:
            raise ProviderResponseError(f"the body is larger than {limit} bytes", provider=self.name)
        return b"".join(parts)

    def _parse_event(self, payload: bytes) -> dict[str, Any]:
        event = self._parse_json(payload, "a stream event")
        if "error" in event:
            raise ProviderStatusError(500, event, provider=self.name)
        return event

    def _parse_json(self, raw: bytes, what: str) -> dict[str, Any]:
        """An upstream JSON object, or ProviderResponseError: not JSON, not an object, or nested
        deeper than the gateway could pass it on."""
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ProviderResponseError(f"{what} is not valid JSON", provider=self.name) from None
        if not isinstance(parsed, dict):
            raise ProviderResponseError(f"{what} is not an OpenAI response object", provider=self.name)
        if text_exceeds_depth(raw):
            raise ProviderResponseError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels", provider=self.name)
        return parsed

    async def _status_error(self, resp: aiohttp.ClientResponse) -> ProviderStatusError:
        """The error status as a ProviderStatusError; its body is read (bounded) for the message."""
        try:
            raw = await self._read(resp, _MAX_ERROR_BODY_BYTES)
            parsed = orjson.loads(raw) if raw and not text_exceeds_depth(raw) else None
        except (TimeoutError, aiohttp.ClientError, HttpProcessingError, ProviderResponseError, orjson.JSONDecodeError):
            parsed = None  # the status alone is the answer
        retry_ms = parse_retry_after(resp.headers.get("retry-after-ms"))
        retry_after = retry_ms / 1000 if retry_ms is not None else parse_retry_after(resp.headers.get("retry-after"))
        return ProviderStatusError(
            resp.status, parsed if isinstance(parsed, dict) else None, provider=self.name, retry_after=retry_after
        )


def _chat_body(request: ChatRequest) -> dict[str, Any]:
    body = {**request.params, "model": request.model, "messages": request.messages}
    if request.stream:
        body["stream"] = True
        # Always ask for usage: the gateway needs it to count tokens and cost. The usage chunk
        # is dropped on the way out when the caller did not ask for it.
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
    return body


def _describe(exc: BaseException) -> str:
    """The exception's kind and its text, shortened: the text can quote what the upstream sent."""
    text = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    text = text if len(text) <= _MAX_DETAIL_CHARS else text[: _MAX_DETAIL_CHARS - 3] + "..."
    return type(exc).__name__ + (f": {text}" if text else "")

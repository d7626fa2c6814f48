"""OpenAI-compatible provider: OpenAI itself, Azure OpenAI, vLLM, Ollama, LM Studio, and the like.

One pooled aiohttp session per provider (keep-alive connections); one HTTP call per task; SSE
streams are parsed event by event and handed on as they arrive.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import aiohttp
import orjson
from pydantic import Field, SecretStr
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import (
    ProviderConnectionError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from aigw.providers.base import AIProvider
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


class OpenAIProviderConfig(ProviderConfigBase):
    type: Literal["openai"] = "openai"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    api_key_env: str | None = None  # read the key from this environment variable instead
    auth_header: Literal["authorization", "api-key"] = "authorization"  # Azure uses "api-key"
    query_params: dict[str, str] = {}  # e.g. {"api-version": "2024-10-21"} for Azure
    headers: dict[str, str] = {}
    max_connections: int = Field(1000, ge=1)

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
            async with self._require_session().get(self._models_url) as resp:
                data = orjson.loads(await resp.read()) if resp.status == 200 else {}
        except (TimeoutError, aiohttp.ClientError, orjson.JSONDecodeError):
            data = {}
        entries = data.get("data") if isinstance(data, dict) else None
        models = [m["id"] for m in entries or () if isinstance(m, dict) and isinstance(m.get("id"), str)]
        self._models_cache = (now, models)
        return models

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise ProviderConnectionError("provider is not started", provider=self.name)
        return self._session

    async def _call_json(self, url: URL, body: dict[str, Any]) -> AIResponse:
        try:
            async with self._require_session().post(url, data=orjson.dumps(body)) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise self._status_error(resp, raw)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ProviderTimeoutError("timed out", provider=self.name) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ProviderConnectionError(_describe(exc), provider=self.name) from None
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ProviderResponseError("the body is not valid JSON", provider=self.name) from None
        if not isinstance(parsed, dict) or "error" in parsed:
            raise ProviderResponseError("the body is not an OpenAI response object", provider=self.name)
        return AIResponse(
            body=parsed,
            usage=Usage.from_openai(parsed.get("usage")),
            model=str(parsed.get("model") or body.get("model")),
        )

    async def _open_stream(self, body: dict[str, Any]) -> ChatStream:
        session = self._require_session()
        try:
            resp = await session.post(self._chat_url, data=orjson.dumps(body))
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ProviderTimeoutError("timed out", provider=self.name) from None
        except aiohttp.ClientConnectionError as exc:
            raise ProviderConnectionError(_describe(exc), provider=self.name) from None
        if resp.status >= 400:
            try:
                raw = await resp.read()
            except (TimeoutError, aiohttp.ClientError):
                raw = b""
            finally:
                resp.release()
            raise self._status_error(resp, raw)
        if not resp.content_type.startswith("text/event-stream"):
            resp.release()
            raise ProviderResponseError(f"expected an event stream, got {resp.content_type}", provider=self.name)

        async def release() -> None:
            resp.release()

        return ChatStream(self._events(resp), close=release)

    async def _events(self, resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        data: list[bytes] = []
        try:
            async for line in resp.content:
                line = line.rstrip(b"\r\n")
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                    continue
                if line or not data:
                    continue  # comments, event names, ids, or a blank line between nothing
                payload = b"\n".join(data)
                data.clear()
                if payload == b"[DONE]":
                    return
                yield self._parse_event(payload)
            if data and data != [b"[DONE]"]:
                yield self._parse_event(b"\n".join(data))
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise ProviderTimeoutError("stream stalled", provider=self.name) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ProviderConnectionError(f"stream cut: {_describe(exc)}", provider=self.name) from None
        finally:
            resp.release()

    def _parse_event(self, payload: bytes) -> dict[str, Any]:
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise ProviderResponseError("a stream event is not valid JSON", provider=self.name) from None
        if not isinstance(event, dict):
            raise ProviderResponseError("a stream event is not an object", provider=self.name)
        if "error" in event:
            raise ProviderStatusError(500, event, provider=self.name)
        return event

    def _status_error(self, resp: aiohttp.ClientResponse, raw: bytes) -> ProviderStatusError:
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
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
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")

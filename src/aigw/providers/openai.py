"""OpenAI-compatible provider: OpenAI itself, Azure OpenAI, vLLM, Ollama, LM Studio, and the like.

One HTTP call per task through `providers.http_transport` (the pooled session, bounded reads and
the translation of every aiohttp failure into a `ProviderError` live there, shared with the other
families); SSE streams are parsed event by event and handed on as they arrive. A plain answer is
bounded by `max_body_bytes` (128 MiB: an embeddings batch of 2,048 inputs at 3,072 float
dimensions is about 125 MB), one stream event by `max_event_bytes` (8 MiB).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from pydantic import SecretStr
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import ProviderResponseError, ProviderStatusError
from aigw.providers.http_provider import HttpProvider, HttpProviderConfig
from aigw.providers.http_transport import OpenedStream
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


class OpenAIProviderConfig(HttpProviderConfig):
    type: Literal["openai"] = "openai"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    api_key_env: str | None = None  # read the key from this environment variable instead
    auth_header: Literal["authorization", "api-key"] = "authorization"  # Azure uses "api-key"
    query_params: dict[str, str] = {}  # e.g. {"api-version": "2024-10-21"} for Azure
    headers: dict[str, str] = {}

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return None


class OpenAIProvider(HttpProvider):
    type_name: ClassVar[str] = "openai"
    config_class: ClassVar[type[ProviderConfigBase]] = OpenAIProviderConfig
    config: OpenAIProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, OpenAIProviderConfig)
        base = URL(config.base_url.rstrip("/"))
        self._chat_url = base.joinpath("chat/completions").with_query(config.query_params)
        self._embeddings_url = base.joinpath("embeddings").with_query(config.query_params)
        self._models_url = base.joinpath("models").with_query(config.query_params)
        headers = {"content-type": "application/json", "accept": "application/json", **config.headers}
        key = config.resolved_api_key()
        if key:
            if config.auth_header == "api-key":
                headers["api-key"] = key
            else:
                headers["authorization"] = f"Bearer {key}"
        super().__init__(config, headers)

    def get_capabilities(self) -> Capabilities:
        return Capabilities(
            tasks=frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS}), streaming=True, models=self.config.models
        )

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        if isinstance(request, EmbeddingRequest):
            body = {**request.params, "model": request.model, "input": request.input}
            return await self._call_json(self.task_url(TaskKind.EMBEDDINGS, request.model), body)
        body = _chat_body(request)
        url = self.task_url(TaskKind.CHAT, request.model)
        if request.stream:
            return await self._open_stream(url, body)
        return await self._call_json(url, body)

    def task_url(self, kind: TaskKind, model: str) -> URL:
        """Where a task of `kind` for `model` is posted; a subclass may have one URL per model (Azure)."""
        return self._embeddings_url if kind is TaskKind.EMBEDDINGS else self._chat_url

    async def list_models(self) -> list[str]:
        if self.config.models:
            return list(self.config.models)
        return await self.upstream_models(self._models_url)

    async def _call_json(self, url: URL, body: dict[str, Any]) -> AIResponse:
        parsed = await self._transport.post_json(url, body)
        if "error" in parsed:
            raise ProviderResponseError("the body is not an OpenAI response object", provider=self.name)
        return AIResponse(
            body=parsed,
            usage=Usage.from_openai(parsed.get("usage")),
            model=str(parsed.get("model") or body.get("model")),
        )

    async def _open_stream(self, url: URL, body: dict[str, Any]) -> ChatStream:
        opened = await self._transport.open_sse(url, body)
        return ChatStream(self._events(opened), close=opened.release)

    async def _events(self, opened: OpenedStream) -> AsyncIterator[dict[str, Any]]:
        async for _name, payload in opened.events():
            if payload == b"[DONE]":
                return
            event = self._transport.parse_json(payload, "a stream event")
            if "error" in event:
                raise ProviderStatusError(500, event, provider=self.name)
            yield event


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

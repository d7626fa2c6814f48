"""Anthropic: the Messages API (`POST {base_url}/v1/messages`), chat only.

The key from `api_key_env` (default ANTHROPIC_API_KEY) goes in `x-api-key`, the API version in
`anthropic-version` (default 2023-06-01, the version Anthropic's SDKs send), extra `headers` (e.g.
`anthropic-beta`) as configured. The translation lives in `anthropic_request` (OpenAI request →
Messages request), `anthropic_answer` (message, usage, stop reasons, errors → OpenAI) and
`anthropic_stream` (events → chunks); the HTTP exchange (bounds, deadlines, failures) in
`http_transport`. Anthropic serves no embeddings: the capabilities say chat only, so the router
never sends them here.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from pydantic import Field
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import ProviderConnectionError, ProviderStatusError
from aigw.providers import anthropic_answer as answers
from aigw.providers.anthropic_request import AnthropicRefusal, messages_body
from aigw.providers.anthropic_stream import StreamTranslator
from aigw.providers.http_provider import HttpProvider, HttpProviderConfig
from aigw.providers.http_transport import OpenedStream
from aigw.types import AIRequest, AIResponse, Capabilities, ChatStream, EmbeddingRequest, TaskKind, Usage


class AnthropicProviderConfig(HttpProviderConfig):
    type: Literal["anthropic"] = "anthropic"
    base_url: str = "https://api.anthropic.com"
    api_key_env: str | None = "ANTHROPIC_API_KEY"
    anthropic_version: str = Field("2023-06-01", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    max_tokens_default: int = Field(4096, ge=1)  # Anthropic requires max_tokens; OpenAI callers often omit it
    headers: dict[str, str] = {}

    def request_headers(self) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "anthropic-version": self.anthropic_version,
            **self.headers,
        }
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["x-api-key"] = key
        return headers


class AnthropicProvider(HttpProvider):
    type_name: ClassVar[str] = "anthropic"
    config_class: ClassVar[type[ProviderConfigBase]] = AnthropicProviderConfig
    config: AnthropicProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, AnthropicProviderConfig)
        super().__init__(config, config.request_headers())
        base = URL(config.base_url.rstrip("/"))
        self._messages_url = base.joinpath("v1/messages")
        self._models_url = base.joinpath("v1/models")

    def get_capabilities(self) -> Capabilities:
        return Capabilities(tasks=frozenset({TaskKind.CHAT}), streaming=True, models=self.config.models)

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        if isinstance(request, EmbeddingRequest):
            raise self._refusal(AnthropicRefusal("Anthropic serves no embeddings", "model"))
        try:
            body = messages_body(request.model, request.messages, request.params, self.config.max_tokens_default)
        except AnthropicRefusal as exc:
            raise self._refusal(exc) from None
        if request.stream:
            body["stream"] = True
            return await self._stream(request.model, body)
        try:
            answer = await self._transport.post_json(self._messages_url, body)
        except ProviderStatusError as exc:
            raise answers.error_from(exc) from None
        completion = answers.completion(answer, request.model, self.name, int(time.time()))
        return AIResponse(body=completion, usage=Usage.from_openai(completion.get("usage")), model=completion["model"])

    async def list_models(self) -> list[str]:
        if self.config.models:
            return list(self.config.models)
        return await self.upstream_models(self._models_url)

    async def _stream(self, model: str, body: dict[str, Any]) -> ChatStream:
        try:
            opened = await self._transport.open_sse(self._messages_url, body)
        except ProviderStatusError as exc:
            raise answers.error_from(exc) from None
        translator = StreamTranslator(model, self.name, int(time.time()))
        return ChatStream(self._chunks(opened, translator), close=opened.release)

    async def _chunks(self, opened: OpenedStream, translator: StreamTranslator) -> AsyncIterator[dict[str, Any]]:
        async for _name, payload in opened.events():
            # The payload's `type` names the event as the `event:` field does; it is what is read.
            for chunk in translator.chunks(self._transport.parse_json(payload, "a stream event")):
                yield chunk
            if translator.complete:
                return
        raise ProviderConnectionError("stream broken: it ended before message_stop", provider=self.name)

    def _refusal(self, exc: AnthropicRefusal) -> ProviderStatusError:
        body = {
            "error": {
                "message": exc.message,
                "type": "invalid_request_error",
                "param": exc.param,
                "code": "unsupported",
            }
        }
        return ProviderStatusError(400, body, provider=self.name)

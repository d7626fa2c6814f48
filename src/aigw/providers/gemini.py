"""Google Gemini: AI Studio (the Gemini API) and Vertex AI, `api: studio|vertex` in the config.

Both speak the same GenerateContent JSON; they differ in the URL and the credential:
- studio: `{base_url}/models/{model}:generateContent` (`:streamGenerateContent?alt=sse`,
  `:batchEmbedContents`), the key from `api_key_env` (default GEMINI_API_KEY) in `x-goog-api-key`;
- vertex: `{base_url}/projects/{project}/locations/{location}/publishers/google/models/{model}:...`
  (embeddings through `:predict`), base URL `https://{location}-aiplatform.googleapis.com/v1`
  (`aiplatform.googleapis.com` for the `global` location), an OAuth access token from
  `access_token_env` as a bearer token. The token is read once at start: tokens from
  `gcloud auth print-access-token` last an hour, so a long-lived gateway needs a reload.

The translation lives in `gemini_request`, `gemini_answer` and `gemini_stream`; the HTTP exchange
(bounds, deadlines, error translation) in `http_transport`. The model name is part of the URL path,
so it must be a plain model id (letters, digits, `.`, `_`, `-`): anything else is a 400, never a
path the caller chose.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import ProviderStatusError, unsupported_request
from aigw.providers import gemini_answer as answers
from aigw.providers.gemini_request import (
    GeminiRefusal,
    chat_body,
    embedding_texts,
    studio_embeddings_body,
    vertex_embeddings_body,
)
from aigw.providers.gemini_stream import StreamTranslator
from aigw.providers.http_provider import HttpProvider, HttpProviderConfig
from aigw.providers.http_transport import OpenedStream
from aigw.types import AIRequest, AIResponse, Capabilities, ChatRequest, ChatStream, EmbeddingRequest, TaskKind, Usage

STUDIO_URL = "https://generativelanguage.googleapis.com/v1beta"
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_GOOGLE_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


class GeminiProviderConfig(HttpProviderConfig):
    type: Literal["gemini"] = "gemini"
    api: Literal["studio", "vertex"] = "studio"
    base_url: str | None = None  # default: AI Studio's, or Vertex AI's for `location`
    api_key_env: str | None = "GEMINI_API_KEY"  # studio: sent as x-goog-api-key
    access_token_env: str | None = None  # vertex: an OAuth access token, sent as a bearer token
    project: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{4,29}$")  # vertex
    location: str = Field("us-central1", pattern=_GOOGLE_ID)  # vertex

    @model_validator(mode="after")
    def _vertex_needs_a_project(self) -> GeminiProviderConfig:
        if self.api == "vertex" and self.project is None:
            raise ValueError("api: vertex needs `project`")
        return self

    def models_url(self) -> str:
        """The URL under which `{model}:{method}` is appended."""
        if self.api == "studio":
            return f"{(self.base_url or STUDIO_URL).rstrip('/')}/models"
        host = (
            "aiplatform.googleapis.com" if self.location == "global" else f"{self.location}-aiplatform.googleapis.com"
        )
        base = (self.base_url or f"https://{host}/v1").rstrip("/")
        return f"{base}/projects/{self.project}/locations/{self.location}/publishers/google/models"

    def auth_headers(self) -> dict[str, str]:
        if self.api == "studio":
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            return {"x-goog-api-key": key} if key else {}
        token = os.environ.get(self.access_token_env) if self.access_token_env else None
        return {"authorization": f"Bearer {token}"} if token else {}


class GeminiProvider(HttpProvider):
    type_name: ClassVar[str] = "gemini"
    config_class: ClassVar[type[ProviderConfigBase]] = GeminiProviderConfig
    config: GeminiProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, GeminiProviderConfig)
        self._models_url = config.models_url()
        super().__init__(
            config, {"content-type": "application/json", "accept": "application/json", **config.auth_headers()}
        )

    def get_capabilities(self) -> Capabilities:
        return Capabilities(
            tasks=frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS}), streaming=True, models=self.config.models
        )

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        try:
            if isinstance(request, EmbeddingRequest):
                return await self._embed(request)
            body = chat_body(request.messages, request.params)
            url = self._url(request.model, "streamGenerateContent" if request.stream else "generateContent")
        except GeminiRefusal as exc:
            raise self._refusal(exc) from None
        if request.stream:
            return await self._stream(request, url.with_query(alt="sse"), body)
        answer = await self._post(url, body)
        completion = answers.completion(answer, request.model, self.name, int(time.time()))
        return AIResponse(body=completion, usage=Usage.from_openai(completion.get("usage")), model=completion["model"])

    async def _embed(self, request: EmbeddingRequest) -> AIResponse:
        texts = embedding_texts(request.input)
        if self.config.api == "studio":
            url = self._url(request.model, "batchEmbedContents")
            answer = await self._post(url, studio_embeddings_body(_model_id(request.model), texts, request.params))
            vectors, tokens = answers.studio_vectors(answer, self.name)
        else:
            url = self._url(request.model, "predict")
            answer = await self._post(url, vertex_embeddings_body(texts, request.params))
            vectors, tokens = answers.vertex_vectors(answer, self.name)
        body = answers.embeddings(vectors, request.model, tokens, request.params.get("encoding_format"))
        return AIResponse(body=body, usage=Usage.from_openai(body.get("usage")), model=request.model)

    async def _stream(self, request: ChatRequest, url: URL, body: dict[str, Any]) -> ChatStream:
        try:
            opened = await self._transport.open_sse(url, body)
        except ProviderStatusError as exc:
            raise answers.error_from(exc) from None
        translator = StreamTranslator(request.model, self.name, int(time.time()))
        return ChatStream(self._chunks(opened, translator), close=opened.release)

    async def _chunks(self, opened: OpenedStream, translator: StreamTranslator) -> AsyncIterator[dict[str, Any]]:
        async for _name, payload in opened.events():
            event = self._transport.parse_json(payload, "a stream event")
            if "error" in event:
                status = event["error"].get("code") if isinstance(event["error"], dict) else None
                status = status if isinstance(status, int) and 400 <= status <= 599 else 500
                raise answers.error_from(ProviderStatusError(status, event, provider=self.name))
            for chunk in translator.chunks(event):
                yield chunk
        final = translator.final()
        if final is not None:
            yield final

    async def _post(self, url: URL, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._transport.post_json(url, body)
        except ProviderStatusError as exc:
            raise answers.error_from(exc) from None

    def _url(self, model: str, method: str) -> URL:
        return URL(f"{self._models_url}/{_model_id(model)}:{method}")

    def _refusal(self, exc: GeminiRefusal) -> ProviderStatusError:
        return unsupported_request(exc.message, param=exc.param, provider=self.name)


def _model_id(model: str) -> str:
    """The model id that goes into the URL path, or a refusal (see the module docstring)."""
    bare = model.removeprefix("models/")
    if not _MODEL_ID.fullmatch(bare):
        raise GeminiRefusal("the model name must be a Gemini model id (letters, digits, '.', '_', '-')", "model")
    return bare

"""Amazon Bedrock: the Converse API (`POST {base_url}/model/{modelId}/converse`) and ConverseStream
(`.../converse-stream`, binary `application/vnd.amazon.eventstream` framing), chat only.

- `region` (default `AWS_REGION`, else `AWS_DEFAULT_REGION`) names the endpoint,
  `https://bedrock-runtime.{region}.amazonaws.com` (`.com.cn` in China's regions) unless `base_url`
  says otherwise (a VPC endpoint, a proxy), and the SigV4 scope.
- Credentials and signing live in `bedrock_auth` (botocore's standard chain or the `*_env`
  fields, resolved off the event loop, refreshed before expiry); the translation in
  `bedrock_request`, `bedrock_answer` and `bedrock_stream`; the HTTP exchange (bounds, deadlines,
  failures) in `http_transport`, whose error answers are read here for AWS's `x-amzn-ErrorType`.
- The model id (a model, an inference profile such as `us.anthropic.claude-...-v1:0`, or an ARN)
  goes percent-encoded into the path, `:` and `/` included, as botocore sends it; it must be made
  of the characters Bedrock's ids use (letters, digits, `.`, `_`, `:`, `/`, `-`), else a 400.
- botocore (the `bedrock` extra) is imported by `bedrock_auth` and `bedrock_stream` when a Bedrock
  provider starts or streams, never by this module: the registry imports every provider module.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import aiohttp
import orjson
from pydantic import Field, model_validator
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import ProviderConnectionError, ProviderStatusError, unsupported_request
from aigw.providers import bedrock_answer as answers
from aigw.providers.bedrock_auth import CredentialCache, CredentialSource, sign
from aigw.providers.bedrock_request import BedrockRefusal, converse_body
from aigw.providers.bedrock_stream import EventStreamDecoder, StreamTranslator
from aigw.providers.http_provider import HttpProvider, HttpProviderConfig
from aigw.providers.http_transport import HttpTransport, OpenedStream
from aigw.types import AIRequest, AIResponse, Capabilities, ChatStream, EmbeddingRequest, TaskKind, Usage

EVENT_STREAM = "application/vnd.amazon.eventstream"
_REGION = r"^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$"
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,2047}")


class BedrockProviderConfig(HttpProviderConfig):
    type: Literal["bedrock"] = "bedrock"
    region: str = Field(pattern=_REGION)
    base_url: str | None = None  # default: the region's bedrock-runtime endpoint
    profile: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@+-]{1,64}$")  # a shared-config profile
    access_key_id_env: str | None = None  # static keys instead of the default chain: all from env
    secret_access_key_env: str | None = None
    session_token_env: str | None = None
    instance_metadata: bool = True  # let the chain ask EC2's instance metadata (1 attempt, 1 s)

    @model_validator(mode="before")
    @classmethod
    def _region_from_environment(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("region") is None:
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise ValueError("type bedrock needs `region` (or AWS_REGION / AWS_DEFAULT_REGION set)")
            raw = {**raw, "region": region}
        return raw

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> BedrockProviderConfig:
        if (self.access_key_id_env is None) != (self.secret_access_key_env is None):
            raise ValueError("access_key_id_env and secret_access_key_env go together")
        if self.session_token_env is not None and self.access_key_id_env is None:
            raise ValueError("session_token_env needs access_key_id_env and secret_access_key_env")
        return self

    def endpoint(self) -> str:
        domain = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"  # China's partition
        return (self.base_url or f"https://bedrock-runtime.{self.region}.{domain}").rstrip("/")

    def credential_source(self) -> CredentialSource:
        return CredentialSource(
            access_key_id_env=self.access_key_id_env,
            secret_access_key_env=self.secret_access_key_env,
            session_token_env=self.session_token_env,
            profile=self.profile,
            instance_metadata=self.instance_metadata,
        )


class BedrockTransport(HttpTransport):
    """The shared transport, with AWS's error answers read for their name (`x-amzn-ErrorType`)."""

    async def _status_error(self, resp: aiohttp.ClientResponse) -> ProviderStatusError:
        plain = await super()._status_error(resp)
        code = answers.error_code(resp.headers.get("x-amzn-errortype"), plain.body)
        return answers.status_error(plain.status, code, plain.body, self.provider, plain.retry_after)


class BedrockProvider(HttpProvider):
    type_name: ClassVar[str] = "bedrock"
    config_class: ClassVar[type[ProviderConfigBase]] = BedrockProviderConfig
    config: BedrockProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, BedrockProviderConfig)
        headers = {"accept": "application/json"}
        super().__init__(config, headers)
        self._transport = BedrockTransport(self.name, config.transport_limits(), headers)
        self._endpoint = config.endpoint()
        self._credentials = CredentialCache(config.credential_source().resolve, self.name)

    async def start(self) -> None:
        await super().start()
        await self._credentials.start()

    async def close(self) -> None:
        await self._credentials.close()
        await super().close()

    def get_capabilities(self) -> Capabilities:
        return Capabilities(tasks=frozenset({TaskKind.CHAT}), streaming=True, models=self.config.models)

    async def list_models(self) -> list[str]:
        return list(self.config.models)  # the model list is on Bedrock's control plane, not the runtime

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        try:
            if isinstance(request, EmbeddingRequest):
                raise BedrockRefusal("this Bedrock provider serves chat (the Converse API) only", "model")
            model = _model_id(request.model)
            body = orjson.dumps(converse_body(request.messages, request.params))
        except BedrockRefusal as exc:
            raise unsupported_request(exc.message, param=exc.param, provider=self.name) from None
        url = self._url(model, request.stream)
        credentials = await self._credentials.current()
        headers = sign(credentials, self.config.region, str(url), body, {"content-type": "application/json"})
        try:
            if request.stream:
                opened = await self._transport.open_stream(
                    url, body, {**headers, "accept": EVENT_STREAM}, content_type=EVENT_STREAM
                )
                return self._stream(opened, request.model)
            answer = await self._transport.post_json(url, body, headers)
        except ProviderStatusError as exc:
            error = exc.body.get("error") if exc.body else None
            if isinstance(error, dict) and error.get("code") == answers.EXPIRED_TOKEN:
                self._credentials.expired()
            raise
        completion = answers.completion(answer, request.model, self.name, int(time.time()))
        return AIResponse(body=completion, usage=Usage.from_openai(completion.get("usage")), model=request.model)

    def _url(self, model: str, stream: bool) -> URL:
        operation = "converse-stream" if stream else "converse"
        return URL(f"{self._endpoint}/model/{quote(model, safe='')}/{operation}", encoded=True)

    def _stream(self, opened: OpenedStream, model: str) -> ChatStream:
        translator = StreamTranslator(model, self.name, int(time.time()))
        decoder = EventStreamDecoder(self.config.max_event_bytes, self.name)
        return ChatStream(self._chunks(opened, decoder, translator), close=opened.release)

    async def _chunks(
        self, opened: OpenedStream, decoder: EventStreamDecoder, translator: StreamTranslator
    ) -> AsyncIterator[dict[str, Any]]:
        async for data in opened.chunks():
            for headers, payload in decoder.feed(data):
                for chunk in translator.chunks(headers, payload):
                    yield chunk
                if translator.complete:
                    return
        if not translator.stopped or decoder.pending:
            raise ProviderConnectionError("stream broken: it ended before messageStop", provider=self.name)


def _model_id(model: str) -> str:
    if not _MODEL_ID.fullmatch(model):
        raise BedrockRefusal(
            "the model name must be a Bedrock model id, inference profile or ARN"
            " (letters, digits, '.', '_', ':', '/', '-')",
            "model",
        )
    return model

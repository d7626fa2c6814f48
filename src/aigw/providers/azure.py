"""Azure OpenAI: the OpenAI adapter with Azure's URLs and credentials (the wire format is OpenAI's).

- `base_url` (or `endpoint`): the resource, `https://{resource}.openai.azure.com`.
- Deployments: the gateway's model name is looked up in `deployments` (model -> deployment name);
  a model not listed is its own deployment name. Requests go to
  `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...` (and `/embeddings`).
  With `api_version: v1` they go to Azure's version-less v1 API, `{endpoint}/openai/v1/...`, with
  the deployment name as `model`.
- `api_version` defaults to `2024-10-21`, the latest GA release of the data-plane inference API.
- Credential: the key from `api_key_env` (default AZURE_OPENAI_API_KEY) in the `api-key` header,
  or, with `entra_token_env`, a Microsoft Entra ID access token as a bearer token (read at start;
  tokens last about an hour, so a long-lived gateway reloads).
The deployment name is part of the URL path: it must be a plain name (letters, digits, `.`, `_`,
`-`), else the request is refused with a 400 before anything is sent.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import unsupported_request
from aigw.providers.openai import OpenAIProvider, OpenAIProviderConfig
from aigw.types import AIRequest, AIResponse, ChatStream, TaskKind

DEFAULT_API_VERSION = "2024-10-21"
_DEPLOYMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class AzureProviderConfig(OpenAIProviderConfig):
    type: Literal["azure"] = "azure"  # type: ignore[assignment]
    base_url: str = Field(validation_alias=AliasChoices("base_url", "endpoint"))
    deployments: dict[str, str] = {}
    api_version: str = Field(DEFAULT_API_VERSION, pattern=r"^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$")
    api_key_env: str | None = "AZURE_OPENAI_API_KEY"
    entra_token_env: str | None = None  # a Microsoft Entra ID token, sent as a bearer token
    auth_header: Literal["authorization", "api-key"] = "api-key"

    @model_validator(mode="after")
    def _azure_shape(self) -> AzureProviderConfig:
        bad = [name for name in self.deployments.values() if not _DEPLOYMENT.fullmatch(name)]
        if bad:
            raise ValueError(f"deployment name {bad[0][:64]!r} must be letters, digits, '.', '_' or '-'")
        return self

    def resolved_api_key(self) -> str | None:
        if self.entra_token_env is not None:
            return os.environ.get(self.entra_token_env)
        return super().resolved_api_key()

    def as_openai(self) -> AzureProviderConfig:
        """This config as the OpenAI adapter reads it: the `/openai` base the adapter appends
        `chat/completions` and `embeddings` to, the api-version query, the header to send."""
        versioned = {} if self.api_version == "v1" else {"api-version": self.api_version}
        return self.model_copy(
            update={
                "base_url": self.base_url.rstrip("/") + "/openai" + ("/v1" if self.api_version == "v1" else ""),
                "query_params": {**self.query_params, **versioned},
                "auth_header": "authorization" if self.entra_token_env is not None else self.auth_header,
            }
        )


class AzureProvider(OpenAIProvider):
    type_name: ClassVar[str] = "azure"
    config_class: ClassVar[type[ProviderConfigBase]] = AzureProviderConfig
    config: AzureProviderConfig

    def __init__(self, config: ProviderConfigBase) -> None:
        assert isinstance(config, AzureProviderConfig)
        wire = config.as_openai()
        super().__init__(wire)
        self.config = wire
        self._deployments_url = URL(wire.base_url) / "deployments"

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        deployment = self.deployment_of(request.model)
        return await super().execute_task(dataclasses.replace(request, model=deployment))

    def deployment_of(self, model: str) -> str:
        deployment = self.config.deployments.get(model, model)
        if not _DEPLOYMENT.fullmatch(deployment):
            message = "the model name is not an Azure deployment name (letters, digits, '.', '_', '-')"
            raise unsupported_request(message, param="model", provider=self.name, code="invalid_deployment")
        return deployment

    def task_url(self, kind: TaskKind, model: str) -> URL:
        if self.config.api_version == "v1":
            return super().task_url(kind, model)
        path = "embeddings" if kind is TaskKind.EMBEDDINGS else "chat/completions"
        return (self._deployments_url / model).joinpath(path).with_query(self.config.query_params)

    async def list_models(self) -> list[str]:
        return list(self.config.models or self.config.deployments)

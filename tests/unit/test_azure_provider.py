"""Azure OpenAI as a preset of the OpenAI adapter: config, deployment URLs, api-version, credentials."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aigw.errors import ProviderStatusError, gateway_error_from
from aigw.providers.azure import DEFAULT_API_VERSION, AzureProvider, AzureProviderConfig
from aigw.providers.registry import parse_provider_config
from aigw.types import TaskKind


def provider(**fields: object) -> AzureProvider:
    raw = {"type": "azure", "name": "azure", "endpoint": "https://res.openai.azure.com", **fields}
    config = parse_provider_config(raw)
    assert isinstance(config, AzureProviderConfig)
    return AzureProvider(config)


def test_deployment_urls_carry_the_api_version() -> None:
    azure = provider(deployments={"gpt-4o": "gpt-4o-prod"})
    deployment = azure.deployment_of("gpt-4o")
    assert deployment == "gpt-4o-prod"
    assert str(azure.task_url(TaskKind.CHAT, deployment)) == (
        f"https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version={DEFAULT_API_VERSION}"
    )
    assert str(azure.task_url(TaskKind.EMBEDDINGS, "embed")) == (
        f"https://res.openai.azure.com/openai/deployments/embed/embeddings?api-version={DEFAULT_API_VERSION}"
    )
    assert azure.deployment_of("gpt-4o-mini") == "gpt-4o-mini"  # not listed: the model is the deployment


def test_the_v1_api_has_no_version_and_names_the_deployment_as_model() -> None:
    azure = provider(api_version="v1")
    assert str(azure.task_url(TaskKind.CHAT, "d")) == "https://res.openai.azure.com/openai/v1/chat/completions"


def test_api_key_header_by_default_and_entra_bearer_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k1")
    monkeypatch.setenv("AI_PROVIDER_ENTRA", "t1")
    assert provider()._transport._headers["api-key"] == "k1"
    entra = provider(entra_token_env="AI_PROVIDER_ENTRA")
    assert entra._transport._headers["authorization"] == "Bearer t1"
    assert "api-key" not in entra._transport._headers


@pytest.mark.parametrize(
    "fields",
    [
        {"endpoint": "ftp://res"},
        {"api_version": "latest"},
        {"deployments": {"gpt-4o": "../x"}},
    ],
)
def test_bad_config_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        provider(**fields)


def test_a_model_name_never_chooses_the_path() -> None:
    with pytest.raises(ProviderStatusError) as caught:
        provider().deployment_of("../../admin?x=")
    assert caught.value.status == 400


def test_an_azure_error_body_reaches_the_client_in_openais_shape() -> None:
    azure_body = {"error": {"code": "400", "message": "bad deployment parameter"}}
    relayed = gateway_error_from(ProviderStatusError(400, azure_body, provider="azure")).to_body()
    assert relayed == {
        "error": {"type": "invalid_request_error", "param": None, "code": "400", "message": "bad deployment parameter"}
    }

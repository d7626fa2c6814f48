"""Which environment variables a provider may read (`api_key_env`, any `*_env` field), the http(s)
rule on provider URLs, and the one masking function every configuration view uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aigw.configfile import ConfigError, check_env_name, config_from_mapping, load_config, masked_view
from aigw.control.service import validate_routing
from aigw.masking import looks_secret, mask_entry, mask_secrets, mask_url
from aigw.policy.config import PolicyConfigError
from aigw.providers.openai import OpenAIProviderConfig
from aigw.settings import load_settings

pytestmark = pytest.mark.usefixtures("clean_env")


def routing(**provider: Any) -> dict[str, Any]:
    return {"providers": [{"name": "p", "type": "openai", "base_url": "https://up.example/v1", **provider}]}


@pytest.mark.parametrize(
    "name",
    ["AI_MASTER_KEY", "AI_DATABASE_URL", "AI_REDIS_URL", "ai_master_key", "Ai_Redis_Url", "AI_ALERT_WEBHOOK_URL"],
)
def test_the_gateways_own_settings_are_never_provider_keys(name: str) -> None:
    with pytest.raises(ConfigError, match=r"providers\[0\]\.api_key_env: .*gateway setting"):
        config_from_mapping(routing(api_key_env=name), load_settings(), "routing")


def test_a_wide_prefix_does_not_open_the_gateways_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PROVIDER_ENV_PREFIXES", "AI_,CORP_")
    settings = load_settings()
    assert settings.provider_env_prefixes == ["AI_", "CORP_"]
    assert check_env_name("AI_MASTER_KEY", settings.provider_env_prefixes) is not None
    assert check_env_name("AI_SOMETHING_ELSE", settings.provider_env_prefixes) is None
    assert check_env_name("CORP_LLM_KEY", settings.provider_env_prefixes) is None


@pytest.mark.parametrize("name", ["HOME", "PATH", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL", "SECRET"])
def test_other_variables_are_refused_with_the_rule_in_the_message(name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_mapping(routing(api_key_env=name), load_settings(), "routing")
    assert "AI_PROVIDER_" in str(refused.value) and "AI_PROVIDER_ENV_PREFIXES" in str(refused.value)


@pytest.mark.parametrize("name", ["AI_PROVIDER_OPENAI", "AI_OPENAI_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"])
def test_allowed_names_load_and_resolve(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "sk-upstream-1234")
    config = config_from_mapping(routing(api_key_env=name), load_settings(), "routing")
    provider = config.providers[0]
    assert isinstance(provider, OpenAIProviderConfig)
    assert provider.resolved_api_key() == "sk-upstream-1234"


@pytest.mark.parametrize("name", ["", "A B", "X=Y", "1ABC", "AI_PROVIDER_" + "X" * 200])
def test_malformed_names_are_refused(name: str) -> None:
    assert check_env_name(name, ["AI_PROVIDER_"]) is not None


def test_the_admin_routing_path_refuses_the_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_MASTER_KEY", "sk-master-do-not-send-0123456789abcdef")
    with pytest.raises(PolicyConfigError, match="AI_MASTER_KEY is a gateway setting"):
        validate_routing(routing(api_key_env="AI_MASTER_KEY"), load_settings())


def test_the_yaml_file_gets_the_same_rule(clean_env: Path) -> None:
    path = clean_env / "gw.yaml"
    path.write_text("providers:\n  - {name: p, type: openai, api_key_env: AI_DATABASE_URL}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config file .*providers\[0\]\.api_key_env"):
        load_config(load_settings(config_file=path))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://up.example/v1", "unix:///run/x.sock", "https://", "up.example/v1"]
)
def test_provider_urls_must_be_http_or_https(url: str) -> None:
    with pytest.raises(ConfigError, match="base_url must be an http:// or https:// URL"):
        config_from_mapping(routing(base_url=url), load_settings(), "routing")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("api-key", True),
        ("X-Api-Key", True),
        ("xApiKey", True),
        ("key", True),
        ("sig", True),
        ("code", True),
        ("X-Auth-Token", True),
        ("client_secret", True),
        ("password", True),
        ("Cookie", True),
        ("api_key", True),
        ("api-version", False),
        ("x-request-source", False),
        ("api_key_env", False),
        ("auth_header", False),
        ("monkey", False),
        ("base_url", False),
    ],
)
def test_which_names_are_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_routing_secrets_are_masked_and_the_rest_stays_readable() -> None:
    value = {
        "providers": [
            {
                "name": "azure",
                "type": "openai",
                "base_url": "https://user:pw-in-url@az.example/openai?api-key=qp-in-url&x=1",
                "api_key_env": "AZURE_OPENAI_API_KEY",
                "auth_header": "api-key",
                "headers": {"Authorization": "Bearer hdr-secret", "X-Trace": "visible"},
                "query_params": {"api-version": "2024-10-21", "sig": "sas-signature", "code": "fn-code"},
                "api_key": "sk-inline",
                "max_connections": 10,
            }
        ]
    }
    shown = mask_entry("routing", value)
    text = json.dumps(shown)
    for leak in ("pw-in-url", "qp-in-url", "hdr-secret", "sas-signature", "fn-code", "sk-inline"):
        assert leak not in text
    provider = shown["providers"][0]
    assert provider["headers"] == {"Authorization": "***", "X-Trace": "visible"}
    assert provider["query_params"] == {"api-version": "2024-10-21", "sig": "***", "code": "***"}
    assert provider["base_url"] == "https://user:***@az.example/openai?api-key=***&x=1"
    assert (provider["api_key_env"], provider["auth_header"], provider["max_connections"]) == (
        "AZURE_OPENAI_API_KEY",
        "api-key",
        10,
    )
    assert value["providers"][0]["api_key"] == "sk-inline", "the input is not changed"


def test_counts_named_like_tokens_are_not_masked() -> None:
    assert mask_secrets({"max_prompt_tokens": 100, "tokens": ["t-1"]}) == {"max_prompt_tokens": 100, "tokens": ["***"]}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (None, None),
        ("postgresql://db/aigw", "postgresql://db/aigw"),
        ("postgresql://aigw:p@ss/w0rd@db/aigw", "postgresql://aigw:***@db/aigw"),
        ("https://h.example/hook?token=abc&v=2", "https://h.example/hook?token=***&v=2"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url_forms(url: str | None, shown: str | None) -> None:
    assert mask_url(url) == shown


def test_config_check_masks_headers_and_query_params_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = routing(
        headers={"x-api-key": "hdr-key-1", "x-team": "search"},
        query_params={"api-version": "v1", "key": "qp-key-2"},
        api_key_env="AI_PROVIDER_P",
    )
    settings = load_settings()
    view = masked_view(settings, config_from_mapping(raw, settings, "routing"))
    provider = view["config"]["providers"][0]
    assert provider["headers"] == {"x-api-key": "***", "x-team": "search"}
    assert provider["query_params"] == {"api-version": "v1", "key": "***"}
    assert provider["api_key_env"] == "AI_PROVIDER_P"

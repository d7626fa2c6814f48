"""configfile: YAML and environment-only configurations, their errors, and the masked view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aigw.config import GatewayConfig
from aigw.configfile import ConfigError, config_from_settings, load_config, load_config_file, masked_view
from aigw.providers.openai import OpenAIProviderConfig
from aigw.providers.stub import StubProviderConfig
from aigw.settings import load_settings

pytestmark = pytest.mark.usefixtures("clean_env")

TWO_PROVIDERS = """
providers:
  - type: openai
    name: openai
    base_url: https://api.example.test/v1
    api_key_env: AI_PROVIDER_TEST_UPSTREAM_KEY
    models: [gpt-4o-mini, text-embedding-3-small]
    retry: {max_retries: 1}
  - type: stub
    name: local
    embedding_dim: 32
models:
  smart:
    - {provider: openai, model: gpt-4o-mini}
    - {provider: local, model: stub-chat}
fallback_order: [local, openai]
"""


def write(tmp: Path, text: str) -> Path:
    path = tmp / "aigw.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_with_two_providers_and_an_alias_loads(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PROVIDER_TEST_UPSTREAM_KEY", "sk-from-env-var-9876543210")
    monkeypatch.setenv("AI_OPENAI_TIMEOUT", "12")
    settings = load_settings(config_file=write(clean_env, TWO_PROVIDERS))
    config = load_config(settings)
    openai, local = config.providers
    assert isinstance(openai, OpenAIProviderConfig)
    assert isinstance(local, StubProviderConfig)
    assert (openai.name, local.name) == ("openai", "local")
    assert openai.models == ("gpt-4o-mini", "text-embedding-3-small")
    assert openai.retry.max_retries == 1
    assert local.embedding_dim == 32
    assert openai.timeout == local.timeout == 12.0  # environment defaults fill what the file leaves out
    assert [(d.provider, d.model) for d in config.models["smart"]] == [
        ("openai", "gpt-4o-mini"),
        ("local", "stub-chat"),
    ]
    assert config.fallback_order == ("local", "openai")
    assert config.provider_chain() == ["local", "openai"]
    assert config.default_model == "gpt-4o-mini"  # from AI_OPENAI_MODEL's default
    assert openai.resolved_api_key() == "sk-from-env-var-9876543210"


def test_api_key_env_that_is_unset_resolves_to_none(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AI_PROVIDER_TEST_UPSTREAM_KEY", raising=False)
    config = load_config_file(write(clean_env, TWO_PROVIDERS), load_settings())
    provider = config.providers[0]
    assert isinstance(provider, OpenAIProviderConfig)
    assert provider.resolved_api_key() is None


def test_inline_api_key_wins_over_api_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTHER_KEY", "sk-other")
    config = OpenAIProviderConfig(name="o", api_key="sk-inline-123", api_key_env="OTHER_KEY")  # type: ignore[arg-type]
    assert config.resolved_api_key() == "sk-inline-123"


def test_fallback_order_comes_from_the_environment_when_the_file_has_none(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_FALLBACK_ORDER", "b, a")
    text = "providers:\n  - {type: stub, name: a}\n  - {type: stub, name: b}\n"
    config = load_config_file(write(clean_env, text), load_settings())
    assert config.fallback_order == ("b", "a")
    assert config.provider_chain() == ["b", "a"]
    assert config.provider_chain(fallback_enabled=False) == ["b"]


def test_unknown_provider_type_names_the_entry(clean_env: Path) -> None:
    text = "providers:\n  - {type: stub, name: a}\n  - {type: anthropicx, name: b}\n"
    with pytest.raises(ConfigError) as info:
        load_config_file(write(clean_env, text), load_settings())
    message = str(info.value)
    assert "providers[1]" in message
    assert "anthropicx" in message
    assert "openai" in message and "stub" in message  # the known types are listed


def test_invalid_provider_field_names_the_entry_and_field(clean_env: Path) -> None:
    text = "providers:\n  - {type: stub, name: a, embedding_dim: 0}\n"
    with pytest.raises(ConfigError, match=r"providers\[0\]\.embedding_dim"):
        load_config_file(write(clean_env, text), load_settings())


def test_misspelled_provider_field_is_rejected(clean_env: Path) -> None:
    text = "providers:\n  - {type: openai, name: a, api_kee: sk-x}\n"
    with pytest.raises(ConfigError, match=r"providers\[0\]\.api_kee"):
        load_config_file(write(clean_env, text), load_settings())


def test_alias_naming_an_unknown_provider_is_rejected(clean_env: Path) -> None:
    text = "providers:\n  - {type: stub, name: a}\nmodels:\n  smart:\n    - {provider: nowhere, model: m}\n"
    with pytest.raises(ConfigError, match="nowhere"):
        load_config_file(write(clean_env, text), load_settings())


def test_duplicate_provider_names_are_rejected(clean_env: Path) -> None:
    text = "providers:\n  - {type: stub, name: twin}\n  - {type: openai, name: twin}\n"
    with pytest.raises(ConfigError, match=r"unique.*twin"):
        load_config_file(write(clean_env, text), load_settings())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("providers: []\n", "non-empty list"),
        ("models: {}\n", "non-empty list"),
        ("- just\n- a list\n", "mapping at the top level"),
        ("providers: [\n", "not valid YAML"),
        ("providers:\n  - stub\n", "providers[0]"),
        ("providers:\n  - {type: stub, name: a}\nunknown_key: 1\n", "unknown_key"),
    ],
)
def test_malformed_files_give_a_one_line_reason(clean_env: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_file(write(clean_env, text), load_settings())
    assert fragment in str(info.value)


def test_missing_file_is_a_config_error(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(clean_env / "absent.yaml", load_settings())


def test_env_only_config_without_a_key_serves_the_stub() -> None:
    config = load_config(load_settings())
    (provider,) = config.providers
    assert isinstance(provider, StubProviderConfig)
    assert provider.name == "stub"
    assert config.default_model == "gpt-4o-mini"


def test_env_only_config_with_a_key_serves_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_OPENAI_API_KEY", "sk-env-openai-key-abcdef")
    monkeypatch.setenv("AI_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("AI_OPENAI_MAX_RETRIES", "5")
    monkeypatch.setenv("AI_CIRCUIT_BREAKER_MIN_CALLS", "3")
    config = config_from_settings(load_settings())
    (provider,) = config.providers
    assert isinstance(provider, OpenAIProviderConfig)
    assert provider.name == "openai"
    assert provider.base_url == "http://127.0.0.1:11434/v1"
    assert provider.resolved_api_key() == "sk-env-openai-key-abcdef"
    assert provider.retry.max_retries == 5
    assert provider.breaker.min_calls == 3
    assert config.provider_chain() == ["openai"]


def test_masked_view_hides_every_secret(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "AI_MASTER_KEY": "sk-master-key-f00dfeed-0123456789abcdef",
        "AI_OPENAI_API_KEY": "sk-settings-key-c0ffee00",
        "AI_PROVIDER_TEST_UPSTREAM_KEY": "sk-resolved-from-env-12345",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AI_DATABASE_URL", "postgresql+asyncpg://aigw:pg-Pa55-w0rd@db.internal:5432/aigw")
    monkeypatch.setenv("AI_REDIS_URL", "redis://:r3dis-s3cret@cache:6379/0")
    text = TWO_PROVIDERS.replace(
        "providers:\n",
        "providers:\n  - type: openai\n    name: inline\n    api_key: sk-inline-yaml-key-777\n"
        "    headers: {X-Api-Token: hdr-token-4242}\n",
        1,
    )
    settings = load_settings(config_file=write(clean_env, text))
    config = load_config(settings)
    view = masked_view(settings, config)
    dumped = json.dumps(view)
    for leak in [*secrets.values(), "pg-Pa55-w0rd", "r3dis-s3cret", "sk-inline-yaml-key-777", "hdr-token-4242"]:
        assert leak not in dumped
    assert view["settings"]["master_key"] == "***"
    assert view["settings"]["openai_api_key"] == "***"
    assert view["settings"]["database_url"] == "postgresql+asyncpg://aigw:***@db.internal:5432/aigw"
    assert view["settings"]["redis_url"] == "redis://:***@cache:6379/0"
    inline = view["config"]["providers"][0]
    assert inline["name"] == "inline"
    assert inline["api_key"] == "***"
    assert inline["headers"] == {"X-Api-Token": "***"}
    # Non-secret configuration stays readable.
    assert view["config"]["providers"][1]["api_key_env"] == "AI_PROVIDER_TEST_UPSTREAM_KEY"
    assert view["config"]["providers"][1]["base_url"] == "https://api.example.test/v1"
    assert view["settings"]["openai_model"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (None, None),
        ("postgresql://db/aigw", "postgresql://db/aigw"),
        ("postgresql://aigw@db/aigw", "postgresql://aigw@db/aigw"),
        ("postgresql://aigw:p@ss:w0rd@db/aigw", "postgresql://aigw:***@db/aigw"),
    ],
)
def test_masked_view_database_url_forms(monkeypatch: pytest.MonkeyPatch, url: str | None, shown: str | None) -> None:
    if url is not None:
        monkeypatch.setenv("AI_DATABASE_URL", url)
    settings = load_settings()
    view = masked_view(settings, config_from_settings(settings))
    assert view["settings"]["database_url"] == shown
    assert "w0rd" not in json.dumps(view)


def test_gateway_config_requires_a_provider() -> None:
    with pytest.raises(ValueError, match="providers"):
        GatewayConfig(providers=())

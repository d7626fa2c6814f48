"""OpenAI-compatible families as configuration: the shipped presets table and its expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.configfile import ConfigError, check_env_name, load_config_file
from aigw.providers.openai import OpenAIProvider, OpenAIProviderConfig
from aigw.providers.presets import presets
from aigw.providers.registry import UnknownProviderType, build_provider, parse_provider_config
from aigw.settings import Settings

FAMILIES = ("mistral", "groq", "together", "deepseek", "fireworks", "openrouter", "ollama", "vllm")


def test_every_family_is_in_the_shipped_table_with_an_http_base_url() -> None:
    assert set(FAMILIES) <= set(presets())
    for row in presets().values():
        assert row["base_url"].startswith(("https://", "http://localhost"))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_type_is_the_openai_adapter_with_the_family_defaults(family: str) -> None:
    config = parse_provider_config({"type": family, "name": family})
    assert isinstance(config, OpenAIProviderConfig)
    assert config.base_url == presets()[family]["base_url"]
    assert config.api_key_env == presets()[family].get("api_key_env")
    assert config.models == tuple(presets()[family].get("models", ()))
    assert isinstance(build_provider(config), OpenAIProvider)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_default_key_variable_is_on_the_environment_allow_list(family: str) -> None:
    name = presets()[family].get("api_key_env")
    assert name is None or check_env_name(name, ["AI_PROVIDER_"]) is None


def test_preset_field_on_an_openai_entry_and_the_entrys_own_fields_win() -> None:
    config = parse_provider_config(
        {"type": "openai", "preset": "groq", "name": "fast", "models": ["llama-3.3-70b-versatile"], "timeout": 5}
    )
    assert isinstance(config, OpenAIProviderConfig)
    assert config.base_url == "https://api.groq.com/openai/v1"
    assert (config.models, config.timeout, config.api_key_env) == (("llama-3.3-70b-versatile",), 5, "GROQ_API_KEY")
    local = parse_provider_config({"type": "ollama", "name": "local", "base_url": "http://gpu-box:11434/v1"})
    assert isinstance(local, OpenAIProviderConfig) and local.base_url == "http://gpu-box:11434/v1"


def test_an_unknown_preset_or_type_is_refused_naming_the_presets() -> None:
    with pytest.raises(UnknownProviderType, match=r"unknown preset 'nope'.*mistral"):
        parse_provider_config({"type": "openai", "preset": "nope", "name": "x"})
    with pytest.raises(UnknownProviderType, match=r"known: .*deepseek.*gemini.*openai"):
        parse_provider_config({"type": "nope", "name": "x"})


def test_a_config_file_uses_presets_and_still_checks_the_key_variable(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("providers:\n  - {type: mistral, name: mistral}\n  - {type: deepseek, name: ds}\n")
    config = load_config_file(good, Settings())
    assert [p.name for p in config.providers] == ["mistral", "ds"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  - {type: mistral, name: m, api_key_env: AI_MASTER_KEY}\n")
    with pytest.raises(ConfigError, match="api_key_env: AI_MASTER_KEY is a gateway setting"):
        load_config_file(bad, Settings())

"""Builds the GatewayConfig: from a YAML file (`aigw serve --config FILE`) or from `AI_OPENAI_*`.

Without a file the gateway serves one provider: `openai` (any OpenAI-compatible base URL) when
`AI_OPENAI_API_KEY` is set, else the deterministic `stub`. Breaker and retry settings from the
environment apply to providers that do not set their own.

A provider reads its key from the environment variable its `api_key_env` (any `*_env` field)
names. The routing can be set at run time by whoever holds the master key, and it also chooses
the URL the key is sent to, so the names a provider may read are an allow-list: names starting
with a prefix of `AI_PROVIDER_ENV_PREFIXES` (default `AI_PROVIDER_`) and the usual provider key
names (`PROVIDER_KEY_NAMES`). The gateway's own settings (`AI_MASTER_KEY`, `AI_DATABASE_URL`,
`AI_REDIS_URL` … every `AI_*` setting but `AI_OPENAI_API_KEY`) are refused whatever the prefixes
say. The YAML file and the database's `routing` entry get the same rules, so a file that passes
`aigw config check` can be stored as a routing entry unchanged; `AWS_*` and other cloud
credentials are not on the list: a provider family that needs them names them through the prefix
setting, chosen by the operator.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from aigw.config import BreakerConfig, GatewayConfig, ProviderConfigBase, RetryConfig
from aigw.masking import MASK, mask_secrets, mask_url
from aigw.providers.openai import OpenAIProviderConfig
from aigw.providers.registry import UnknownProviderType, parse_provider_config
from aigw.providers.stub import StubProviderConfig
from aigw.settings import Settings

PROVIDER_KEY_NAMES = frozenset(
    {
        "AI_OPENAI_API_KEY",
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AI_ANTHROPIC_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "MISTRAL_API_KEY",
        "GROQ_API_KEY",
        "TOGETHER_API_KEY",
        "DEEPSEEK_API_KEY",
        "OPENROUTER_API_KEY",
        "FIREWORKS_API_KEY",
        "VLLM_API_KEY",
    }
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class ConfigError(Exception):
    """A configuration that cannot be used, with a one-line reason."""


def gateway_setting_names() -> frozenset[str]:
    """The environment names of the gateway's own settings, which no provider may read."""
    return frozenset(f"AI_{name}".upper() for name in Settings.model_fields) - {"AI_OPENAI_API_KEY"}


def check_env_name(name: str, prefixes: list[str]) -> str | None:
    """Why a provider may not read environment variable `name`, or None when it may."""
    allowed = f"names starting with {' or '.join(p for p in prefixes if p) or '(no prefix set)'}"
    if not _ENV_NAME.fullmatch(name):
        return f"{name[:64]!r} is not an environment variable name"
    # Settings are read case-insensitively: ai_master_key is the master key too.
    if name.upper() in gateway_setting_names():
        return f"{name} is a gateway setting, never a provider key; use {allowed}"
    if name in PROVIDER_KEY_NAMES or any(prefix and name.startswith(prefix) for prefix in prefixes):
        return None
    return f"{name} is not allowed; use {allowed} (AI_PROVIDER_ENV_PREFIXES) or a usual provider key name"


def load_config(settings: Settings) -> GatewayConfig:
    if settings.config_file is not None:
        return load_config_file(settings.config_file, settings)
    return config_from_settings(settings)


def _env_defaults(settings: Settings) -> dict[str, Any]:
    return {
        "timeout": settings.openai_timeout,
        "retry": RetryConfig(
            max_retries=settings.openai_max_retries,
            backoff_base=settings.retry_backoff_base,
            max_delay=settings.retry_max_delay,
        ),
        "breaker": BreakerConfig(
            enabled=settings.circuit_breaker_enabled,
            failure_rate=settings.circuit_breaker_failure_rate,
            min_calls=settings.circuit_breaker_min_calls,
            window=settings.circuit_breaker_window,
            cooldown=settings.circuit_breaker_cooldown,
        ),
    }


def config_from_settings(settings: Settings) -> GatewayConfig:
    provider: ProviderConfigBase
    if settings.openai_api_key is not None:
        provider = OpenAIProviderConfig(
            name="openai",
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            max_connections=settings.openai_max_connections,
            max_body_bytes=settings.max_upstream_body_bytes,
            max_event_bytes=settings.max_upstream_event_bytes,
            **_env_defaults(settings),
        )
    else:
        provider = StubProviderConfig(name="stub", **_env_defaults(settings))
    return GatewayConfig(
        providers=(provider,), fallback_order=tuple(settings.fallback_order), default_model=settings.openai_model
    )


def load_config_file(path: Path, settings: Settings) -> GatewayConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    return config_from_mapping(raw, settings, f"config file {path}")


def config_from_mapping(raw: Any, settings: Settings, where: str) -> GatewayConfig:
    """Providers, model aliases and fallback order from a mapping (a YAML file, or the `routing`
    entry of the database configuration); errors name `where` and the field at fault."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must hold a mapping at the top level")
    raw = dict(raw)
    raw.setdefault("fallback_order", list(settings.fallback_order))
    raw.setdefault("default_model", settings.openai_model)
    entries = raw.get("providers")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: 'providers' must be a non-empty list")
    defaults = {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in _env_defaults(settings).items()}
    providers = []
    for index, entry in enumerate(entries):
        try:
            provider = parse_provider_config({**defaults, **entry} if isinstance(entry, dict) else entry)
        except UnknownProviderType as exc:
            raise ConfigError(f"{where}: providers[{index}]: {exc}") from None
        except ValidationError as exc:
            raise ConfigError(f"{where}: providers[{index}].{_describe(exc)}") from None
        for field, name in provider.env_names().items():
            refused = check_env_name(name, settings.provider_env_prefixes)
            if refused is not None:
                raise ConfigError(f"{where}: providers[{index}].{field}: {refused}")
        providers.append(provider)
    try:
        return GatewayConfig.model_validate({**raw, "providers": providers})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'top level'}: {first['msg']}{more}"


def masked_view(settings: Settings, config: GatewayConfig) -> dict[str, Any]:
    """The effective configuration with every secret replaced by '***' (see `aigw.masking`)."""
    env = settings.model_dump(mode="json")
    for key, value in settings:
        if isinstance(value, SecretStr):
            env[key] = MASK
    env["database_url"] = mask_url(settings.database_url)
    env["redis_url"] = mask_url(settings.redis_url)
    view: dict[str, Any] = mask_secrets({"settings": env, "config": config.model_dump(mode="json")})
    return view

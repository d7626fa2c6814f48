"""Builds the GatewayConfig: from a YAML file (`aigw serve --config FILE`) or from `AI_OPENAI_*`.

Without a file the gateway serves one provider: `openai` (any OpenAI-compatible base URL) when
`AI_OPENAI_API_KEY` is set, else the deterministic `stub`. Breaker and retry settings from the
environment apply to providers that do not set their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from aigw.config import BreakerConfig, GatewayConfig, ProviderConfigBase, RetryConfig
from aigw.providers.openai import OpenAIProviderConfig
from aigw.providers.registry import UnknownProviderType, parse_provider_config
from aigw.providers.stub import StubProviderConfig
from aigw.settings import Settings


class ConfigError(Exception):
    """A configuration that cannot be used, with a one-line reason."""


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
            providers.append(parse_provider_config({**defaults, **entry} if isinstance(entry, dict) else entry))
        except UnknownProviderType as exc:
            raise ConfigError(f"{where}: providers[{index}]: {exc}") from None
        except ValidationError as exc:
            raise ConfigError(f"{where}: providers[{index}].{_describe(exc)}") from None
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
    """The effective configuration with every secret replaced by '***'."""
    env = settings.model_dump(mode="json")
    for key, value in settings:
        if isinstance(value, SecretStr):
            env[key] = "***"
    env["database_url"] = _mask_url(settings.database_url)
    env["redis_url"] = _mask_url(settings.redis_url)
    providers = []
    for provider in config.providers:
        shown = provider.model_dump(mode="json")
        for key, value in provider:
            if isinstance(value, SecretStr):
                shown[key] = "***"
        for key in ("headers", "query_params"):
            if isinstance(shown.get(key), dict):
                shown[key] = dict.fromkeys(shown[key], "***")
        if isinstance(shown.get("base_url"), str):
            shown["base_url"] = _mask_url(shown["base_url"])
        providers.append(shown)
    return {"settings": env, "config": {**config.model_dump(mode="json"), "providers": providers}}


def _mask_url(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"

"""Every configuration value the gateway runs with, and where it comes from.

So that the panel and configuration-as-code never drift silently, each value is shown with its
source, the one that won:
- `runtime`: a database override (`aigw config set`, the admin API), on every replica;
- `environment`: an `AI_*` variable of this process;
- `.env`: the `.env` file (pydantic-settings reads it under the environment);
- `yaml`: the file `AI_CONFIG_FILE` names (providers, model aliases, fallback order);
- `code`: set by the program that built the gateway (the Python API's `load_settings(**...)`);
- `default`: nothing set it.

Which layer set a setting is asked of pydantic-settings' own sources (`EnvSettingsSource`,
`DotEnvSettingsSource`), so the answer follows the same rules (prefix, case, `.env` path) that
loaded it. A value set in several layers also lists the ones it hides (`shadows`): an
`AI_BUDGET_DAILY` that a runtime override replaces is where drift starts. Values pass through
`aigw.masking`: secrets are `***`, URLs lose their passwords.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, SecretStr
from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource

from aigw.config import GatewayConfig
from aigw.masking import MASK, mask_entry
from aigw.policy.config import PolicyConfig, policy_defaults
from aigw.settings import Settings

Source = Literal["runtime", "environment", ".env", "yaml", "code", "default"]
Group = Literal["settings", "policy", "routing"]
LayersOf = Callable[[str, Any], list[Source]]  # a setting's name and value -> the layers that set it
_ROUTING_KEYS = tuple(GatewayConfig.model_fields)
_MAX_CONFIG_FILE_BYTES = 1024 * 1024


class ConfigValue(BaseModel):
    """One value: its name, the group it belongs to, its (masked) value and its source."""

    name: str
    group: Group
    env: str | None  # the environment variable that sets it, if any
    value: Any
    source: Source
    shadows: list[Source] = []


def settings_layers(settings: Settings) -> tuple[set[str], set[str]]:
    """Field names set by the environment and by the `.env` file, as pydantic-settings reads them."""
    from_env = set(EnvSettingsSource(type(settings))())
    from_dotenv = set(DotEnvSettingsSource(type(settings))())
    return from_env, from_dotenv


def config_sources(
    settings: Settings, policy: PolicyConfig, stored: Mapping[str, Any], config: GatewayConfig
) -> list[ConfigValue]:
    """Every setting, policy key and routing key with its effective value and source.
    `stored` holds the database overrides; reads the environment, `.env` and the YAML file
    (blocking: call it in a thread)."""
    from_env, from_dotenv = settings_layers(settings)

    def setting_layers(name: str, value: Any) -> list[Source]:
        found: list[Source] = []
        if name in from_env:
            found.append("environment")
        if name in from_dotenv:
            found.append(".env")
        if not found and value != Settings.model_fields[name].get_default(call_default_factory=True):
            found.append("code")
        return found

    shown = [_setting(name, value, setting_layers(name, value)) for name, value in settings]
    env_backed = policy_defaults(settings)
    for name in PolicyConfig.model_fields:
        layers: list[Source] = ["runtime"] if name in stored else []
        if name in env_backed:
            layers += setting_layers(name, getattr(settings, name))
        shown.append(
            _entry(name, "policy", _env_name(name) if name in env_backed else None, getattr(policy, name), layers)
        )
    shown += _routing(settings, stored, config, setting_layers)
    return shown


def _routing(
    settings: Settings, stored: Mapping[str, Any], config: GatewayConfig, setting_layers: LayersOf
) -> list[ConfigValue]:
    """Providers, aliases and order: a stored `routing` entry, else the YAML file, else the environment."""
    in_file = _file_keys(settings.config_file)
    inherited = {"fallback_order": "fallback_order", "default_model": "openai_model"}
    shown = []
    for name in _ROUTING_KEYS:
        layers: list[Source] = []
        if stored.get("routing") is not None and name in stored["routing"]:
            layers.append("runtime")
        if name in in_file:
            layers.append("yaml")
        if name in inherited:
            layers += setting_layers(inherited[name], getattr(settings, inherited[name]))
        elif name == "providers" and settings.config_file is None and settings.openai_api_key is not None:
            layers += setting_layers("openai_api_key", settings.openai_api_key)
        value = getattr(config, name)
        dumped = [p.model_dump(mode="json") for p in value] if name == "providers" else _plain(value)
        shown.append(_entry(name, "routing", None, dumped, layers))
    return shown


def _file_keys(path: Path | None) -> set[str]:
    if path is None:
        return set()
    try:
        with path.open("rb") as handle:
            raw = yaml.safe_load(handle.read(_MAX_CONFIG_FILE_BYTES))
    except (OSError, yaml.YAMLError):
        return set()
    return {str(key) for key in raw} if isinstance(raw, dict) else set()


def _setting(name: str, value: Any, layers: list[Source]) -> ConfigValue:
    return _entry(name, "settings", _env_name(name), value, layers)


def _entry(name: str, group: Group, env: str | None, value: Any, layers: list[Source]) -> ConfigValue:
    source: Source = layers[0] if layers else "default"
    return ConfigValue(name=name, group=group, env=env, value=_masked(name, value), source=source, shadows=layers[1:])


def _masked(name: str, value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    return mask_entry(name, _plain(value))


def _plain(value: Any) -> Any:
    """A JSON-able copy: paths and other objects as text, tuples as lists, models dumped."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _env_name(name: str) -> str:
    return f"AI_{name.upper()}"

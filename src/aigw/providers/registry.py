"""Provider registry: maps a config `type` to its provider class. Adding a provider is adding a module.

Every module in `aigw.providers` that defines an `AIProvider` subclass with a `type_name` is found
by `discover()`; nothing else in the code names provider types.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from aigw.config import ProviderConfigBase
from aigw.providers.base import AIProvider
from aigw.providers.presets import UnknownPreset, expand_preset, presets

_INFRASTRUCTURE = {"base", "registry"}


class UnknownProviderType(ValueError):
    pass


def discover() -> dict[str, type[AIProvider]]:
    """Import every provider module once and return the provider classes by type name."""
    package = importlib.import_module("aigw.providers")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"aigw.providers.{module.name}")
    found: dict[str, type[AIProvider]] = {}
    pending = list(AIProvider.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "type_name" in cls.__dict__:
            found[cls.type_name] = cls
    return found


def parse_provider_config(raw: Any) -> ProviderConfigBase:
    """Validate one provider entry with the config class its `type` names."""
    if not isinstance(raw, dict):
        raise UnknownProviderType("each provider must be a mapping with a 'type'")
    try:
        raw = expand_preset(raw)  # `type: mistral` ... : the OpenAI adapter with the family's defaults
    except UnknownPreset as exc:
        raise UnknownProviderType(str(exc)) from None
    types = discover()
    kind = raw.get("type")
    if kind not in types:
        known = ", ".join(sorted([*types, *presets()]))
        raise UnknownProviderType(f"unknown provider type {str(kind)[:40]!r}; known: {known}")
    return types[kind].config_class.model_validate(raw)


def build_provider(config: ProviderConfigBase) -> AIProvider:
    return discover()[config.type](config)

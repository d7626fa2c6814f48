"""Feature flags: the environment gives defaults, the database overrides, every replica agrees."""

from __future__ import annotations

from collections.abc import Mapping

KNOWN_FLAGS: dict[str, str] = {
    "ai_enabled": "master switch: off refuses every provider call (the kill switch)",
    "chat_enabled": "chat completions",
    "embeddings_enabled": "embeddings",
}


class Flags:
    """An immutable view: replaced, never mutated, when the database changes."""

    def __init__(self, defaults: Mapping[str, bool], overrides: Mapping[str, bool] | None = None) -> None:
        self._values = {**defaults, **(overrides or {})}
        self.overrides = dict(overrides or {})

    def enabled(self, name: str, default: bool = True) -> bool:
        return self._values.get(name, default)

    def as_dict(self) -> dict[str, bool]:
        return {name: self.enabled(name) for name in {*KNOWN_FLAGS, *self._values}}

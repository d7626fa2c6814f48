"""OpenAI-compatible families (Mistral, Groq, Together, DeepSeek, Fireworks, OpenRouter, Ollama,
vLLM) as configuration: no code per family.

A provider entry `type: mistral`, or `type: openai` with `preset: mistral`, is the OpenAI adapter
with the defaults of the shipped table `presets.yaml` (base URL, key variable, known models); every
field the entry gives wins over the table's. The registry expands an entry before validating it, so
the result is an ordinary `openai` config and every check (URL schemes, the environment allow-list)
applies unchanged. Adding a family is adding rows to the table.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

PRESETS_FILE = Path(__file__).with_name("presets.yaml")
_FIELDS = frozenset({"base_url", "api_key_env", "auth_header", "models", "headers", "query_params"})


class UnknownPreset(ValueError):
    pass


@functools.cache
def presets() -> dict[str, dict[str, Any]]:
    """The shipped table, read once; a malformed row is a packaging bug and fails loudly."""
    table = yaml.safe_load(PRESETS_FILE.read_text(encoding="utf-8"))
    for name, row in table.items():
        unknown = set(row) - _FIELDS
        if unknown:
            raise ValueError(f"presets.yaml: {name} has unknown fields {sorted(unknown)}")
    return {name: {k: v for k, v in row.items() if v is not None} for name, row in table.items()}


def expand_preset(raw: dict[str, Any]) -> dict[str, Any]:
    """A provider entry with its preset's defaults filled in and `type: openai`; entries of other
    types pass unchanged."""
    kind = raw.get("type")
    name = raw.get("preset") if kind == "openai" else kind
    if name is None or (kind != "openai" and name not in presets()):
        return raw
    if not isinstance(name, str) or name not in presets():
        raise UnknownPreset(f"unknown preset {str(name)[:40]!r}; known: {', '.join(sorted(presets()))}")
    given = {k: v for k, v in raw.items() if k != "preset"}
    return {**presets()[name], **given, "type": "openai"}

"""The PII policy applied to a request's texts: chat messages of every role, tool calls, embeddings
input, and the parameters that carry text.

What is masked: string `content` and the `text` of text parts (any role), `refusal` texts, and the
`arguments` of `tool_calls` / `function_call` (as JSON, so they stay valid JSON). What is not:
`name` fields, tool call ids, image/audio/file parts.

Parameters (`apply_to_params`) are declared, not guessed: `SCHEMA_PARAMS` (tools, functions,
response_format) have their annotations masked (`description`, `title`, `$comment`, `examples`,
`default`, `const`, `enum`) but never names, types or patterns, which are the contract with the
caller's code; `TEXT_PARAMS` (`metadata`, `prediction`, `stop`, `user`, `safety_identifier`) have
every string masked. Decision on `user`: it is an identifier the caller chose and usually opaque,
so it passes unchanged, but when it *is* an e-mail address or a phone number (which OpenAI asks
callers not to send) it is masked like any text. Every other parameter is a number, an enum, a
switch or a name (`model`, `temperature`, `tool_choice`, `logit_bias`, `seed` ...) and goes as is.
Cost: 0.08 ms per KiB of parameters (p50, 20 tools with described parameters, 23 KiB of JSON), of
which the scan itself is 0.05; a request without such parameters pays a few microseconds.

What is looked for is a set of type names (`AI_PII_ENTITIES`, a key's or the policy's
`pii_entities`); `detector_for` gives the detector of a set, built once per set and shared.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from aigw.context.pii.detector import DEFAULT_DETECTOR, PIIDetector
from aigw.context.pii.findings import ENTITY_TYPES, STRUCTURED_TYPES, PIIType
from aigw.context.pii.masker import Masker
from aigw.errors import InvalidRequestError
from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth, value_exceeds_depth

_T = TypeVar("_T")
_TEXT_PARTS = {"text": "text", "refusal": "refusal"}  # part type -> field holding its text
SCHEMA_PARAMS = frozenset({"tools", "functions", "response_format"})
TEXT_PARAMS = frozenset({"metadata", "prediction", "stop", "user", "safety_identifier"})
# Keywords whose values are written for people (JSON Schema annotations and tools' descriptions).
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default", "const", "enum"})


class PIIMode(enum.StrEnum):
    """`mask` (default): placeholders go upstream and stay in the answer. `restore`: the same on the
    way out, and the caller puts the originals back into the answer (`Masker.restore`,
    `StreamRestorer`). `block`: a request with any finding is refused. `off`: nothing is done."""

    MASK = "mask"
    RESTORE = "restore"
    BLOCK = "block"
    OFF = "off"


@functools.lru_cache(maxsize=64)
def detector_for(types: frozenset[str]) -> PIIDetector:
    """The detector looking for `types` (`PIIType` values, already validated by the settings): the
    default one for the structured types, else one with those types and the entities among them."""
    kinds = frozenset(PIIType(name) for name in types)
    if kinds == STRUCTURED_TYPES:
        return DEFAULT_DETECTOR
    entities = frozenset(kind.value for kind in kinds & ENTITY_TYPES)
    return PIIDetector(types=kinds, entities=entities)


def wants_entities(types: frozenset[str]) -> bool:
    """Whether `types` asks for names or addresses (which may need the model loaded)."""
    return any(kind.value in types for kind in ENTITY_TYPES)


class PIIBlocked(InvalidRequestError):
    """The request holds personal data or secrets and the policy blocks it. Carries counts per type, never values."""

    default_code = "pii_detected"

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = dict(counts)
        found = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.counts.items()))
        super().__init__(f"The request contains personal data or secrets ({found}); the PII policy blocks it.")


def apply_to_chat(
    messages: Sequence[Mapping[str, Any]], masker: Masker, mode: PIIMode = PIIMode.MASK
) -> list[dict[str, Any]]:
    """New chat messages with every text masked: string content and text parts of every role, the
    `arguments` of tool calls (and of the legacy `function_call`). The caller's objects are never
    changed; in `off` mode the messages are shallow copies."""
    if PIIMode(mode) is PIIMode.OFF:
        return [dict(m) for m in messages]
    return _apply(mode, masker, lambda mask: [_message(m, mask) for m in messages])


def apply_to_inputs(inputs: str | Sequence[Any], masker: Masker, mode: PIIMode = PIIMode.MASK) -> str | list[Any]:
    """Embeddings input with every string masked; token arrays pass unchanged."""
    if PIIMode(mode) is PIIMode.OFF:
        return inputs if isinstance(inputs, str) else list(inputs)
    if isinstance(inputs, str):
        return _apply(mode, masker, lambda mask: mask(inputs))
    return _apply(mode, masker, lambda mask: [mask(item) if isinstance(item, str) else item for item in inputs])


def apply_to_params(params: Mapping[str, Any], masker: Masker, mode: PIIMode = PIIMode.MASK) -> dict[str, Any]:
    """The request's parameters with the text they carry masked (see the module's docstring); the
    caller's objects are never changed. A parameter nested deeper than `MAX_JSON_DEPTH` is a 400."""
    declared = [name for name in params if name in SCHEMA_PARAMS or name in TEXT_PARAMS]
    if PIIMode(mode) is PIIMode.OFF or not declared:
        return dict(params)
    for name in declared:
        if value_exceeds_depth(params[name]):
            raise InvalidRequestError(
                f"'{name}' is nested deeper than {MAX_JSON_DEPTH} levels", param=name, code="invalid_value"
            )

    def build(mask: Callable[[str], str]) -> dict[str, Any]:
        out = dict(params)
        for name in declared:
            out[name] = _annotations(params[name], mask) if name in SCHEMA_PARAMS else _masked_json(params[name], mask)
        return out

    return _apply(mode, masker, build)


def mask_json_text(raw: str, mask: Callable[[str], str]) -> str:
    """Masks the string values (and keys) of a JSON document and keeps it valid JSON.

    Integers that are personal data (a card number sent as a number) become placeholder strings.
    Text that is not JSON (a truncated stream), or JSON nested deeper than `MAX_JSON_DEPTH` (which
    `json` and this walk would only parse by recursing past Python's limit), is masked as plain
    text: the scanner never starts a finding inside an escape sequence, and placeholders hold no
    quote or backslash, so JSON stays JSON.
    """
    if text_exceeds_depth(raw):
        return mask(raw)
    try:
        document = json.loads(raw)
    except ValueError:
        return mask(raw)
    changed = False

    def tracked(text: str) -> str:
        nonlocal changed
        masked = mask(text)
        changed = changed or masked != text
        return masked

    masked_document = _masked_json(document, tracked)
    return json.dumps(masked_document, ensure_ascii=False) if changed else raw


def _apply(mode: PIIMode, masker: Masker, build: Callable[[Callable[[str], str]], _T]) -> _T:
    if PIIMode(mode) is PIIMode.BLOCK:
        probe = Masker(masker.detector)
        result = build(probe.mask)
        if probe.counts():
            raise PIIBlocked(probe.counts())
        return result
    return build(masker.mask)


def _message(message: Mapping[str, Any], mask: Callable[[str], str]) -> dict[str, Any]:
    out = dict(message)
    content = message.get("content")
    if isinstance(content, str):
        out["content"] = mask(content)
    elif isinstance(content, list):
        out["content"] = [_part(part, mask) for part in content]
    if isinstance(message.get("refusal"), str):
        out["refusal"] = mask(message["refusal"])
    if isinstance(message.get("tool_calls"), list):
        out["tool_calls"] = [_call(call, mask) for call in message["tool_calls"]]
    if isinstance(message.get("function_call"), Mapping):
        out["function_call"] = _function(message["function_call"], mask)
    return out


def _part(part: Any, mask: Callable[[str], str]) -> Any:
    if not isinstance(part, Mapping):
        return mask(part) if isinstance(part, str) else part
    field = _TEXT_PARTS.get(part.get("type", ""))
    if field is None or not isinstance(part.get(field), str):
        return dict(part)
    return {**part, field: mask(part[field])}


def _call(call: Any, mask: Callable[[str], str]) -> Any:
    if not isinstance(call, Mapping):
        return call
    out = dict(call)
    if isinstance(call.get("function"), Mapping):
        out["function"] = _function(call["function"], mask)
    return out


def _function(function: Mapping[str, Any], mask: Callable[[str], str]) -> dict[str, Any]:
    out = dict(function)
    if isinstance(function.get("arguments"), str):
        out["arguments"] = mask_json_text(function["arguments"], mask)
    return out


def _annotations(value: Any, mask: Callable[[str], str]) -> Any:
    """A schema-like value (tools, JSON Schema) with the strings of its annotation keywords masked."""
    if isinstance(value, list):
        return [_annotations(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _masked_json(item, mask) if key in _ANNOTATIONS else _annotations(item, mask)
        for key, item in value.items()
    }


def _masked_json(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(k): _masked_json(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_json(v, mask) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1_000_000:
        text = str(value)
        masked = mask(text)  # a card number sent as a number becomes a placeholder string
        return value if masked == text else masked
    return value

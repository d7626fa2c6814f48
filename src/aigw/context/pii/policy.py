"""The PII policy applied to a request's texts: chat messages of every role, tool calls, embeddings input.

What is masked: string `content` and the `text` of text parts (any role), `refusal` texts, and the
`arguments` of `tool_calls` / `function_call` (as JSON, so they stay valid JSON). What is not:
`name` fields, tool call ids, image/audio/file parts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from aigw.context.pii.masker import Masker
from aigw.errors import InvalidRequestError

_T = TypeVar("_T")
_TEXT_PARTS = {"text": "text", "refusal": "refusal"}  # part type -> field holding its text


class PIIMode(enum.StrEnum):
    """`mask` (default): placeholders go upstream and stay in the answer. `restore`: the same on the
    way out, and the caller puts the originals back into the answer (`Masker.restore`,
    `StreamRestorer`). `block`: a request with any finding is refused. `off`: nothing is done."""

    MASK = "mask"
    RESTORE = "restore"
    BLOCK = "block"
    OFF = "off"


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


def mask_json_text(raw: str, mask: Callable[[str], str]) -> str:
    """Masks the string values (and keys) of a JSON document and keeps it valid JSON.

    Integers that are personal data (a card number sent as a number) become placeholder strings.
    Text that is not JSON (a truncated stream) is masked as plain text: the scanner never starts a
    finding inside an escape sequence, and placeholders hold no quote or backslash.
    """
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

    masked_document = _mask_json_value(document, tracked)
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


def _mask_json_value(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(k): _mask_json_value(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json_value(v, mask) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1_000_000:
        text = str(value)
        masked = mask(text)  # a card number sent as a number becomes a placeholder string
        return value if masked == text else masked
    return value

"""`restore` mode on the way back: the original values put back into an answer, plain or streamed.

Texts (`content`, `refusal`) get the values as they were; tool-call `arguments` are JSON, so the
values go in JSON-escaped and the arguments stay valid JSON. In a stream each choice's text and
each tool call's arguments has its own `StreamRestorer`, so a placeholder cut across chunks is still
restored; what a restorer holds back is emitted with the choice's finishing chunk, or at the end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aigw.context.pii.masker import Masker, StreamRestorer


def json_escaped(value: str) -> str:
    """`value` as it must appear inside a JSON string."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def restore_answer(body: dict[str, Any], masker: Masker) -> dict[str, Any]:
    """A chat completion body with the originals back in every choice's message (a new dict)."""
    choices = body.get("choices")
    if not masker.mapping or not isinstance(choices, list):
        return body
    return {**body, "choices": [_restore_choice(choice, masker) for choice in choices]}


def _restore_choice(choice: Any, masker: Masker) -> Any:
    if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
        return choice
    message = dict(choice["message"])
    for field in ("content", "refusal"):
        if isinstance(message.get(field), str):
            message[field] = masker.restore(message[field])
    if isinstance(message.get("tool_calls"), list):
        message["tool_calls"] = [_restore_call(call, masker) for call in message["tool_calls"]]
    if isinstance(message.get("function_call"), dict):
        message["function_call"] = _restore_function(message["function_call"], masker)
    return {**choice, "message": message}


def _restore_call(call: Any, masker: Masker) -> Any:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return call
    return {**call, "function": _restore_function(call["function"], masker)}


def _restore_function(function: dict[str, Any], masker: Masker) -> dict[str, Any]:
    if not isinstance(function.get("arguments"), str):
        return function
    return {**function, "arguments": masker.restore(function["arguments"], json_escaped)}


class _ChoiceRestorers:
    """The restorers of one choice: its text fields and each of its tool calls' arguments."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.text: dict[str, StreamRestorer] = {}
        self.calls: dict[Any, StreamRestorer] = {}

    def delta(self, delta: dict[str, Any]) -> dict[str, Any]:
        out = dict(delta)
        for field in ("content", "refusal"):
            if isinstance(delta.get(field), str):
                restorer = self.text.setdefault(field, self.masker.stream_restorer())
                out[field] = restorer.feed(delta[field])
        if isinstance(delta.get("tool_calls"), list):
            out["tool_calls"] = [self._call(call) for call in delta["tool_calls"]]
        return out

    def _call(self, call: Any) -> Any:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("arguments"), str):
            return call
        restorer = self.calls.setdefault(_index(call), self.masker.stream_restorer(json_escaped))
        return {**call, "function": {**function, "arguments": restorer.feed(function["arguments"])}}

    def flush(self) -> dict[str, Any]:
        """What the restorers still hold, as a delta ({} when nothing)."""
        delta: dict[str, Any] = {}
        for field, restorer in self.text.items():
            rest = restorer.flush()
            if rest:
                delta[field] = rest
        calls = [
            {"index": index, "function": {"arguments": rest}}
            for index, restorer in self.calls.items()
            if (rest := restorer.flush())
        ]
        if calls:
            delta["tool_calls"] = calls
        return delta


async def restore_stream(chunks: AsyncIterator[dict[str, Any]], masker: Masker) -> AsyncIterator[dict[str, Any]]:
    """The chunks with the originals back; a held-back tail goes out with its choice's finishing chunk."""
    choices: dict[Any, _ChoiceRestorers] = {}
    last: dict[str, Any] = {}
    async for chunk in chunks:
        last = chunk
        if not isinstance(chunk.get("choices"), list) or not chunk["choices"]:
            yield chunk
            continue
        restored = []
        for choice in chunk["choices"]:
            if not isinstance(choice, dict):
                restored.append(choice)
                continue
            restorers = choices.setdefault(_index(choice), _ChoiceRestorers(masker))
            delta = restorers.delta(choice["delta"]) if isinstance(choice.get("delta"), dict) else {}
            if choice.get("finish_reason"):
                delta = _merge(delta, restorers.flush())
            restored.append({**choice, "delta": delta} if "delta" in choice or delta else choice)
        yield {**chunk, "choices": restored}
    leftovers = [
        {"index": index, "delta": delta, "finish_reason": None}
        for index, restorers in choices.items()
        if (delta := restorers.flush())
    ]
    if leftovers:  # the stream ended without finishing its choices: send what was held back
        yield {k: v for k, v in last.items() if k in ("id", "object", "created", "model")} | {"choices": leftovers}


def _index(item: dict[str, Any]) -> int | str:
    """The `index` of a streamed choice or tool call, as a key: the upstream's value is not trusted
    to be hashable (a list there must not fail the stream)."""
    index = item.get("index", 0)
    return index if isinstance(index, int | str) else 0


def _merge(delta: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    out = dict(delta)
    for field, value in rest.items():
        if field == "tool_calls":
            out["tool_calls"] = [*out.get("tool_calls", []), *value]
        else:
            out[field] = out.get(field, "") + value
    return out

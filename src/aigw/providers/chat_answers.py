"""OpenAI chat answers written from the parts another family's answer was read into (pure, no I/O):
the `chat.completion`, its stream chunks, tool calls and usage. The families' adapters (Anthropic,
Bedrock ...) read their own answers and write them with these, so OpenAI's shape is written once.
"""

from __future__ import annotations

from typing import Any

import orjson


def completion(
    completion_id: str,
    created: int,
    model: str,
    texts: list[str],
    tool_calls: list[dict[str, Any]],
    finish_reason: str,
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    """A one-choice `chat.completion`: the texts joined (null content when only tools were called)."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not tool_calls else None,
        "refusal": None,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A tool call whose `arguments` are the JSON text of the family's input object."""
    return {
        "id": str(call_id or ""),
        "type": "function",
        "function": {
            "name": str(name or ""),
            "arguments": orjson.dumps(arguments if isinstance(arguments, dict) else {}).decode(),
        },
    }


def usage(input_tokens: Any, cache_read: Any, cache_write: Any, output_tokens: Any) -> dict[str, Any]:
    """OpenAI usage for a family that counts cache reads and writes apart from the other input
    tokens: all are input the caller sent, so `prompt_tokens` is their sum and the reads are the
    `cached_tokens` (what OpenAI calls cached). Counts that are not non-negative integers are 0."""
    read = count(cache_read)
    prompt = count(input_tokens) + read + count(cache_write)
    completion_tokens = count(output_tokens)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": read},
    }


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def chunk(envelope: dict[str, Any], delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    """A `chat.completion.chunk` of the one choice; `envelope` holds id, object, created and model."""
    return {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}


def chunk_envelope(completion_id: str, created: int, model: str) -> dict[str, Any]:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

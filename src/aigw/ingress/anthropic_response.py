"""Canonical answers (OpenAI `chat.completion` bodies) and gateway errors as Anthropic's Messages API
writes them.

Decisions:
- Only the first choice is answered: Anthropic has no `n`.
- `finish_reason` maps to `stop_reason`: stop → end_turn, length → max_tokens, tool_calls →
  tool_use, content_filter → refusal. OpenAI does not say which stop sequence ended an answer, so
  `stop_sequence` is always null and a stop on one reads as `end_turn`.
- Usage: Anthropic's `input_tokens` excludes tokens read from the prompt cache, which it reports as
  `cache_read_input_tokens`; OpenAI's `prompt_tokens` includes its `cached_tokens`, so they are split.
- Tool call arguments must be a JSON object (Anthropic's `input`); an upstream that wrote anything
  else answered something this format cannot carry: a 502, not a silently emptied `input`.
- Errors: Anthropic's body (`{"type": "error", "error": {"type", "message"}}`) with the gateway's
  status; the error type follows the status as Anthropic's do (503 and 529 are `overloaded_error`).
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.errors import GatewayError, UpstreamError

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def stop_reason(finish_reason: Any) -> str:
    return STOP_REASONS.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"


def message_id(completion_id: Any) -> str:
    text = completion_id if isinstance(completion_id, str) else "aigw"
    return "msg_" + text.removeprefix("chatcmpl-")


def usage(raw: Any) -> dict[str, int]:
    """Anthropic's usage object from OpenAI's (zeros when the upstream sent none)."""
    if not isinstance(raw, dict):
        return {"input_tokens": 0, "output_tokens": 0}
    prompt, completion = _count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens"))
    details = raw.get("prompt_tokens_details")
    cached = min(_count(details.get("cached_tokens")), prompt) if isinstance(details, dict) else 0
    out = {"input_tokens": prompt - cached, "output_tokens": completion}
    if cached:
        out["cache_read_input_tokens"] = cached
    return out


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def message_from_completion(body: dict[str, Any]) -> dict[str, Any]:
    """The Anthropic `message` for an OpenAI `chat.completion` body."""
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message")
    return {
        "id": message_id(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": content_blocks(message) if isinstance(message, dict) else [],
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": usage(body.get("usage")),
    }


def content_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, str) and text:
        blocks.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id") or "",
                "name": function.get("name") or "",
                "input": tool_input(function.get("arguments")),
            }
        )
    return blocks


def tool_input(arguments: Any) -> dict[str, Any]:
    """A tool call's arguments (OpenAI's JSON text) as Anthropic's `input` object."""
    if arguments is None or arguments == "":
        return {}
    try:
        value = orjson.loads(arguments) if isinstance(arguments, str | bytes) else arguments
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UpstreamError(
            "the upstream wrote tool call arguments that are not a JSON object", code="upstream_bad_response"
        )
    return value


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(error: GatewayError) -> dict[str, Any]:
    """Anthropic's error body for a gateway error (an upstream's own body is not relayed as such)."""
    return {"type": "error", "error": {"type": error_type(error.status), "message": error.message}}

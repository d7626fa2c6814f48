"""Anthropic Messages API answers as OpenAI's: a `message` as a `chat.completion`, its usage, its
stop reason, and Anthropic's error bodies as OpenAI error bodies.

Decisions:
- Text blocks are joined into `message.content`; `tool_use` blocks become `tool_calls` whose
  `arguments` are the JSON text of `input`; thinking blocks are not passed on (OpenAI's chat shape
  has no place for them).
- Stop reasons: `end_turn`, `stop_sequence`, `pause_turn` → `stop`; `max_tokens` and
  `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`; `refusal` →
  `content_filter`.
- Usage: Anthropic counts cache writes and cache reads apart from `input_tokens`; all three are
  input the caller sent, so `prompt_tokens` is their sum and the reads are
  `prompt_tokens_details.cached_tokens` (what OpenAI calls cached).
- Errors keep their HTTP status (529 stays 529: overloaded, retried like a 503) and get OpenAI's
  body shape, Anthropic's error type as the `code`. An `error` event inside a stream carries no
  status: its type gives it.
"""

from __future__ import annotations

from typing import Any

from aigw.errors import ProviderResponseError, ProviderStatusError
from aigw.providers import chat_answers as written

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
STATUS_OF_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_OPENAI_ERROR_TYPES = {
    "invalid_request_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "rate_limit_error": "rate_limit_error",
}
_MAX_ERROR_TYPE_CHARS = 64


def finish_reason(stop_reason: Any) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def completion(answer: dict[str, Any], model: str, provider: str, created: int) -> dict[str, Any]:
    """An OpenAI `chat.completion` for a Messages API `message`."""
    blocks = answer.get("content")
    if answer.get("type") != "message" or not isinstance(blocks, list):
        raise ProviderResponseError("the body is not an Anthropic message", provider=provider)
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use":
            tool_calls.append(tool_call(block))
    return written.completion(
        completion_id(answer.get("id")),
        created,
        str(answer.get("model") or model),
        texts,
        tool_calls,
        finish_reason(answer.get("stop_reason")),
        usage_of(answer.get("usage")),
    )


def tool_call(block: dict[str, Any]) -> dict[str, Any]:
    return written.tool_call(block.get("id"), block.get("name"), block.get("input"))


def completion_id(message_id: Any) -> str:
    return f"chatcmpl-{message_id}" if isinstance(message_id, str) and message_id else "chatcmpl-anthropic"


def usage_of(raw: Any) -> dict[str, Any] | None:
    """OpenAI usage for Anthropic's usage object (see the module docstring)."""
    if not isinstance(raw, dict):
        return None
    return written.usage(
        raw.get("input_tokens"),
        raw.get("cache_read_input_tokens"),
        raw.get("cache_creation_input_tokens"),
        raw.get("output_tokens"),
    )


def error_from(exc: ProviderStatusError) -> ProviderStatusError:
    """The transport's status error with Anthropic's error body in OpenAI's shape."""
    error = exc.body.get("error") if exc.body else None
    if not isinstance(error, dict):
        return exc
    body = openai_error_body(error, exc.status)
    return ProviderStatusError(exc.status, body, provider=exc.provider, retry_after=exc.retry_after)


def stream_error(data: dict[str, Any], provider: str) -> ProviderStatusError:
    """An `error` event of a stream as the status error its type stands for."""
    error = data.get("error")
    error = error if isinstance(error, dict) else {}
    kind = error.get("type")
    status = STATUS_OF_ERROR_TYPE.get(kind, 500) if isinstance(kind, str) else 500
    return ProviderStatusError(status, openai_error_body(error, status), provider=provider)


def openai_error_body(error: dict[str, Any], status: int) -> dict[str, Any]:
    kind = error.get("type")
    kind = kind[:_MAX_ERROR_TYPE_CHARS] if isinstance(kind, str) else None
    message = error.get("message")
    return {
        "error": {
            "message": message if isinstance(message, str) else f"Anthropic answered HTTP {status}",
            "type": _OPENAI_ERROR_TYPES.get(kind or "", "api_error"),
            "param": None,
            "code": kind,
        }
    }

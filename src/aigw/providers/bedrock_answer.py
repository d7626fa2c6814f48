"""Bedrock Converse answers as OpenAI's (pure, no I/O): a `ConverseResponse` as a `chat.completion`,
its usage, its stop reason, and Bedrock's errors as the gateway's status errors.

Decisions:
- Text blocks are joined into `message.content`; `toolUse` blocks become `tool_calls` whose
  `arguments` are the JSON text of `input`; reasoning blocks are not passed on (OpenAI's chat shape
  has no place for them). Converse answers carry no id: one is generated.
- Stop reasons: `end_turn`, `stop_sequence` → `stop`; `max_tokens`, `model_context_window_exceeded`
  → `length`; `tool_use` → `tool_calls`; `guardrail_intervened`, `content_filtered` →
  `content_filter`. `malformed_model_output` and `malformed_tool_use` mean the model failed to give a
  usable answer: a `ProviderResponseError` (retried, counted, fallen back from like any bad answer).
- Usage: Bedrock counts cache reads and writes apart from `inputTokens`; all are input the caller
  sent, so `prompt_tokens` is their sum and the reads are `prompt_tokens_details.cached_tokens`.
- Errors: AWS names the error in the `x-amzn-ErrorType` header (`ThrottlingException:http://...`),
  or `__type`/`code` in the body, and the message in the body's `message` (or `Message`). The
  HTTP status is kept, so 429 (ThrottlingException, ModelNotReadyException), 408
  (ModelTimeoutException), 500 and 503 are retried and counted like every family's, and 403
  (AccessDeniedException, UnrecognizedClientException, InvalidSignatureException ...) is the
  gateway's credential failing. Exceptions inside a stream carry no status: their type gives it;
  `modelStreamErrorException` (424 in the service model, documented as "Retry your request") is
  taken as 502 so that it is retried and counted like a broken stream.
"""

from __future__ import annotations

import secrets
from typing import Any

from aigw.errors import ProviderResponseError, ProviderStatusError
from aigw.providers import chat_answers as written

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
MALFORMED = frozenset({"malformed_model_output", "malformed_tool_use"})
# Exceptions of a ConverseStream (`:exception-type`, lower camel case) by the status they stand for.
STREAM_EXCEPTION_STATUS = {
    "validationException": 400,
    "throttlingException": 429,
    "internalServerException": 500,
    "serviceUnavailableException": 503,
    "modelStreamErrorException": 502,
    "modelTimeoutException": 408,
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}
_MAX_CODE_CHARS = 64
_MAX_MESSAGE_CHARS = 2000
EXPIRED_TOKEN = "ExpiredTokenException"


def finish_reason(stop_reason: Any, provider: str) -> str:
    if stop_reason in MALFORMED:
        raise ProviderResponseError(f"the model's answer was unusable ({stop_reason})", provider=provider)
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def completion_id() -> str:
    return f"chatcmpl-bedrock-{secrets.token_hex(12)}"


def completion(answer: dict[str, Any], model: str, provider: str, created: int) -> dict[str, Any]:
    """An OpenAI `chat.completion` for a `ConverseResponse`."""
    output = answer.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    blocks = message.get("content") if isinstance(message, dict) else None
    if not isinstance(blocks, list):
        raise ProviderResponseError("the body is not a Converse answer", provider=provider)
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block.get("toolUse"), dict):
            tool_calls.append(tool_call(block["toolUse"]))
    return written.completion(
        completion_id(),
        created,
        model,
        texts,
        tool_calls,
        finish_reason(answer.get("stopReason"), provider),
        usage_of(answer.get("usage")),
    )


def tool_call(block: dict[str, Any]) -> dict[str, Any]:
    return written.tool_call(block.get("toolUseId"), block.get("name"), block.get("input"))


def usage_of(raw: Any) -> dict[str, Any] | None:
    """OpenAI usage for Bedrock's `TokenUsage` (see the module docstring)."""
    if not isinstance(raw, dict):
        return None
    return written.usage(
        raw.get("inputTokens"),
        raw.get("cacheReadInputTokens"),
        raw.get("cacheWriteInputTokens"),
        raw.get("outputTokens"),
    )


def error_code(header: str | None, body: dict[str, Any] | None) -> str | None:
    """The AWS error's name: from `x-amzn-ErrorType`, else the body's `__type` or `code`, with
    botocore's trimming (`Name:http://...` and `namespace#Name` are both `Name`)."""
    code = header
    if code is None and body:
        found = body.get("__type", body.get("code", body.get("Code")))
        code = found if isinstance(found, str) else None
    if not code:
        return None
    return code.split(":", 1)[0].rsplit("#", 1)[-1][:_MAX_CODE_CHARS] or None


def status_error(
    status: int, code: str | None, body: dict[str, Any] | None, provider: str, retry_after: float | None = None
) -> ProviderStatusError:
    """A Bedrock error (HTTP answer or stream exception) as the gateway's status error, OpenAI-shaped."""
    message = None
    if body:
        found = body.get("message", body.get("Message"))
        message = found[:_MAX_MESSAGE_CHARS] if isinstance(found, str) and found else None
    error = {
        "message": message or f"Bedrock answered HTTP {status}" + (f" ({code})" if code else ""),
        "type": _ERROR_TYPES.get(status, "api_error"),
        "param": None,
        "code": code,
    }
    return ProviderStatusError(status, {"error": error}, provider=provider, retry_after=retry_after)


def stream_exception(kind: str, payload: dict[str, Any] | None, provider: str) -> ProviderStatusError:
    """An `exception` message of a ConverseStream as the status error its type stands for."""
    status = STREAM_EXCEPTION_STATUS.get(kind, 500)
    code = kind[:1].upper() + kind[1:_MAX_CODE_CHARS]
    return status_error(status, code, payload, provider)

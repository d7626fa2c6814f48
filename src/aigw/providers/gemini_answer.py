"""Gemini answers as OpenAI ones (pure, no I/O): completions, stream chunks, embeddings, errors.

Decisions:
- A candidate's text parts are joined (thought summaries, `thought: true`, are left out); each
  `functionCall` part is a tool call with a generated id (Gemini's own id when it sends one) and its
  `args` as a JSON string; a `thoughtSignature` rides along as `extra_content.google.thought_signature`
  (Google's OpenAI-compatible convention) so it can be sent back (see `gemini_request`).
- A safety block (finishReason SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, the image
  ones, MODEL_ARMOR, or `promptFeedback.blockReason`) is a refusal, not a failure: HTTP 400 with
  code `content_filtered` (a `ProviderStatusError`, so never retried, never counted against the
  provider's health, never a reason to fall back) — another try would be refused the same way.
- Google's error body `{"error": {"code", "message", "status", "details"}}` becomes OpenAI's
  (`type` by status, `code` the lower-cased Google status); the status stays, so 429 and 5xx are
  retried and counted like every family's. An invalid API key is 400 INVALID_ARGUMENT with reason
  API_KEY_INVALID at Google: it is made a 401, since it is the gateway's credential that failed.
  A 429 without `retry-after` takes the wait from its `RetryInfo.retryDelay`.
- Usage: `candidatesTokenCount` + `thoughtsTokenCount` are the completion tokens (OpenAI counts
  reasoning tokens there too), `cachedContentTokenCount` the cached prompt tokens.
"""

from __future__ import annotations

import base64
import secrets
import struct
from typing import Any

import orjson

from aigw.errors import ProviderResponseError, ProviderStatusError

BLOCKING_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
    }
)
_FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}
_MAX_DELAY_CHARS = 32


def content_filtered(reason: str, provider: str) -> ProviderStatusError:
    message = f"Gemini refused to answer: the content was blocked ({reason[:40]})"
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "content_filtered"}}
    return ProviderStatusError(400, body, provider=provider)


def check_prompt_feedback(answer: dict[str, Any], provider: str) -> None:
    feedback = answer.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if reason:
        raise content_filtered(str(reason), provider)


def completion(answer: dict[str, Any], model: str, provider: str, created: int) -> dict[str, Any]:
    """An OpenAI `chat.completion` for a `generateContent` answer."""
    check_prompt_feedback(answer, provider)
    candidates = answer.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        raise ProviderResponseError("the answer has no candidates", provider=provider)
    choices = []
    for position, candidate in enumerate(candidates):
        reason = str(candidate.get("finishReason") or "STOP")
        if reason in BLOCKING_REASONS:
            raise content_filtered(reason, provider)
        text, tool_calls = _message_parts(candidate)
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        choices.append(
            {
                "index": candidate.get("index", position),
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else _FINISH_REASONS.get(reason, "stop"),
            }
        )
    body: dict[str, Any] = {
        "id": _completion_id(answer),
        "object": "chat.completion",
        "created": created,
        "model": str(answer.get("modelVersion") or model),
        "choices": choices,
    }
    usage = usage_of(answer.get("usageMetadata"))
    if usage is not None:
        body["usage"] = usage
    return body


def _message_parts(candidate: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict) or part.get("thought"):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("functionCall"), dict):
            calls.append(tool_call(part))
    return "".join(texts), calls


def tool_call(part: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call for a `functionCall` part."""
    call = part["functionCall"]
    call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
    result: dict[str, Any] = {
        "id": call_id or "call_" + secrets.token_hex(12),
        "type": "function",
        "function": {"name": str(call.get("name") or ""), "arguments": orjson.dumps(call.get("args") or {}).decode()},
    }
    if isinstance(part.get("thoughtSignature"), str):
        result["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return result


def usage_of(meta: Any) -> dict[str, Any] | None:
    """OpenAI usage for Gemini's `usageMetadata`, or None when there is none."""
    if not isinstance(meta, dict):
        return None
    prompt = _count(meta.get("promptTokenCount"))
    thoughts = _count(meta.get("thoughtsTokenCount"))
    completion_tokens = _count(meta.get("candidatesTokenCount")) + thoughts
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": _count(meta.get("totalTokenCount")) or prompt + completion_tokens,
    }
    cached = _count(meta.get("cachedContentTokenCount"))
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if thoughts:
        usage["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    return usage


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _completion_id(answer: dict[str, Any]) -> str:
    response_id = answer.get("responseId")
    if isinstance(response_id, str) and 0 < len(response_id) <= 128:
        return "chatcmpl-" + response_id
    return "chatcmpl-" + secrets.token_hex(12)


def error_from(exc: ProviderStatusError) -> ProviderStatusError:
    """The transport's status error with Google's error body in OpenAI's shape (see the docstring)."""
    error = exc.body.get("error") if exc.body else None
    if not isinstance(error, dict):
        return exc
    status, message = exc.status, str(error.get("message") or f"Gemini answered HTTP {exc.status}")
    raw_details = error.get("details")
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    if status == 400 and any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details):
        status = 401
    code = str(error.get("status") or "").lower()[:64] or None
    body = {"error": {"message": message, "type": _ERROR_TYPES.get(status, "api_error"), "param": None, "code": code}}
    retry_after = exc.retry_after if exc.retry_after is not None else _retry_delay(details)
    return ProviderStatusError(status, body, provider=exc.provider, retry_after=retry_after)


def _retry_delay(details: list[Any]) -> float | None:
    for detail in details:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s") and len(delay) <= _MAX_DELAY_CHARS:
            try:
                seconds = float(delay[:-1])
            except ValueError:
                return None
            return seconds if 0 <= seconds < float("inf") else None
    return None


def embeddings(vectors: list[Any], model: str, prompt_tokens: int | None, encoding: Any) -> dict[str, Any]:
    """An OpenAI embeddings list; `encoding` "base64" packs each vector as little-endian float32
    (what the openai SDK asks for by default)."""
    data = []
    for index, values in enumerate(vectors):
        embedding: Any = values
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    body: dict[str, Any] = {"object": "list", "data": data, "model": model}
    if prompt_tokens is not None:
        body["usage"] = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}
    return body


def studio_vectors(answer: dict[str, Any], provider: str) -> tuple[list[Any], int | None]:
    """The vectors of a `batchEmbedContents` answer (AI Studio reports no token counts)."""
    return _vectors([e.get("values") if isinstance(e, dict) else None for e in _list(answer, "embeddings")], provider)


def vertex_vectors(answer: dict[str, Any], provider: str) -> tuple[list[Any], int | None]:
    """The vectors and token count of a Vertex `predict` answer."""
    found, tokens = [], 0
    for prediction in _list(answer, "predictions"):
        embedding = prediction.get("embeddings") if isinstance(prediction, dict) else None
        embedding = embedding if isinstance(embedding, dict) else {}
        found.append(embedding.get("values"))
        statistics = embedding.get("statistics")
        tokens += _count(statistics.get("token_count")) if isinstance(statistics, dict) else 0
    vectors, _ = _vectors(found, provider)
    return vectors, tokens


def _list(answer: dict[str, Any], key: str) -> list[Any]:
    value = answer.get(key)
    return value if isinstance(value, list) else []


def _vectors(found: list[Any], provider: str) -> tuple[list[Any], None]:
    if not found or not all(isinstance(v, list) and all(isinstance(x, int | float) for x in v) for v in found):
        raise ProviderResponseError("the embeddings answer holds no vectors of numbers", provider=provider)
    return found, None

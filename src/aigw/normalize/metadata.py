"""The metadata every answer carries, plain or streamed, whichever provider served it.

Headers: `x-request-id` (set for every response by the middleware), `x-aigw-provider`,
`x-aigw-deployment`, `x-aigw-model` (the model that served), `x-aigw-attempts`,
`x-aigw-latency-ms` (provider time: until the answer, or a stream's first byte), `x-aigw-fallback`
(`true` when another deployment than the first choice served, then also `x-aigw-fallback-from`),
`x-aigw-usage` (`provider`, or `estimated` when the provider sent none), plus the cost
(`x-aigw-cost-usd`) and rate-limit headers gathered on the way. Every value passes
`header_value`: the model and deployment names come from callers and upstreams.
Bodies: a chat completion always has `id`, `object`, `created`, `model`, indexed `choices` and
`usage`; an embeddings list always has `object`, `model` and `usage`.
"""

from __future__ import annotations

import time
from typing import Any

from aigw.context.tokens import estimate_tokens
from aigw.normalize.headers import safe_headers
from aigw.types import AIRequest, CallInfo, ChatRequest


def answer_headers(info: CallInfo) -> dict[str, str]:
    headers = {
        **info.headers,
        "x-aigw-provider": info.provider or "",
        "x-aigw-deployment": info.deployment or "",
        "x-aigw-model": info.model or "",
        "x-aigw-attempts": str(info.attempts),
        "x-aigw-fallback": "true" if info.fallback_from else "false",
    }
    if info.latency_ms is not None:
        headers["x-aigw-latency-ms"] = f"{info.latency_ms:.1f}"
    if info.fallback_from:
        headers["x-aigw-fallback-from"] = info.fallback_from
    return safe_headers(headers)


def normalize_body(body: dict[str, Any], request: AIRequest, info: CallInfo) -> dict[str, Any]:
    """The answer with every field the OpenAI shape promises; usage estimated (and said so) if missing."""
    out = dict(body)
    out.setdefault("model", info.model or request.model)
    if isinstance(request, ChatRequest):
        out.setdefault("id", f"chatcmpl-{info.request_id or 'aigw'}")
        out.setdefault("object", "chat.completion")
        out.setdefault("created", int(time.time()))
        out["choices"] = [_choice(c, i) for i, c in enumerate(out.get("choices") or [])]
    else:
        out.setdefault("object", "list")
    if isinstance(out.get("usage"), dict):
        info.headers["x-aigw-usage"] = "provider"
    else:
        out["usage"] = _estimated_usage(out, request)
        info.headers["x-aigw-usage"] = "estimated"
    return out


def _choice(choice: Any, index: int) -> Any:
    if not isinstance(choice, dict):
        return choice
    out = {"index": index, "finish_reason": None, **choice}
    if isinstance(out.get("message"), dict):
        out["message"] = {"role": "assistant", "content": None, **out["message"]}
    return out


def _estimated_usage(body: dict[str, Any], request: AIRequest) -> dict[str, int]:
    """A size-based estimate (a token per 4 bytes) for an answer that came without usage."""
    if isinstance(request, ChatRequest):
        prompt = sum(estimate_tokens(str(m.get("content") or "")) + 3 for m in request.messages) + 3
        completion = sum(
            estimate_tokens(str((c.get("message") or {}).get("content") or ""))
            for c in body.get("choices") or []
            if isinstance(c, dict)
        )
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    items = request.input if isinstance(request.input, list) else [request.input]
    prompt = sum(estimate_tokens(i) if isinstance(i, str) else len(i) if isinstance(i, list) else 1 for i in items)
    return {"prompt_tokens": prompt, "total_tokens": prompt}

"""Upper bounds on what a request can use, known without a tokenizer: the prompt's tokens and the
output's. Budgets hold money for them (`policy.cost_control`); the context stage counts tokens
exactly only when the bound says the prompt could pass its limit (`context.builder`).

The prompt bound counts UTF-8 bytes: a byte-level BPE token covers at least one byte, so a prompt
never has more tokens than bytes. Images count the most any model bills for one.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.types import AIRequest, ChatRequest

MESSAGE_OVERHEAD_TOKENS = 8  # role and separators per message, and the reply's priming
IMAGE_TOKENS = 48_169  # a high-detail image billed by gpt-4o-mini (2,833 + 8 tiles x 5,667), the most of any model
_NOT_COUNTED_AS_BYTES = ("role", "content")  # the role is in the overhead; content is counted part by part


def prompt_token_bound(request: AIRequest) -> int:
    """An upper bound on the prompt's tokens: its UTF-8 bytes plus per-message overhead."""
    if isinstance(request, ChatRequest):
        total = 0
        for message in request.messages:
            total += MESSAGE_OVERHEAD_TOKENS + _content_bytes(message.get("content"))
            for key, value in message.items():  # name, tool_calls, tool_call_id, function_call, refusal ...
                if key not in _NOT_COUNTED_AS_BYTES:
                    total += len(orjson.dumps(value))
        for key in ("tools", "functions", "response_format"):
            if key in request.params:
                total += len(orjson.dumps(request.params[key]))
        return total + MESSAGE_OVERHEAD_TOKENS
    items = request.input if isinstance(request.input, list) else [request.input]
    return sum(len(item.encode()) if isinstance(item, str) else len(orjson.dumps(item)) for item in items)


def choice_output_cap(request: ChatRequest) -> int | None:
    """The most output tokens one choice may have, or None when the request sets no cap."""
    caps = [request.params.get(name) for name in ("max_completion_tokens", "max_tokens")]
    valid = [c for c in caps if isinstance(c, int) and not isinstance(c, bool) and c > 0]
    return max(valid) if valid else None  # both set: the larger bounds what a provider may honour


def output_cap(request: AIRequest) -> int | None:
    """The most output tokens the request allows (all choices), or None when it sets no cap."""
    if not isinstance(request, ChatRequest):
        return 0
    cap = choice_output_cap(request)
    if cap is None:
        return None
    choices = request.params.get("n")
    return cap * (choices if isinstance(choices, int) and choices > 1 else 1)


def _content_bytes(content: Any) -> int:
    if isinstance(content, str):
        return len(content.encode())
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                total += len(str(part.get("text", "")).encode())
            elif isinstance(part, dict) and part.get("type") in ("image_url", "input_image"):
                total += IMAGE_TOKENS
            else:
                total += len(orjson.dumps(part))
        return total
    return 0 if content is None else len(orjson.dumps(content))

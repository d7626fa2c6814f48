"""Upper bounds on what a request can use, known without a tokenizer: the prompt's tokens and the
output's. Budgets hold money for them (`policy.cost_control`); the context stage counts tokens
exactly only when the bound says the prompt could pass its limit (`context.builder`).

The prompt bound counts UTF-8 bytes: a byte-level BPE token covers at least one byte, so a prompt
never has more tokens than bytes. Images count the most any model bills for one. The same rule
bounds the output of an answer that came without usage (`answer_output_bound`).

The output bounds read `n`, `max_tokens` and `max_completion_tokens` as the provider will: the
values in `request.params`, which `api.bodies` has validated as integers and sends upstream as is.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.types import AIRequest, ChatRequest

MESSAGE_OVERHEAD_TOKENS = 8  # role and separators per message, and the reply's priming
IMAGE_TOKENS = 48_169  # a high-detail image billed by gpt-4o-mini (2,833 + 8 tiles x 5,667), the most of any model
_NOT_COUNTED_AS_BYTES = ("role", "content")  # the role is in the overhead; content is counted part by part
OUTPUT_CAP_PARAMS = ("max_completion_tokens", "max_tokens")
MAX_CHOICES = 128  # the most choices OpenAI allows (`n`)
_WRITTEN_FIELDS = ("content", "refusal", "reasoning_content", "tool_calls", "function_call")


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
    """The most output tokens one choice may have, or None when the request sets no cap it can read.

    A cap is read only as an integer (what `api.bodies` lets through). If either name holds anything
    else, the request counts as uncapped, so a budget gives it a cap of its own (`cap_output`, which
    replaces both names): no value the bounds cannot read is ever left for a provider to interpret."""
    caps = [request.params.get(name) for name in OUTPUT_CAP_PARAMS]
    if any(c is not None and not _is_count(c) for c in caps):
        return None
    valid = [c for c in caps if isinstance(c, int) and _is_count(c)]
    return max(valid) if valid else None  # both set: the larger bounds what a provider may honour


def choice_count(request: ChatRequest) -> int:
    """How many choices the request asks for: `n`, 1 without it, the most allowed when it is unreadable."""
    choices = request.params.get("n")
    if choices is None:
        return 1
    return choices if _is_count(choices) else MAX_CHOICES


def output_cap(request: AIRequest) -> int | None:
    """The most output tokens the request allows (all choices), or None when it sets no cap."""
    if not isinstance(request, ChatRequest):
        return 0
    cap = choice_output_cap(request)
    return None if cap is None else cap * choice_count(request)


def answer_output_bound(answer: dict[str, Any]) -> int:
    """An upper bound on the output tokens in an answer or a stream chunk: the UTF-8 bytes of what its
    choices wrote (text, refusals, tool and function calls), as for the prompt. Used when a provider
    reports no usage."""
    total = 0
    for choice in answer.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        written = choice.get("message") or choice.get("delta")
        if isinstance(written, dict):
            for key in _WRITTEN_FIELDS:
                value = written.get(key)
                if isinstance(value, str):
                    total += len(value) if value.isascii() else len(value.encode())
                elif value is not None:
                    total += len(orjson.dumps(value))
    return total


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


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

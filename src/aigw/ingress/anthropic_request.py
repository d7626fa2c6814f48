"""An Anthropic Messages request, validated as Anthropic validates it, then turned into the canonical
chat request (OpenAI's shape) that the orchestrator and every provider family take.

Decisions:
- Unknown top-level fields are refused (Anthropic refuses them too): a feature the gateway cannot
  carry (server tools, `container`, `mcp_servers`, extended `thinking`) is a clear 400, never
  silently dropped. Unknown fields inside content blocks (`cache_control`, `citations`) are ignored:
  they tune the vendor's caching and citations, not the meaning of the prompt.
- Consecutive turns of the same role are accepted, as Anthropic accepts them (it merges them); they
  stay separate messages, which every OpenAI-shaped upstream takes.
- `top_k` is validated and dropped: the canonical request has no such parameter and OpenAI refuses
  unknown ones, so passing it would break OpenAI-backed aliases; it is a sampling hint, not meaning.
- `thinking` and `redacted_thinking` blocks of earlier assistant turns are dropped: no other family
  can read them, and Anthropic itself ignores them outside tool-use loops.
- A `tool_result` becomes an OpenAI `tool` message placed before the rest of its user turn, since
  OpenAI wants tool results right after the assistant's tool calls. Its text is kept; images inside
  a tool result have no OpenAI equivalent and are a 400.
- A final assistant turn (Anthropic's "prefill") is sent as an assistant message: an Anthropic
  upstream continues it, an OpenAI-shaped one answers a new turn after it.
- Validation (the models, the error naming) is in `anthropic_body`.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.ingress.anthropic_body import (
    CountTokensBody,
    ImageBlock,
    MessagesBody,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
    UrlSource,
    invalid,
    validate,
)
from aigw.types import ChatRequest


def messages_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical chat request for an Anthropic Messages body (a 400 when it is not valid)."""
    valid = validate(MessagesBody, body)
    params: dict[str, Any] = {"max_tokens": valid.max_tokens, **tool_params(valid)}
    if valid.stop_sequences:
        params["stop"] = valid.stop_sequences
    if valid.temperature is not None:
        params["temperature"] = valid.temperature
    if valid.top_p is not None:
        params["top_p"] = valid.top_p
    if valid.metadata is not None and valid.metadata.user_id:
        params["user"] = valid.metadata.user_id
    return ChatRequest(model=valid.model, messages=canonical_messages(valid), params=params, stream=bool(valid.stream))


def count_tokens_request(body: dict[str, Any]) -> CountTokensBody:
    return validate(CountTokensBody, body)


def canonical_messages(valid: CountTokensBody) -> list[dict[str, Any]]:
    """The system prompt and messages in OpenAI's shape."""
    out: list[dict[str, Any]] = []
    if valid.system:
        system = valid.system if isinstance(valid.system, str) else "\n".join(b.text for b in valid.system)
        out.append({"role": "system", "content": system})
    for index, message in enumerate(valid.messages):
        if message.role == "user":
            out.extend(_user_messages(message.content, index))
        else:
            out.append(_assistant_message(message.content, index))
    return out


def tool_params(valid: CountTokensBody) -> dict[str, Any]:
    """`tools`, `tool_choice` and `parallel_tool_calls` in OpenAI's shape."""
    params: dict[str, Any] = {}
    if valid.tools:
        params["tools"] = [_function(tool) for tool in valid.tools]
    choice = valid.tool_choice
    if choice is None:
        return params
    if choice.type == "tool":
        if choice.name is None:
            raise invalid("tool_choice.name", "Field required when tool_choice.type is 'tool'")
        params["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice.name is not None:
        raise invalid("tool_choice.name", f"Extra inputs are not permitted for tool_choice.type '{choice.type}'")
    else:
        params["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    if choice.disable_parallel_tool_use and valid.tools:
        params["parallel_tool_calls"] = False
    return params


def _function(tool: Tool) -> dict[str, Any]:
    if tool.input_schema.get("type") != "object":
        raise invalid(f"tools.{tool.name}.input_schema.type", "Input should be 'object'")
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.input_schema}
    if tool.description is not None:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _user_messages(content: str | list[Any], index: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for position, block in enumerate(content):
        if isinstance(block, ToolResultBlock):
            results.append(_tool_message(block, f"messages.{index}.content.{position}"))
        elif isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        else:
            raise invalid(f"messages.{index}.content.{position}.type", f"'{block.type}' blocks are for assistant turns")
    if not parts:
        return results
    text_only = len(parts) == 1 and parts[0]["type"] == "text"
    return [*results, {"role": "user", "content": parts[0]["text"] if text_only else parts}]


def _assistant_message(content: str | list[Any], index: int) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for position, block in enumerate(content):
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ToolUseBlock):
            arguments = orjson.dumps(block.input).decode()
            calls.append({"id": block.id, "type": "function", "function": {"name": block.name, "arguments": arguments}})
        elif not isinstance(block, ThinkingBlock):
            raise invalid(f"messages.{index}.content.{position}.type", f"'{block.type}' blocks are for user turns")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tool_message(block: ToolResultBlock, where: str) -> dict[str, Any]:
    content = block.content
    if isinstance(content, list):
        if any(isinstance(part, ImageBlock) for part in content):
            raise invalid(f"{where}.content", "images inside a tool_result are not supported by this gateway")
        content = "\n".join(part.text for part in content if isinstance(part, TextBlock))
    return {"role": "tool", "tool_call_id": block.tool_use_id, "content": content or ""}


def _image_part(block: ImageBlock) -> dict[str, Any]:
    source = block.source
    url = source.url if isinstance(source, UrlSource) else f"data:{source.media_type};base64,{source.data}"
    return {"type": "image_url", "image_url": {"url": url}}

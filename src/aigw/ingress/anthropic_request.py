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
- Every string the gateway logs or keys on is bounded here (model, user id, tool names, ids); the
  body as a whole is bounded at the edge (`AI_MAX_BODY_BYTES`). Name patterns are checked by
  pydantic's Rust regex engine (linear time).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from aigw.errors import InvalidRequestError
from aigw.types import ChatRequest

MAX_NAME_CHARS = 256  # model and metadata.user_id, as on the OpenAI routes
MAX_ID_CHARS = 256  # tool_use ids
MAX_STOP_SEQUENCES = 64
MAX_STOP_SEQUENCE_CHARS = 1024
MAX_URL_CHARS = 8192

ToolName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]+$")]
ToolUseId = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_CHARS)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextBlock(_Block):
    type: Literal["text"]
    text: StrictStr


class Base64Source(_Strict):
    type: Literal["base64"]
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: StrictStr


class UrlSource(_Strict):
    type: Literal["url"]
    url: Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_CHARS)]


class ImageBlock(_Block):
    type: Literal["image"]
    source: Annotated[Base64Source | UrlSource, Field(discriminator="type")]


class ToolUseBlock(_Block):
    type: Literal["tool_use"]
    id: ToolUseId
    name: ToolName
    input: dict[str, Any]


ResultPart = Annotated[TextBlock | ImageBlock, Field(discriminator="type")]


class ToolResultBlock(_Block):
    type: Literal["tool_result"]
    tool_use_id: ToolUseId
    content: StrictStr | list[ResultPart] | None = None
    is_error: StrictBool | None = None


class ThinkingBlock(_Block):
    type: Literal["thinking", "redacted_thinking"]


Block = Annotated[TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock, Field(discriminator="type")]


class MessageParam(_Strict):
    role: Literal["user", "assistant"]
    content: StrictStr | Annotated[list[Block], Field(min_length=1)]


class Tool(_Strict):
    type: Literal["custom"] | None = None
    name: ToolName
    description: StrictStr | None = None
    input_schema: dict[str, Any]
    cache_control: dict[str, Any] | None = None


class ToolChoice(_Strict):
    type: Literal["auto", "any", "tool", "none"]
    name: ToolName | None = None
    disable_parallel_tool_use: StrictBool | None = None


class Metadata(_Strict):
    user_id: Annotated[StrictStr, Field(max_length=MAX_NAME_CHARS)] | None = None


class Thinking(_Strict):
    type: Literal["disabled"]  # extended thinking has no canonical form: refused, not dropped


class CountTokensBody(_Strict):
    """`POST /v1/messages/count_tokens`: the prompt part of a Messages request."""

    model: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    messages: Annotated[list[MessageParam], Field(min_length=1)]
    system: StrictStr | list[TextBlock] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None


class MessagesBody(CountTokensBody):
    """`POST /v1/messages`."""

    max_tokens: Annotated[StrictInt, Field(ge=1)]
    stop_sequences: (
        Annotated[
            list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_STOP_SEQUENCE_CHARS)]],
            Field(max_length=MAX_STOP_SEQUENCES),
        ]
        | None
    ) = None
    temperature: Annotated[float, Field(ge=0, le=1)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    top_k: Annotated[StrictInt, Field(ge=0)] | None = None
    metadata: Metadata | None = None
    stream: StrictBool | None = None
    service_tier: Literal["auto", "standard_only"] | None = None  # a capacity hint for Anthropic: ignored
    cache_control: dict[str, Any] | None = None  # Anthropic's prompt caching: ignored, as on blocks


def messages_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical chat request for an Anthropic Messages body (a 400 when it is not valid)."""
    valid = _validate(MessagesBody, body)
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
    return _validate(CountTokensBody, body)


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
            raise _invalid("tool_choice.name", "Field required when tool_choice.type is 'tool'")
        params["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice.name is not None:
        raise _invalid("tool_choice.name", f"Extra inputs are not permitted for tool_choice.type '{choice.type}'")
    else:
        params["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    if choice.disable_parallel_tool_use and valid.tools:
        params["parallel_tool_calls"] = False
    return params


def _function(tool: Tool) -> dict[str, Any]:
    if tool.input_schema.get("type") != "object":
        raise _invalid(f"tools.{tool.name}.input_schema.type", "Input should be 'object'")
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
            raise _invalid(
                f"messages.{index}.content.{position}.type", f"'{block.type}' blocks are for assistant turns"
            )
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
            raise _invalid(f"messages.{index}.content.{position}.type", f"'{block.type}' blocks are for user turns")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tool_message(block: ToolResultBlock, where: str) -> dict[str, Any]:
    content = block.content
    if isinstance(content, list):
        if any(isinstance(part, ImageBlock) for part in content):
            raise _invalid(f"{where}.content", "images inside a tool_result are not supported by this gateway")
        content = "\n".join(part.text for part in content if isinstance(part, TextBlock))
    return {"role": "tool", "tool_call_id": block.tool_use_id, "content": content or ""}


def _image_part(block: ImageBlock) -> dict[str, Any]:
    source = block.source
    url = source.url if isinstance(source, UrlSource) else f"data:{source.media_type};base64,{source.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _invalid(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {message}", param=param, code="invalid_value")


_Body = TypeVar("_Body", bound=BaseModel)


def _validate(schema: type[_Body], body: dict[str, Any]) -> _Body:
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        # The deepest error: of a union (text or blocks), the member that got furthest says what is wrong.
        first = max(exc.errors(include_url=False), key=lambda error: len(error["loc"]))
        raise _invalid(_param(first["loc"]) or "body", str(first["msg"])) from None


_SHOWN_NAME_CHARS = 64
_TAGS = frozenset({"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking", "base64", "url"})


def _param(loc: tuple[int | str, ...]) -> str:
    """An error's location as Anthropic names it: without pydantic's union labels (`str`,
    `list[...]`) and the tag it matched a block by (`content.0.text.text` is `content.0.text`)."""
    kept: list[str] = []
    previous: int | str | None = None
    for part in loc:
        text = str(part)[:_SHOWN_NAME_CHARS]  # an unknown field's name is the caller's: not echoed whole
        tag = text in _TAGS and (isinstance(previous, int) or previous == "source")
        if not tag and text not in {"str", "int", "float", "bool", "dict", "list"} and "[" not in text:
            kept.append(text)
        previous = part
    return ".".join(kept)

"""The Anthropic Messages request body as Anthropic validates it (pydantic models), and its
errors: the deepest error of a union named by its field path as Anthropic names it
(`messages.0.content.1.text`), with the caller's own text in it bounded.

Unknown top-level fields are refused, as Anthropic refuses them; unknown fields inside content
blocks (`cache_control`, `citations`) are ignored. Every string the gateway logs or keys on is
bounded here (model, user id, tool names, ids); the body as a whole is bounded at the edge
(`AI_MAX_BODY_BYTES`). Name patterns are checked by pydantic's Rust regex engine (linear time).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from aigw.errors import InvalidRequestError

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


def invalid(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {message}", param=param, code="invalid_value")


_Body = TypeVar("_Body", bound=BaseModel)


def validate(schema: type[_Body], body: dict[str, Any]) -> _Body:
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        # The deepest error: of a union (text or blocks), the member that got furthest says what is wrong.
        first = max(exc.errors(include_url=False), key=lambda error: len(error["loc"]))
        raise invalid(_param(first["loc"]) or "body", _shown(str(first["msg"]))) from None


_SHOWN_MESSAGE_CHARS = 300


def _shown(message: str) -> str:
    """pydantic's message may quote the caller's value (an unknown block tag): never echoed whole."""
    return message if len(message) <= _SHOWN_MESSAGE_CHARS else message[:_SHOWN_MESSAGE_CHARS] + "…"


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

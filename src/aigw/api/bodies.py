"""Request bodies: read within the size limit, parse, validate OpenAI's wire shape, convert.

Validation checks what the gateway relies on and what OpenAI would reject; every other field is
passed through untouched, so new upstream parameters keep working.

The fields the gateway reads (to price, to cap, to stream) are strict: an integer must be a JSON
integer, a boolean a JSON boolean, as OpenAI requires. Lax coercion would accept `"n": 128.0` or
`"n": "128"` while the raw value, not the coerced one, went upstream, and the budget would price one
choice where the provider writes 128. The request is built from the validated values, so what is
priced and what is sent are the same values by construction.

Caller strings that end up in logs, metrics and the spend ledger are bounded here, at the edge:
`model` and `user` to 256 characters, `metadata` as OpenAI bounds it (16 pairs, keys of 64 and
values of 512 characters).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from starlette.requests import Request

from aigw.api.json_body import parse_json_object
from aigw.context.bounds import MAX_CHOICES
from aigw.errors import InvalidRequestError, RequestTooLargeError
from aigw.types import ChatRequest, EmbeddingRequest

MAX_NAME_CHARS = 256  # model and user: longer than any real one, short enough for logs and the spend ledger
MAX_METADATA_PAIRS, MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS = 16, 64, 512  # OpenAI's bounds

ModelName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
UserName = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Metadata = Annotated[
    dict[
        Annotated[str, Field(max_length=MAX_METADATA_KEY_CHARS)],
        Annotated[str, Field(max_length=MAX_METADATA_VALUE_CHARS)],
    ],
    Field(max_length=MAX_METADATA_PAIRS),
]
TokenIds = list[StrictInt]
MAX_PART_TYPE_CHARS = 64  # "text", "image_url", "input_audio" ...
# Above every embedding model served today (3,072 for OpenAI and Gemini, 4,096 for the largest open ones): a
# caller-chosen size is an allocation, and 5,390,114,857 dimensions made the stub raise MemoryError (a 500).
MAX_EMBEDDING_DIMENSIONS = 8192


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPartBody(_Open):
    type: Annotated[StrictStr, Field(min_length=1, max_length=MAX_PART_TYPE_CHARS)]


class FunctionCallBody(_Open):
    name: StrictStr | None = None
    arguments: StrictStr | None = None  # JSON text, as OpenAI sends and takes it


class ToolCallBody(_Open):
    id: StrictStr | None = None
    type: StrictStr | None = None
    function: FunctionCallBody | None = None


class ChatMessageBody(_Open):
    """The fields of a message the gateway reads (PII, tokens, restore) have the types OpenAI gives them."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[ContentPartBody] | None = None
    name: StrictStr | None = None
    tool_call_id: StrictStr | None = None
    tool_calls: list[ToolCallBody] | None = None
    function_call: FunctionCallBody | None = None


class StreamOptionsBody(_Open):
    include_usage: StrictBool = False


class ChatCompletionBody(_Open):
    model: ModelName | None = None
    messages: list[ChatMessageBody] = Field(default_factory=list)
    template: str | None = Field(None, min_length=1, max_length=200)  # gateway extension: a prompt template
    variables: dict[str, Any] | None = None  # gateway extension: the template's variables
    stream: StrictBool | None = False
    stream_options: StreamOptionsBody | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: StrictInt | None = Field(None, ge=1, le=MAX_CHOICES)
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    user: UserName | None = None
    metadata: Metadata | None = None


class EmbeddingBody(_Open):
    model: ModelName | None = None
    input: str | list[str] | TokenIds | list[TokenIds]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: StrictInt | None = Field(None, ge=1, le=MAX_EMBEDDING_DIMENSIONS)
    user: UserName | None = None


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    # ASCII digits only (str.isdigit() also takes '²', which int() refuses), and no int() of thousands of them.
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return parse_json_object(b"".join(chunks))


_NOT_PARAMS = frozenset({"model", "messages", "stream", "stream_options", "template", "variables"})
# Parameters the bodies declare a type for: the request carries their validated values, never the raw ones.
_CHAT_TYPED_PARAMS = frozenset(ChatCompletionBody.model_fields) - _NOT_PARAMS
_NOT_EMBEDDING_PARAMS = frozenset({"model", "input"})
_EMBEDDING_TYPED_PARAMS = frozenset(EmbeddingBody.model_fields) - _NOT_EMBEDDING_PARAMS


def chat_request(body: dict[str, Any], default_model: str | None) -> ChatRequest:
    valid = _validate(ChatCompletionBody, body)
    model = body.get("model") or default_model
    if not model:
        raise InvalidRequestError("you must provide a model parameter", param="model", code="missing_model")
    if not body.get("messages") and not body.get("template"):
        raise InvalidRequestError(
            "Invalid value for 'messages': give at least one message, or a template",
            param="messages",
            code="invalid_value",
        )
    if body.get("variables") is not None and not body.get("template"):
        raise InvalidRequestError("'variables' needs a 'template'", param="variables", code="invalid_value")
    params = _params(body, valid, _NOT_PARAMS, _CHAT_TYPED_PARAMS)
    stream = bool(valid.stream)
    options = body.get("stream_options") or {}
    if stream and len(options) > 1:
        params["stream_options"] = {k: v for k, v in options.items() if k != "include_usage"}
    return ChatRequest(
        model=model,
        messages=body.get("messages") or [],
        params=params,
        stream=stream,
        include_usage=stream and valid.stream_options is not None and valid.stream_options.include_usage,
        template=body.get("template"),
        variables=body.get("variables") or {},
    )


def embedding_request(body: dict[str, Any], default_model: str | None) -> EmbeddingRequest:
    valid = _validate(EmbeddingBody, body)
    model = body.get("model") or default_model
    if not model:
        raise InvalidRequestError("you must provide a model parameter", param="model", code="missing_model")
    value = body["input"]
    if value == "" or value == [] or (isinstance(value, list) and any(v == "" or v == [] for v in value)):
        raise InvalidRequestError("input must not be empty", param="input", code="invalid_value")
    params = _params(body, valid, _NOT_EMBEDDING_PARAMS, _EMBEDDING_TYPED_PARAMS)
    return EmbeddingRequest(model=model, input=value, params=params)


def _params(body: dict[str, Any], valid: BaseModel, excluded: frozenset[str], typed: frozenset[str]) -> dict[str, Any]:
    """The parameters to send upstream: every field but `excluded`, the typed ones as validated."""
    params = {k: v for k, v in body.items() if k not in excluded}
    for name in typed.intersection(params):
        params[name] = getattr(valid, name)
    return params


_TYPE_LABELS = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def _is_type_label(part: object) -> bool:
    """pydantic puts the tried union member in an error's location (`str`, `list[int]` ...)."""
    text = str(part)
    return text in _TYPE_LABELS or "[" in text


_Body = TypeVar("_Body", bound=BaseModel)
_MAPS = frozenset({"metadata"})  # free-form keys: an error names the field, never the caller's key


def _validate(schema: type[_Body], body: dict[str, Any]) -> _Body:
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        # The most specific error: of a union (text or parts), the member that got furthest says what is wrong.
        first = max(exc.errors(include_url=False), key=lambda error: len(error["loc"]))
        loc = first["loc"]
        if loc and loc[0] in _MAPS:
            loc = loc[:1]
        param = ".".join(str(p) for p in loc if not _is_type_label(p))
        raise InvalidRequestError(
            f"Invalid value for '{param}': {first['msg']}", param=param or None, code="invalid_value"
        ) from None

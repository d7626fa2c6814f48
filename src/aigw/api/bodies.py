"""Request bodies: read within the size limit, parse, validate OpenAI's wire shape, convert.

Validation checks what the gateway relies on and what OpenAI would reject; every other field is
passed through untouched, so new upstream parameters keep working.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from aigw.errors import InvalidRequestError, RequestTooLargeError
from aigw.types import ChatRequest, EmbeddingRequest


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChatMessageBody(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptionsBody(_Open):
    include_usage: bool = False


class ChatCompletionBody(_Open):
    model: str | None = Field(None, min_length=1)
    messages: list[ChatMessageBody] = Field(default_factory=list)
    template: str | None = Field(None, min_length=1, max_length=200)  # gateway extension: a prompt template
    variables: dict[str, Any] | None = None  # gateway extension: the template's variables
    stream: bool | None = False
    stream_options: StreamOptionsBody | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int | None = Field(None, ge=1, le=128)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)


class EmbeddingBody(_Open):
    model: str | None = Field(None, min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1)


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise InvalidRequestError("Request body is empty; expected a JSON object", code="invalid_json")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"Request body is not valid JSON: {exc.msg} at position {exc.pos}", code="invalid_json"
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidRequestError("Request body must be a JSON object", code="invalid_json")
    return parsed


_NOT_PARAMS = frozenset({"model", "messages", "stream", "stream_options", "template", "variables"})


def chat_request(body: dict[str, Any], default_model: str | None) -> ChatRequest:
    _validate(ChatCompletionBody, body)
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
    params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}
    stream = bool(body.get("stream"))
    options = body.get("stream_options") or {}
    if stream and len(options) > 1:
        params["stream_options"] = {k: v for k, v in options.items() if k != "include_usage"}
    return ChatRequest(
        model=model,
        messages=body.get("messages") or [],
        params=params,
        stream=stream,
        include_usage=stream and bool(options.get("include_usage")),
        template=body.get("template"),
        variables=body.get("variables") or {},
    )


def embedding_request(body: dict[str, Any], default_model: str | None) -> EmbeddingRequest:
    _validate(EmbeddingBody, body)
    model = body.get("model") or default_model
    if not model:
        raise InvalidRequestError("you must provide a model parameter", param="model", code="missing_model")
    value = body["input"]
    if value == "" or value == [] or (isinstance(value, list) and any(v == "" or v == [] for v in value)):
        raise InvalidRequestError("input must not be empty", param="input", code="invalid_value")
    params = {k: v for k, v in body.items() if k not in ("model", "input")}
    return EmbeddingRequest(model=model, input=value, params=params)


_TYPE_LABELS = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def _is_type_label(part: object) -> bool:
    """pydantic puts the tried union member in an error's location (`str`, `list[int]` ...)."""
    text = str(part)
    return text in _TYPE_LABELS or "[" in text


def _validate(schema: type[BaseModel], body: dict[str, Any]) -> None:
    try:
        schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"] if not _is_type_label(p))
        raise InvalidRequestError(
            f"Invalid value for '{param}': {first['msg']}", param=param or None, code="invalid_value"
        ) from None

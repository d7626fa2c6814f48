"""Hypothesis property tests of the request parsers: any bytes or JSON value in, either a valid request out or a
GatewayError with a 4xx status, never another exception (which the HTTP edge would answer with a 500).

Inputs are arbitrary JSON as well as near-valid bodies with one field replaced by anything, so that the fields the
gateway reads (model, messages, n, max_tokens, stream, metadata, input, dimensions, filters, k ...) are all hit
with wrong types, huge numbers, deep nesting and long strings. Derandomized and bounded: reproducible, a few seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from aigw.api.bodies import chat_request, embedding_request, read_json
from aigw.api.tasks import IntelligentBody, RecommendBody, SearchBody
from aigw.catalog.filters import check_filters
from aigw.errors import GatewayError
from aigw.types import ChatRequest, EmbeddingRequest

pytestmark = pytest.mark.fuzz

LIMIT = 64 * 1024
MAX_ERROR_MESSAGE_CHARS = 1024  # an error names what is wrong; it never echoes a whole hostile input back
FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
long_text = st.integers(min_value=257, max_value=20_000).map(lambda n: "x" * n)
hostile = (
    json_values | long_text | st.integers(min_value=2**63, max_value=2**80) | st.text(alphabet="\r\n\x00\u2028é😀")
)


def encode(value: Any) -> bytes:
    """JSON text as a client could send it: the standard library writes any integer and deep nesting."""
    return json.dumps(value).encode()


def deeply_nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def assert_client_error(error: GatewayError) -> None:
    assert 400 <= error.status < 500, (error.status, error.message)
    assert len(error.message) <= MAX_ERROR_MESSAGE_CHARS, f"error message of {len(error.message)} characters"
    assert isinstance(error.to_body()["error"]["message"], str)


def near_valid(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`base` with one of its fields, or a new one, replaced by a hostile value; or some fields dropped."""
    field = st.sampled_from([*base, "n", "max_tokens", "stream_options", "metadata", "user", "extra"])
    replaced = st.builds(lambda name, value: {**base, name: value}, field, hostile)
    dropped = st.sets(st.sampled_from(list(base))).map(lambda names: {k: v for k, v in base.items() if k not in names})
    return replaced | dropped


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0, "stream": False}
EMBEDDING = {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8, "encoding_format": "float"}
SEARCH = {"collection": "demo", "query": "shoes", "k": 10, "filters": {"price": {"lt": 10}}}
RECOMMEND = {"collection": "demo", "item_ids": ["a"], "k": 5, "diversity": 0.3, "explain": False, "locale": "en"}


def request_with(body: bytes, content_length: str | None, chunk: int) -> Request:
    """A Starlette request whose body arrives in chunks of `chunk` bytes, as a socket would deliver it."""
    headers = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", content_length.encode("latin-1")))
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": headers, "query_string": b""}
    return Request(scope, receive)


def parse(body: bytes, content_length: str | None = None, chunk: int = 4096) -> dict[str, Any] | GatewayError:
    try:
        return asyncio.run(read_json(request_with(body, content_length, chunk), LIMIT))
    except GatewayError as error:
        assert_client_error(error)
        return error


raw_bodies = (
    st.binary(max_size=300)
    | json_values.map(encode)
    | st.integers(min_value=1, max_value=5000).map(lambda depth: encode(deeply_nested(min(depth, 500))))
    | st.integers(min_value=1, max_value=100_000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.integers(min_value=LIMIT - 2, max_value=LIMIT + 2).map(lambda size: b'{"a":"' + b"x" * (size - 8) + b'"}')
)
content_lengths = st.none() | st.sampled_from(["0", "-1", "abc", "1e9", "99999999999999999999999", " 12", "\u00b2"])


@FUZZ
@given(body=raw_bodies, content_length=content_lengths, chunk=st.integers(min_value=1, max_value=70_000))
def test_read_json_answers_any_bytes_with_an_object_or_a_4xx(
    body: bytes, content_length: str | None, chunk: int
) -> None:
    result = parse(body, content_length, chunk)
    if isinstance(result, dict):
        assert len(body) <= LIMIT


@FUZZ
@given(body=json_values | near_valid(CHAT), default_model=st.none() | st.just("gpt-4o-mini"))
def test_chat_request_is_valid_or_a_4xx(body: Any, default_model: str | None) -> None:
    result = parse(encode(body))
    if isinstance(result, GatewayError):
        return
    try:
        chat = chat_request(result, default_model)
    except GatewayError as error:
        assert_client_error(error)
        return
    assert isinstance(chat, ChatRequest)
    assert isinstance(chat.model, str) and 0 < len(chat.model) <= 256
    n = chat.params.get("n")
    assert n is None or (type(n) is int and 1 <= n <= 128), n


@FUZZ
@given(body=json_values | near_valid(EMBEDDING), default_model=st.none() | st.just("text-embedding-3-small"))
def test_embedding_request_is_valid_or_a_4xx(body: Any, default_model: str | None) -> None:
    result = parse(encode(body))
    if isinstance(result, GatewayError):
        return
    try:
        call = embedding_request(result, default_model)
    except GatewayError as error:
        assert_client_error(error)
        return
    assert isinstance(call, EmbeddingRequest)
    assert isinstance(call.model, str) and 0 < len(call.model) <= 256


@FUZZ
@given(filters=hostile | st.dictionaries(st.text(max_size=300), hostile, max_size=5))
def test_check_filters_accepts_or_answers_4xx(filters: Any) -> None:
    try:
        checked = check_filters(filters)
    except GatewayError as error:
        assert_client_error(error)
        return
    assert isinstance(checked, dict)


def validate_task(schema: type[BaseModel], body: Any) -> None:
    """What FastAPI does with a task body (a ValidationError becomes a 400), then the route's filter check."""
    try:
        valid = schema.model_validate(body)
    except ValidationError:
        return
    try:
        check_filters(getattr(valid, "filters", None))
    except GatewayError as error:
        assert_client_error(error)


@FUZZ
@given(body=json_values | near_valid(SEARCH), schema=st.sampled_from([SearchBody, IntelligentBody]))
def test_search_bodies_are_valid_or_a_4xx(body: Any, schema: type[BaseModel]) -> None:
    validate_task(schema, body)


@FUZZ
@given(body=json_values | near_valid(RECOMMEND))
def test_recommendation_bodies_are_valid_or_a_4xx(body: Any) -> None:
    validate_task(RecommendBody, body)


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_nesting_is_a_4xx(depth: int) -> None:
    result = parse(b"[" * depth + b"]" * depth)
    assert isinstance(result, GatewayError)

"""api/json_body: every JSON body is parsed with a bounded nesting depth and a JSON content type.

Before, a body nested 255+ levels deep parsed (orjson reads 1024 levels) and then failed with a 500
when the gateway serialized it again (orjson writes at most 254 levels).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from starlette.requests import Request

from aigw.api.bodies import read_json
from aigw.api.gateway_route import JSONRequest
from aigw.api.json_body import MAX_JSON_DEPTH, is_json_media_type, parse_json, parse_json_object
from aigw.errors import InvalidRequestError, RequestTooLargeError


def nested(depth: int) -> bytes:
    """JSON nested `depth` levels, objects and arrays in turn (written by hand: orjson cannot write it)."""
    opening = "".join('{"k":' if level % 2 == 0 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth)))
    return f"{opening}1{closing}".encode()


def test_the_deepest_allowed_body_parses_and_serializes_again() -> None:
    body = nested(MAX_JSON_DEPTH)
    assert orjson.dumps(parse_json(body)) == body


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 255, 300, 1024])
def test_a_deeper_body_is_a_400_that_says_why(depth: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_json(nested(depth))
    assert caught.value.status == 400
    assert caught.value.code == "json_too_deep"
    assert str(MAX_JSON_DEPTH) in caught.value.message


def test_beyond_the_parsers_own_limit_is_invalid_json() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_json(b"[" * 5000 + b"]" * 5000)
    assert caught.value.code == "invalid_json"


def test_depth_counts_the_deepest_branch_not_the_bracket_count() -> None:
    wide = {"messages": [{"role": "user", "content": [{"type": "text", "text": "[{"}]} for _ in range(500)]}
    assert parse_json(orjson.dumps(wide)) == wide
    deep_branch = b'{"shallow": ' + orjson.dumps([[1]] * 300) + b', "deep": ' + nested(MAX_JSON_DEPTH + 5) + b"}"
    with pytest.raises(InvalidRequestError):
        parse_json(deep_branch)


def test_a_large_flat_body_costs_no_walk() -> None:
    flat = orjson.dumps({"input": [[i % 50_000 for i in range(100)] for _ in range(2000)]})  # 2001 brackets
    started = time.perf_counter()
    parse_json(flat)
    assert time.perf_counter() - started < 0.5


def test_the_openai_reader_goes_through_the_same_check() -> None:
    body = b'{"model": "m", "messages": ' + nested(300) + b"}"

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}, receive)
    with pytest.raises(InvalidRequestError) as caught:
        asyncio.run(read_json(request, 1 << 20))
    assert caught.value.code == "json_too_deep"


def test_the_fastapi_routes_request_goes_through_the_same_check() -> None:
    body = b'{"value": ' + nested(300) + b"}"

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = JSONRequest({"type": "http", "method": "PUT", "path": "/", "headers": [], "query_string": b""}, receive)
    with pytest.raises(InvalidRequestError):
        asyncio.run(request.json())


def test_objects_only_for_the_openai_endpoints() -> None:
    assert parse_json_object(b'{"a": 1}') == {"a": 1}
    for raw in (b"", b"[]", b"1"):
        with pytest.raises(InvalidRequestError):
            parse_json_object(raw)


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/merge-patch+json ; charset=UTF-8", True),
        ("text/plain", False),
        ("text/plain; charset=utf-8", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json", False),
        ("application/jsonp", False),
        ("", False),
    ],
)
def test_json_media_types(content_type: str, json: bool) -> None:
    assert is_json_media_type(content_type) is json


@pytest.mark.parametrize(
    ("declared", "too_large"), [("²", False), ("³", False), ("9" * 5000, True), ("99999999999999999999999", True)]
)
def test_a_declared_length_is_ascii_digits_or_ignored(declared: str, too_large: bool) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    headers = [(b"content-length", declared.encode("latin-1"))]
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}, receive)
    if too_large:
        with pytest.raises(RequestTooLargeError):
            asyncio.run(read_json(request, 1 << 20))
    else:
        assert asyncio.run(read_json(request, 1 << 20)) == {"a": 1}

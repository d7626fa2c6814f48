"""Every JSON request body is parsed here: the OpenAI fast path and the FastAPI routes alike.

Nesting is bounded at `MAX_JSON_DEPTH` levels. orjson parses up to 1024 levels but serializes at
most 254, and the gateway serializes what it was sent (to the upstream, the audit log, the cache
key): a deeper body parsed fine and then failed with a 500. 128 levels is far deeper than any real
request (a JSON schema in `response_format` is a few dozen) and leaves room for the gateway's own
wrapping. The check costs nothing for ordinary bodies: a body holding fewer brackets than the limit
cannot be that deep, so only a body with many of them is walked, one level at a time, skipping
containers that hold no container in C (`map(type, ...)`).

The content type of a body is checked here too: only JSON (`application/json`, with parameters,
or `application/*+json`) is read. A browser sends `text/plain` and form bodies cross-site without
asking the server first; a JSON content type makes it ask (CORS), and the gateway never says yes.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.errors import InvalidRequestError

MAX_JSON_DEPTH = 128
_CONTAINERS = frozenset({dict, list})


def is_json_media_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def parse_json(raw: bytes) -> Any:
    """The JSON value in `raw`; a 400 in OpenAI's format for invalid or too deeply nested JSON."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"Request body is not valid JSON: {exc.msg} at position {exc.pos}", code="invalid_json"
        ) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise InvalidRequestError(
            f"Request body is nested more than {MAX_JSON_DEPTH} levels deep", code="json_too_deep"
        )
    return value


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from a request body (the OpenAI endpoints take nothing else)."""
    if not raw:
        raise InvalidRequestError("Request body is empty; expected a JSON object", code="invalid_json")
    parsed = parse_json(raw)
    if not isinstance(parsed, dict):
        raise InvalidRequestError("Request body must be a JSON object", code="invalid_json")
    return parsed


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` containers deep (the top level counts as one)."""
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(limit):
        nested: list[Any] = []
        for container in level:
            members = container.values() if type(container) is dict else container
            if not _CONTAINERS.isdisjoint(map(type, members)):
                nested.extend(member for member in members if type(member) in _CONTAINERS)
        if not nested:
            return False
        level = nested
    return True

"""Deeply nested JSON from a caller (tool-call arguments are JSON inside a string, so no bound on
the body sees them) or from an upstream: every walk over it is bounded, none raises RecursionError.
Hypothesis builds nested documents of any shape and depth (as text, without recursing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigw.cache.response_cache import make_key
from aigw.context.pii import Masker, PIIMode, apply_to_chat, apply_to_params
from aigw.context.pii.restore import restore_stream
from aigw.context.tokens import count_tools
from aigw.errors import InvalidRequestError
from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth, value_exceeds_depth
from aigw.normalize.response_format import ExpectedFormat, expected_format, problems
from aigw.types import ChatRequest

EMAIL = "jane.doe@example.com"
# Leaves with brackets, quotes and escapes inside strings: they must not count as nesting.
LEAVES = st.sampled_from(['"' + EMAIL + '"', '"[[{{"', '"\\"]]}}\\\\"', "1", "null", '"\\u005b"', "[]", "{}"])


@st.composite
def nested_text(draw: st.DrawFn, max_depth: int = 3000) -> tuple[str, int]:
    """A JSON text of arrays and objects around a leaf, and its depth (containers only)."""
    depth = draw(st.integers(min_value=0, max_value=max_depth))
    pattern = draw(st.lists(st.sampled_from(["list", "dict", "wide"]), min_size=1, max_size=8))
    kinds = [pattern[i % len(pattern)] for i in range(depth)]
    leaf = draw(LEAVES)
    opening = "".join({"list": "[", "dict": '{"k[":', "wide": '[1,"]",'}[k] for k in kinds)
    closing = "".join({"list": "]", "dict": "}", "wide": "]"}[k] for k in reversed(kinds))
    depth = len(kinds) + (1 if leaf in ("[]", "{}") else 0)
    return opening + leaf + closing, depth


@given(nested_text(), st.integers(min_value=0, max_value=200))
@settings(max_examples=300, deadline=None)
def test_the_depth_check_measures_containers_not_brackets_in_strings(doc: tuple[str, int], limit: int) -> None:
    text, depth = doc
    assert text_exceeds_depth(text, limit) is (depth > limit)
    assert text_exceeds_depth(text.encode(), limit) is (depth > limit)
    if depth < 900:  # json itself recurses: only shallow enough texts can be parsed to check the value walk
        assert value_exceeds_depth(json.loads(text), limit) is (depth > limit)


def call_with(arguments: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}],
        }
    ]


@given(nested_text())
@settings(max_examples=200, deadline=None)
def test_tool_arguments_of_any_depth_are_masked_without_recursion_error(doc: tuple[str, int]) -> None:
    text, _ = doc
    masker = Masker()
    [message] = apply_to_chat(call_with(text), masker, PIIMode.MASK)
    masked = message["tool_calls"][0]["function"]["arguments"]
    assert EMAIL not in masked
    if EMAIL in text:
        assert "<EMAIL_1>" in masked
        assert masker.restore(masked) == text or json.loads(masker.restore(masked)) == json.loads(text)


def test_arguments_nested_a_hundred_thousand_levels_are_masked_as_text() -> None:
    text = "[" * 100_000 + json.dumps(EMAIL) + "]" * 100_000
    [message] = apply_to_chat(call_with(text), Masker(), PIIMode.MASK)
    assert message["tool_calls"][0]["function"]["arguments"] == "[" * 100_000 + '"<EMAIL_1>"' + "]" * 100_000


def deep_value(depth: int) -> Any:
    value: Any = EMAIL
    for _ in range(depth):
        value = {"description": value}
    return value


@pytest.mark.parametrize("name", ["tools", "metadata", "response_format", "prediction"])
def test_a_parameter_nested_too_deeply_is_a_400_not_a_recursion_error(name: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        apply_to_params({name: deep_value(5000)}, Masker(), PIIMode.MASK)
    assert raised.value.param == name


def test_tools_nested_too_deeply_are_a_400_when_tokens_are_counted() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"a": deep_value(5000)}}}}]
    with pytest.raises(InvalidRequestError):
        count_tools("gpt-4o", tools)


def test_a_response_format_schema_nested_too_deeply_is_a_400() -> None:
    schema: Any = {"type": "object"}
    for _ in range(5000):
        schema = {"type": "object", "properties": {"a": schema}}
    spec = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    request = ChatRequest("m", [{"role": "user", "content": "hi"}], {"response_format": spec})
    with pytest.raises(InvalidRequestError):
        expected_format(request)


@pytest.mark.parametrize("validator", [None, "recursive schema"])
def test_an_answer_nested_too_deeply_is_a_format_problem(validator: str | None) -> None:
    schema = {"$defs": {"x": {"type": "array", "items": {"$ref": "#/$defs/x"}}}, "$ref": "#/$defs/x"}
    request = ChatRequest(
        "m", [], {"response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}}
    )
    expected = expected_format(request) if validator else ExpectedFormat("json_object")
    assert expected is not None
    content = "[" * 50_000 + "]" * 50_000
    body = {"choices": [{"message": {"role": "assistant", "content": content}}]}
    assert problems(body, expected) == [f"nested deeper than {MAX_JSON_DEPTH} levels"]


def test_a_request_too_deep_to_write_is_not_cached_instead_of_failing() -> None:
    assert make_key({"messages": deep_value(300)}) is None
    assert make_key({"messages": deep_value(10)}) is not None


async def test_a_streamed_choice_with_an_unhashable_index_is_restored() -> None:
    masker = Masker()
    masker.mask(EMAIL)

    async def chunks() -> Any:
        yield {"choices": [{"index": [1], "delta": {"content": "to <EMAIL_1>"}, "finish_reason": "stop"}]}

    out = [chunk async for chunk in restore_stream(chunks(), masker)]
    assert out[0]["choices"][0]["delta"]["content"] == "to " + EMAIL

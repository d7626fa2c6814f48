"""api/bodies: OpenAI request bodies validated and converted to ChatRequest / EmbeddingRequest."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.api.bodies import chat_request, embedding_request
from aigw.errors import InvalidRequestError

USER = [{"role": "user", "content": "hi"}]


def test_valid_chat_body_converts() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "content": "42", "tool_call_id": "c1"},
        ],
        "temperature": 0.2,
        "max_tokens": 100,
    }
    request = chat_request(body, "default-model")
    assert request.model == "gpt-4o"
    assert request.messages == body["messages"]
    assert request.params == {"temperature": 0.2, "max_tokens": 100}
    assert request.stream is False and request.include_usage is False


def test_unknown_chat_params_are_kept() -> None:
    body = {"model": "m", "messages": USER, "reasoning_effort": "low", "metadata": {"a": "b"}, "seed": 7}
    assert chat_request(body, None).params == {"reasoning_effort": "low", "metadata": {"a": "b"}, "seed": 7}


def test_stream_with_usage() -> None:
    body = {"model": "m", "messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    request = chat_request(body, None)
    assert request.stream is True and request.include_usage is True
    assert "stream" not in request.params and "stream_options" not in request.params


def test_other_stream_options_are_passed_on() -> None:
    body = {"model": "m", "messages": USER, "stream": True, "stream_options": {"include_usage": False, "x": 1}}
    request = chat_request(body, None)
    assert request.include_usage is False
    assert request.params == {"stream_options": {"x": 1}}


def test_include_usage_without_stream_is_ignored() -> None:
    request = chat_request({"model": "m", "messages": USER, "stream_options": {"include_usage": True}}, None)
    assert request.stream is False and request.include_usage is False


def test_missing_model_falls_back_to_the_default() -> None:
    assert chat_request({"messages": USER}, "gpt-4o-mini").model == "gpt-4o-mini"
    assert embedding_request({"input": "x"}, "text-embedding-3-small").model == "text-embedding-3-small"


@pytest.mark.parametrize("convert", [chat_request, embedding_request])
def test_missing_model_without_a_default_is_rejected(convert: Any) -> None:
    body = {"messages": USER} if convert is chat_request else {"input": "x"}
    with pytest.raises(InvalidRequestError) as info:
        convert(body, None)
    assert (info.value.param, info.value.code, info.value.status) == ("model", "missing_model", 400)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": "hello"}, "messages"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages.0.role"),
        ({"model": "m", "messages": [*USER, {"role": "user", "content": 5}]}, "messages.1.content"),
        ({"model": "m", "messages": USER, "temperature": 3}, "temperature"),
        ({"model": "m", "messages": USER, "temperature": -0.1}, "temperature"),
        ({"model": "m", "messages": USER, "top_p": 1.5}, "top_p"),
        ({"model": "m", "messages": USER, "n": 0}, "n"),
        ({"model": "m", "messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"model": "", "messages": USER}, "model"),
    ],
)
def test_invalid_chat_bodies_name_the_param(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        chat_request(body, "default")
    err = info.value
    assert err.param == param
    assert err.status == 400 and err.code == "invalid_value"
    assert param in err.message


def test_valid_embedding_body_converts() -> None:
    body = {"model": "e", "input": ["a", "b"], "encoding_format": "base64", "dimensions": 8, "user": "u1"}
    request = embedding_request(body, None)
    assert request.model == "e"
    assert request.input == ["a", "b"]
    assert request.params == {"encoding_format": "base64", "dimensions": 8, "user": "u1"}


@pytest.mark.parametrize("value", ["text", ["a", "b"], [1, 2, 3], [[1, 2], [3]]])
def test_embedding_input_shapes_are_accepted(value: Any) -> None:
    assert embedding_request({"model": "e", "input": value}, None).input == value


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "e", "input": ""}, "input"),
        ({"model": "e", "input": []}, "input"),
        ({"model": "e", "input": ["ok", ""]}, "input"),
        ({"model": "e", "input": [[1], []]}, "input"),
        ({"model": "e"}, "input"),
        ({"model": "e", "input": 5}, "input"),
        ({"model": "e", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "e", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_invalid_embedding_bodies_name_the_param(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        embedding_request(body, "default")
    assert info.value.param == param
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stream": "yes please"}, "stream"),
        ({"stream_options": 5}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": "maybe"}}, "stream_options.include_usage"),
    ],
)
def test_invalid_stream_fields_name_the_param(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        chat_request({"model": "m", "messages": USER, **extra}, "default")
    assert info.value.param == param


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "user", "content": [{"type": [], "text": "hi"}]}, "messages.0.content.0.type"),
        ({"role": "user", "content": [{"text": "hi"}]}, "messages.0.content.0.type"),
        ({"role": "user", "content": 5}, "messages.0.content"),
        ({"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}, "messages.0"),
        ({"role": "assistant", "function_call": {"name": ["f"]}}, "messages.0.function_call.name"),
        ({"role": "tool", "tool_call_id": 7, "content": "x"}, "messages.0.tool_call_id"),
    ],
)
def test_message_fields_the_gateway_reads_have_openais_types(message: dict[str, Any], param: str) -> None:
    """A content part whose type was a list reached the PII stage and raised there (a 500, found by the fuzzer)."""
    with pytest.raises(InvalidRequestError) as refused:
        chat_request({"model": "m", "messages": [message]}, None)
    assert refused.value.status == 400
    assert refused.value.param is not None and refused.value.param.startswith(param)


@pytest.mark.parametrize("dimensions", [8193, 5390114857])
def test_embedding_dimensions_are_bounded(dimensions: int) -> None:
    """The fuzzer asked the stub for 5,390,114,857 dimensions: a MemoryError and a 500."""
    with pytest.raises(InvalidRequestError) as refused:
        embedding_request({"model": "m", "input": "x", "dimensions": dimensions}, None)
    assert refused.value.param == "dimensions"

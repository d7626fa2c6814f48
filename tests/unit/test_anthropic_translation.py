"""The Anthropic adapter's translation functions: OpenAI request → Messages request, message →
chat.completion, stream events → chunks, error bodies → OpenAI's."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigw.errors import ProviderResponseError, ProviderStatusError
from aigw.providers.anthropic_answer import completion, error_from, usage_of
from aigw.providers.anthropic_request import AnthropicRefusal, messages_body
from aigw.providers.anthropic_stream import StreamTranslator

TOOL = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}


def body_for(messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    return messages_body("claude", messages, params, 1024)


def test_system_and_developer_messages_become_the_system_field_and_same_roles_merge() -> None:
    body = body_for(
        [
            {"role": "system", "content": "a"},
            {"role": "user", "content": "u1"},
            {"role": "developer", "content": [{"type": "text", "text": "b"}]},
            {"role": "user", "content": "u2"},
        ]
    )
    assert body["system"] == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "u1"}, {"type": "text", "text": "u2"}]}
    ]
    assert body["max_tokens"] == 1024


def test_max_tokens_stop_and_sampling() -> None:
    body = body_for([{"role": "user", "content": "x"}], max_completion_tokens=7, stop="END", temperature=0.5, top_p=0.9)
    assert (body["max_tokens"], body["stop_sequences"], body["temperature"], body["top_p"]) == (7, ["END"], 0.5, 0.9)
    assert body_for([{"role": "user", "content": "x"}], max_tokens=9, stop=["a", "b"])["stop_sequences"] == ["a", "b"]


def test_tool_calls_and_results_become_tool_use_and_tool_result_blocks() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": [1, 2]}'}}
    body = body_for(
        [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "done"},
            {"role": "user", "content": "and?"},
        ],
        tools=[TOOL],
        tool_choice={"type": "function", "function": {"name": "f"}},
        parallel_tool_calls=False,
    )
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "call_1", "name": "f", "input": {"x": [1, 2]}}],
    }
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "done"}]},
        {"type": "text", "text": "and?"},
    ]
    assert body["tools"] == [{"name": "f", "description": "d", "input_schema": {"type": "object"}}]
    assert body["tool_choice"] == {"type": "tool", "name": "f", "disable_parallel_tool_use": True}


@pytest.mark.parametrize(("choice", "expected"), [("auto", "auto"), ("required", "any"), ("none", "none")])
def test_tool_choice(choice: str, expected: str) -> None:
    assert body_for([{"role": "user", "content": "x"}], tools=[TOOL], tool_choice=choice)["tool_choice"] == {
        "type": expected
    }


def test_images_from_data_and_http_urls() -> None:
    parts = [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    blocks = body_for([{"role": "user", "content": parts}])["messages"][0]["content"]
    assert blocks == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ]


def test_json_schema_is_structured_output() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    body = body_for([{"role": "user", "content": "x"}], response_format=response_format)
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logprobs": True}, "logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"temperature": 1.5}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"tools": [{"type": "web_search"}]}, "tools"),
    ],
)
def test_what_anthropic_cannot_do_is_refused_naming_the_parameter(params: dict[str, Any], param: str) -> None:
    with pytest.raises(AnthropicRefusal) as caught:
        body_for([{"role": "user", "content": "x"}], **params)
    assert caught.value.param == param


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,AA"}}]},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}]},
        {"role": "tool", "content": "no id"},
        {"role": "function", "content": "legacy"},
    ],
)
def test_messages_anthropic_cannot_take_are_refused(message: dict[str, Any]) -> None:
    with pytest.raises(AnthropicRefusal):
        body_for([message])


def test_tool_call_arguments_nested_too_deep_are_refused_not_a_500() -> None:
    deep = '{"a": ' + "[" * 300 + "]" * 300 + "}"
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": deep}}
    with pytest.raises(AnthropicRefusal, match="nest deeper"):
        body_for([{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5))
def test_any_tool_call_arguments_round_trip(arguments: dict[str, Any]) -> None:
    """OpenAI arguments → Anthropic `input` → OpenAI arguments: the same JSON value."""
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": json.dumps(arguments)}}
    body = body_for([{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}])
    block = body["messages"][1]["content"][0]
    answer = {"type": "message", "id": "m", "model": "claude", "content": [block], "stop_reason": "tool_use"}
    out = completion(answer, "claude", "p", 1)["choices"][0]
    assert json.loads(out["message"]["tool_calls"][0]["function"]["arguments"]) == arguments
    assert out["finish_reason"] == "tool_calls"


def test_a_message_becomes_a_chat_completion_with_cache_tokens_in_usage() -> None:
    answer = {
        "type": "message",
        "id": "msg_1",
        "model": "claude-x",
        "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "Hi"}],
        "stop_reason": "max_tokens",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 4,
            "cache_creation_input_tokens": 3,
            "cache_read_input_tokens": 5,
        },
    }
    body = completion(answer, "asked", "p", 1)
    assert body["choices"][0]["message"]["content"] == "Hi" and body["choices"][0]["finish_reason"] == "length"
    assert body["usage"] == {
        "prompt_tokens": 18,
        "completion_tokens": 4,
        "total_tokens": 22,
        "prompt_tokens_details": {"cached_tokens": 5},
    }
    assert body["model"] == "claude-x" and body["object"] == "chat.completion"


def test_a_body_that_is_no_message_is_an_invalid_answer() -> None:
    with pytest.raises(ProviderResponseError):
        completion({"type": "error", "error": {}}, "m", "p", 1)


def test_usage_ignores_junk() -> None:
    assert usage_of({"input_tokens": "9", "output_tokens": -1})["total_tokens"] == 0
    assert usage_of(None) is None


def test_error_bodies_take_openais_shape_and_keep_status_and_wait() -> None:
    raw = ProviderStatusError(
        529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, retry_after=2.0
    )
    error = error_from(raw)
    assert error.status == 529 and error.retryable and error.retry_after == 2.0
    assert error.body == {
        "error": {"message": "Overloaded", "type": "api_error", "param": None, "code": "overloaded_error"}
    }


def stream_events(tool: bool) -> list[dict[str, Any]]:
    start = {"id": "msg_9", "model": "claude-x", "usage": {"input_tokens": 12, "output_tokens": 1}}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    events += [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
        {"type": "content_block_stop", "index": 0},
    ]
    if tool:
        block = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
        events += [
            {"type": "content_block_start", "index": 1, "content_block": block},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"a"'}},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ": 1}"}},
            {"type": "content_block_stop", "index": 1},
        ]
    stop = "tool_use" if tool else "end_turn"
    events += [
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 6}},
        {"type": "message_stop"},
    ]
    return events


def test_stream_events_become_chunks_with_usage_last() -> None:
    translator = StreamTranslator("asked", "p", 1)
    chunks = [chunk for event in stream_events(tool=True) for chunk in translator.chunks(event)]
    assert translator.complete
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello"
    calls = [call for c in chunks if c["choices"] for call in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0] == {"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    assert orjson.loads("".join(c["function"]["arguments"] for c in calls)) == {"a": 1}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 12
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    assert {c["id"] for c in chunks} == {"chatcmpl-msg_9"} and {c["model"] for c in chunks} == {"claude-x"}


def test_an_error_event_raises_the_status_of_its_type() -> None:
    translator = StreamTranslator("m", "p", 1)
    with pytest.raises(ProviderStatusError) as caught:
        translator.chunks({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert caught.value.status == 529 and caught.value.retryable


def test_unknown_events_are_skipped() -> None:
    assert StreamTranslator("m", "p", 1).chunks({"type": "some_future_event"}) == []

"""Anthropic Messages ⇄ canonical (OpenAI-shaped) translation: requests, answers and streams.

Streams are checked with the `anthropic` SDK's own accumulator: the events the gateway writes must
build, in the client, the same message as the plain answer to the same completion.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from hypothesis import given, settings
from hypothesis import strategies as st

from aigw.errors import InvalidRequestError, RateLimitError, ServiceUnavailableError, UpstreamError
from aigw.ingress.anthropic_request import messages_request
from aigw.ingress.anthropic_response import error_body, message_from_completion, usage
from aigw.ingress.anthropic_stream import MessageEvents

BASE: dict[str, Any] = {"model": "claude-x", "max_tokens": 64}
USER = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def request(**fields: Any) -> Any:
    return messages_request({**BASE, "messages": USER, **fields})


def refused(**fields: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        messages_request({**BASE, **fields})
    return caught.value


# --- requests ---------------------------------------------------------------------------------


def test_plain_request_becomes_the_canonical_chat_request() -> None:
    chat = request(
        system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind.", "cache_control": {}}],
        stop_sequences=["END"],
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        metadata={"user_id": "u-1"},
        stream=True,
    )
    assert chat.model == "claude-x" and chat.stream and not chat.include_usage
    assert chat.messages == [{"role": "system", "content": "Be brief.\nBe kind."}, {"role": "user", "content": "hi"}]
    # top_k has no canonical form: OpenAI refuses unknown parameters, so it is dropped.
    assert chat.params == {"max_tokens": 64, "stop": ["END"], "temperature": 0.5, "top_p": 0.9, "user": "u-1"}


def test_images_and_text_blocks_become_content_parts() -> None:
    chat = request(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                ],
            }
        ]
    )
    assert chat.messages[0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
    ]


def test_tool_loop_becomes_tool_calls_and_tool_messages() -> None:
    chat = request(
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "...", "signature": "s"},
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}]},
                    {"type": "text", "text": "And tomorrow?"},
                ],
            },
        ],
    )
    assert chat.messages[1] == {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    }
    # The tool result comes right after the assistant's call, before the rest of the user turn.
    assert chat.messages[2:] == [
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "user", "content": "And tomorrow?"},
    ]
    assert chat.params["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER_TOOL["input_schema"],
                "description": "Weather in a city",
            },
        }
    ]
    assert chat.params["tool_choice"] == "required"
    assert chat.params["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    ("choice", "canonical"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice(choice: dict[str, Any], canonical: Any) -> None:
    assert request(tools=[WEATHER_TOOL], tool_choice=choice).params["tool_choice"] == canonical


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": USER, "max_tokens": None}, "max_tokens"),
        ({"messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}, "messages.0.content.0"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages.0.content.0.text"),
        ({"messages": [{"role": "user", "content": []}]}, "messages.0.content"),
        ({"messages": USER, "temperature": 1.5}, "temperature"),
        ({"messages": USER, "top_k": -1}, "top_k"),
        ({"messages": USER, "stream": "yes"}, "stream"),
        ({"messages": USER, "metadata": {"user_id": "u", "other": "x"}}, "metadata.other"),
        ({"messages": USER, "thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking.type"),
        ({"messages": USER, "tools": [{"name": "bad name!", "input_schema": {"type": "object"}}]}, "tools.0.name"),
        ({"messages": USER, "tools": [{"name": "t", "input_schema": {"type": "string"}}]}, "tools.t.input_schema.type"),
        ({"messages": USER, "tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type"),
        ({"messages": USER, "tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"messages": USER, "tool_choice": {"type": "auto", "name": "t"}}, "tool_choice.name"),
        ({"messages": USER, "model": "m" * 257}, "model"),
        ({"messages": USER, "stop_sequences": ["s"] * 65}, "stop_sequences"),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "n", "input": {}}]}]},
            "messages.0.content.0.type",
        ),
        (
            {"messages": [{"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "t"}]}]},
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t",
                                "content": [{"type": "image", "source": {"type": "url", "url": "https://e.x/a.png"}}],
                            }
                        ],
                    }
                ]
            },
            "messages.0.content.0.content",
        ),
    ],
)
def test_invalid_requests_are_400_naming_the_field(fields: dict[str, Any], param: str) -> None:
    body = {**fields}
    if body.get("max_tokens", 1) is None:
        body.pop("max_tokens")
        error = _refused_without_max_tokens(body)
    else:
        error = refused(**body)
    assert error.status == 400
    assert error.param == param
    assert error.message.startswith(f"{param}: ")


def _refused_without_max_tokens(body: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        messages_request({"model": "m", **body})
    return caught.value


def test_unknown_fields_are_refused_and_their_names_not_echoed_whole() -> None:
    error = refused(messages=USER, **{"x" * 10_000: 1})
    assert error.param == "x" * 64
    assert len(error.message) < 200


def test_a_long_unknown_block_type_is_not_echoed_whole() -> None:
    error = refused(messages=[{"role": "user", "content": [{"type": "x" * 100_000}]}])
    assert error.param == "messages.0.content.0"
    assert len(error.message) < 400


def test_consecutive_turns_of_one_role_are_accepted_as_anthropic_accepts_them() -> None:
    chat = request(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert [m["content"] for m in chat.messages] == ["a", "b"]


# --- answers ----------------------------------------------------------------------------------


def completion(content: str | None, calls: list[dict[str, Any]] | None = None, finish: str = "stop") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-abc",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def call(index: int, name: str, arguments: str) -> dict[str, Any]:
    return {"id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_answer_with_text_and_tool_use() -> None:
    body = completion("Checking.", [call(0, "get_weather", '{"city": "Paris"}')], finish="tool_calls")
    assert message_from_completion(body) == {
        "id": "msg_abc",
        "type": "message",
        "role": "assistant",
        "model": "gpt-4o",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_0", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 5},
    }


@pytest.mark.parametrize(
    ("finish", "reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal")],
)
def test_stop_reasons(finish: str, reason: str) -> None:
    assert message_from_completion(completion("x", finish=finish))["stop_reason"] == reason


def test_cached_prompt_tokens_are_reported_apart_as_anthropic_does() -> None:
    raw = {"prompt_tokens": 100, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 64}}
    assert usage(raw) == {"input_tokens": 36, "output_tokens": 3, "cache_read_input_tokens": 64}


def test_tool_arguments_that_are_not_an_object_are_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        message_from_completion(completion(None, [call(0, "f", "[1, 2]")], finish="tool_calls"))


def test_errors_take_anthropics_shape_and_type() -> None:
    assert error_body(InvalidRequestError("bad")) == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad"},
    }
    assert error_body(RateLimitError("slow down"))["error"]["type"] == "rate_limit_error"
    assert error_body(ServiceUnavailableError("off"))["error"]["type"] == "overloaded_error"
    assert error_body(UpstreamError("down"))["error"]["type"] == "api_error"


# --- streams ----------------------------------------------------------------------------------


def chunks_for(text_pieces: list[str], tool_calls: list[tuple[str, list[str]]], finish: str) -> list[dict[str, Any]]:
    """An OpenAI stream: the role chunk, text deltas, tool calls (id and name, then argument
    fragments), the finish reason, then the usage chunk."""
    base = {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "model": "gpt-4o"}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": piece}) for piece in text_pieces]
    for index, (name, fragments) in enumerate(tool_calls):
        head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": ""}}
        out.append(chunk({"tool_calls": [head]}))
        out += [chunk({"tool_calls": [{"index": index, "function": {"arguments": f}}]}) for f in fragments]
    out.append(chunk({}, finish))
    out.append({**base, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}})
    return out


def relay(chunks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    events = MessageEvents("requested-model")
    wire = b"".join(b"".join(events.feed(c)) for c in chunks) + b"".join(events.finish())
    parsed = []
    for frame in wire.split(b"\n\n"):
        if frame:
            name_line, data_line = frame.split(b"\n")
            assert name_line.startswith(b"event: ") and data_line.startswith(b"data: ")
            data = orjson.loads(data_line[6:])
            assert data["type"] == name_line[7:].decode()
            parsed.append((data["type"], data))
    return parsed


def sdk_message(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The final message the `anthropic` SDK builds from these events."""
    snapshot = None
    buffers: dict[int, bytes] = {}
    for name, data in events:
        if name != "ping":
            snapshot = accumulate_event(event=data, current_snapshot=snapshot, json_bufs=buffers)  # type: ignore[arg-type]
    assert snapshot is not None
    return snapshot.model_dump(exclude_none=True)


def test_stream_event_sequence_for_text_then_a_tool_call() -> None:
    events = relay(chunks_for(["Hel", "lo"], [("get_weather", ['{"ci', 'ty": "Paris"}'])], "tool_calls"))
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[6][1]["content_block"] == {"type": "tool_use", "id": "call_0", "name": "get_weather", "input": {}}
    assert events[7][1]["delta"] == {"type": "input_json_delta", "partial_json": '{"ci'}
    assert events[10][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"input_tokens": 12, "output_tokens": 5},
    }


def test_an_empty_stream_still_starts_and_ends_a_message() -> None:
    events = relay([])
    assert [name for name, _ in events] == ["message_start", "ping", "message_delta", "message_stop"]
    assert events[0][1]["message"]["model"] == "requested-model"


def test_a_failure_is_anthropics_error_event() -> None:
    frame = MessageEvents.error(UpstreamError("upstream cut the stream"))
    assert frame == (
        b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"upstream cut the stream"}}\n\n'
    )


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
_ARGUMENTS = st.dictionaries(
    st.text(min_size=1, max_size=5), st.integers(-(2**53), 2**53) | st.text(max_size=8), max_size=3
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


@settings(max_examples=100, deadline=None)
@given(
    pieces=st.lists(_TEXT, max_size=5),
    tools=st.lists(
        st.tuples(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), _ARGUMENTS, st.lists(st.integers(0, 99))), max_size=3
    ),
    finish=st.sampled_from(["stop", "length", "tool_calls", "content_filter"]),
)
def test_the_sdk_builds_from_the_stream_the_message_of_the_plain_answer(
    pieces: list[str], tools: list[tuple[str, dict[str, Any], list[int]]], finish: str
) -> None:
    arguments = [orjson.dumps(args).decode() for _, args, _ in tools]
    streamed = [(name, _split(text, cuts)) for (name, _, cuts), text in zip(tools, arguments, strict=True)]
    calls = [call(i, name, text) for i, ((name, _, _), text) in enumerate(zip(tools, arguments, strict=True))]
    plain = message_from_completion(completion("".join(pieces) or None, calls, finish))
    assert sdk_message(relay(chunks_for(pieces, streamed, finish))) == {k: v for k, v in plain.items() if v is not None}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_BLOCK = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image", "tool_use", "tool_result", "thinking", "document", "x"])},
    optional={"text": _JSON, "source": _JSON, "id": _JSON, "name": _JSON, "input": _JSON, "tool_use_id": _JSON,
              "content": _JSON | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": _JSON}))},
)  # fmt: skip
_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", 3]), "content": st.text(max_size=5) | st.lists(_BLOCK)}
)


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(_MESSAGE, max_size=4) | _JSON,
    extra=st.dictionaries(
        st.sampled_from(["system", "tools", "tool_choice", "stop_sequences", "metadata", "top_k", "stream"]), _JSON
    ),
)
def test_any_body_is_a_request_or_a_400(messages: Any, extra: dict[str, Any]) -> None:
    """Whatever the caller sends, the translation answers a request or a clear 400, never a 500."""
    try:
        chat = messages_request({**BASE, "messages": messages, **extra})
    except InvalidRequestError as error:
        assert error.param and len(error.message) < 1000
    else:
        assert all(m["role"] in ("system", "user", "assistant", "tool") for m in chat.messages)
        orjson.dumps(chat.messages)

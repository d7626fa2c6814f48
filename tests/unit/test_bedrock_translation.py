"""Bedrock Converse translation: OpenAI requests to Converse bodies, Converse answers, stream events
and errors back to OpenAI's shapes (pure functions, no I/O). Field names are checked against
botocore's shipped service model, so a body the adapter writes is one Converse documents."""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any

import pytest

from aigw.errors import ProviderResponseError, ProviderStatusError, gateway_error_from
from aigw.providers.bedrock_answer import completion, error_code, status_error, stream_exception, usage_of
from aigw.providers.bedrock_request import BedrockRefusal, converse_body
from aigw.providers.bedrock_stream import EventStreamDecoder, StreamTranslator
from tests.support.mock_bedrock_wire import event_frame, exception_frame, frame

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@cache
def shapes() -> dict[str, Any]:
    data = resources.files("botocore") / "data" / "bedrock-runtime" / "2023-09-30" / "service-2.json.gz"
    return json.loads(gzip.decompress(data.read_bytes()))["shapes"]  # type: ignore[no-any-return]


def conforms(value: Any, shape_name: str, where: str = "") -> None:
    """Asserts that `value` fits the service model's shape (members, unions, lists, enums, ranges)."""
    shape = shapes()[shape_name]
    kind = shape["type"]
    if kind == "structure":
        assert isinstance(value, dict), where
        unknown = set(value) - set(shape["members"])
        assert not unknown, f"{where}: {unknown} not in {shape_name}"
        assert not set(shape.get("required", [])) - set(value), f"{where}: missing required"
        members = {name: spec for name, spec in shape["members"].items() if spec.get("location") != "uri"}
        if shape.get("union"):
            assert len(value) == 1, f"{where}: a union sets one member"
        for name, member in value.items():
            if name in members and members[name]["shape"] != "Document":
                conforms(member, members[name]["shape"], f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list) and len(value) >= shape.get("min", 0), where
        for index, item in enumerate(value):
            conforms(item, shape["member"]["shape"], f"{where}[{index}]")
    elif kind == "string":
        assert isinstance(value, str) and len(value) >= shape.get("min", 0), where
        assert value in shape.get("enum", [value]), where
    elif kind in ("integer", "float"):
        assert shape.get("min", value) <= value <= shape.get("max", value), where
    elif kind == "blob":
        assert isinstance(value, str) and value, where  # base64 in JSON
    elif kind == "boolean":
        assert isinstance(value, bool), where


def body(messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    translated = converse_body(messages, params)
    conforms({**translated, "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}, "ConverseRequest")
    return translated


def test_system_turns_images_and_inference_settings() -> None:
    translated = body(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Say yes."}]},
            {"role": "user", "content": "Hi"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
        ],
        max_tokens=64,
        temperature=0.2,
        top_p=0.9,
        stop="END",
        seed=7,
        user="u1",
    )
    assert translated == {
        "system": [{"text": "Be brief."}, {"text": "Say yes."}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "Hi"},
                    {"text": "What is this?"},
                    {"image": {"format": "png", "source": {"bytes": PNG}}},
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 64, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
    }


def test_tools_tool_calls_and_tool_results() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    translated = body(
        [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "user", "content": "Thanks"},
        ],
        tools=[{**TOOL, "function": {**TOOL["function"], "strict": True}}],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    )
    assert translated["messages"][1:] == [
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"text": "sunny"}]}}, {"text": "Thanks"}],
        },
    ]
    spec = translated["toolConfig"]["tools"][0]["toolSpec"]
    assert spec == {
        "name": "get_weather",
        "inputSchema": {"json": TOOL["function"]["parameters"]},
        "description": "The weather",
        "strict": True,
    }
    assert translated["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}
    assert body([{"role": "user", "content": "x"}], tools=[TOOL], tool_choice="required")["toolConfig"][
        "toolChoice"
    ] == {"any": {}}
    assert body([{"role": "user", "content": "x"}], tools=[TOOL], tool_choice="auto")["toolConfig"]["toolChoice"] == {
        "auto": {}
    }
    assert "toolConfig" not in body([{"role": "user", "content": "x"}], tools=[TOOL], tool_choice="none")


def test_json_schema_is_structured_output_with_the_schema_as_text() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    translated = body(
        [{"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    )
    definition = translated["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert translated["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert json.loads(definition["schema"]) == schema and definition["name"] == "answer"


@pytest.mark.parametrize(
    ("params", "messages", "param"),
    [
        ({"n": 2}, None, "n"),
        ({"response_format": {"type": "json_object"}}, None, "response_format"),
        ({"logprobs": True}, None, "logprobs"),
        ({"presence_penalty": 0.5}, None, "presence_penalty"),
        ({"temperature": 1.5}, None, "temperature"),
        ({"top_p": -0.1}, None, "top_p"),
        ({"max_tokens": 0}, None, "max_tokens"),
        ({"stop": ["ok", ""]}, None, "stop"),
        (
            {},
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]}],
            "messages[0].content",
        ),
        (
            {},
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA=="}}]}],
            "messages[0].content",
        ),
        ({}, [{"role": "user", "content": [{"type": "input_audio"}]}], "messages[0].content"),
        ({}, [{"role": "function", "content": "x"}], "messages[0]"),
        (
            {"tools": [TOOL], "tool_choice": "none"},
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "get_weather", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c", "content": "r"},
            ],
            "tool_choice",
        ),
        (
            {},
            [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}],
            "messages[0].tool_calls",
        ),
    ],
)
def test_what_converse_cannot_do_is_a_400_naming_the_parameter(
    params: dict[str, Any], messages: list[dict[str, Any]] | None, param: str
) -> None:
    with pytest.raises(BedrockRefusal) as refused:
        converse_body(messages or [{"role": "user", "content": "x"}], params)
    assert refused.value.param == param


def test_an_answer_with_text_tool_use_and_cache_tokens() -> None:
    answer = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm"}}},
                    {"text": "Checking."},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 10,
            "outputTokens": 5,
            "totalTokens": 27,
            "cacheReadInputTokens": 8,
            "cacheWriteInputTokens": 4,
        },
        "metrics": {"latencyMs": 100},
    }
    reply = completion(answer, "us.anthropic.claude-x-v1:0", "b", 1)
    message = reply["choices"][0]["message"]
    assert message["content"] == "Checking." and reply["model"] == "us.anthropic.claude-x-v1:0"
    assert message["tool_calls"] == [
        {"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    ]
    assert reply["choices"][0]["finish_reason"] == "tool_calls"
    assert reply["usage"] == {
        "prompt_tokens": 22,
        "completion_tokens": 5,
        "total_tokens": 27,
        "prompt_tokens_details": {"cached_tokens": 8},
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_stop_reasons(stop_reason: str, finish: str) -> None:
    answer = {"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}}, "stopReason": stop_reason}
    assert completion(answer, "m", "b", 1)["choices"][0]["finish_reason"] == finish


def test_a_malformed_model_answer_is_a_bad_answer() -> None:
    answer = {"output": {"message": {"role": "assistant", "content": []}}, "stopReason": "malformed_tool_use"}
    with pytest.raises(ProviderResponseError):
        completion(answer, "m", "b", 1)
    with pytest.raises(ProviderResponseError):
        completion({"output": {}}, "m", "b", 1)


@pytest.mark.parametrize(
    ("status", "header", "client_status", "retryable"),
    [
        (400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", 400, False),
        (403, "AccessDeniedException", 502, False),
        (403, "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/", 502, False),
        (404, "ResourceNotFoundException", 404, False),
        (408, "ModelTimeoutException", 502, True),
        (429, "ThrottlingException", 429, True),
        (429, "ModelNotReadyException", 429, True),
        (500, "InternalServerException", 502, True),
        (503, "ServiceUnavailableException", 502, True),
    ],
)
def test_http_errors_keep_their_status_and_name(status: int, header: str, client_status: int, retryable: bool) -> None:
    code = error_code(header, {"message": "no"})
    error = status_error(status, code, {"message": "no"}, "b")
    assert error.status == status and error.retryable is retryable
    assert error.body == {
        "error": {"message": "no", "type": error.body["error"]["type"], "param": None, "code": header.split(":")[0]}
    }  # type: ignore[index]
    assert gateway_error_from(error).status == client_status


def test_the_error_name_may_come_in_the_body() -> None:
    assert (
        error_code(None, {"__type": "com.amazon.coral.validate#ValidationException", "Message": "m"})
        == "ValidationException"
    )
    assert status_error(400, None, {"Message": "m"}, "b").message == "m"
    assert status_error(502, None, None, "b").message == "Bedrock answered HTTP 502"


def test_usage_without_cache_fields() -> None:
    assert usage_of({"inputTokens": 3, "outputTokens": 2, "totalTokens": 5})["total_tokens"] == 5  # type: ignore[index]
    assert usage_of("nope") is None


def decode(frames: bytes, pieces: int = 1, limit: int = 1 << 20) -> list[tuple[dict[str, Any], bytes]]:
    decoder = EventStreamDecoder(limit, "b")
    size = max(1, len(frames) // pieces)
    out = [m for i in range(0, len(frames), size) for m in decoder.feed(frames[i : i + size])]
    assert not decoder.pending
    return out


def stream_frames() -> bytes:
    return b"".join(
        [
            event_frame("messageStart", {"role": "assistant"}),
            event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}),
            event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "x"}}}),
            event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "lo"}}),
            event_frame("contentBlockStop", {"contentBlockIndex": 0}),
            event_frame(
                "contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}
            ),
            event_frame("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"a":'}}}),
            event_frame("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "1}"}}}),
            event_frame("contentBlockStop", {"contentBlockIndex": 1}),
            event_frame("messageStop", {"stopReason": "tool_use"}),
            event_frame(
                "metadata",
                {"usage": {"inputTokens": 4, "outputTokens": 6, "totalTokens": 10}, "metrics": {"latencyMs": 1}},
            ),
        ]
    )


@pytest.mark.parametrize("pieces", [1, 7, 1000])
def test_a_stream_however_it_is_cut_gives_the_same_chunks(pieces: int) -> None:
    translator = StreamTranslator("m", "b", 1)
    chunks = [c for headers, payload in decode(stream_frames(), pieces) for c in translator.chunks(headers, payload)]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("content") or "" for d in deltas) == "Hello"
    calls = [call for d in deltas for call in d.get("tool_calls", [])]
    assert calls[0] == {"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}}
    assert "".join(call["function"]["arguments"] for call in calls) == '{"a":1}'
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 10
    assert translator.stopped and translator.complete


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("throttlingException", 429),
        ("modelStreamErrorException", 502),
        ("internalServerException", 500),
        ("serviceUnavailableException", 503),
        ("validationException", 400),
    ],
)
def test_exceptions_in_a_stream_are_status_errors(kind: str, status: int) -> None:
    ((headers, payload),) = decode(exception_frame(kind, "boom"))
    with pytest.raises(ProviderStatusError) as caught:
        StreamTranslator("m", "b", 1).chunks(headers, payload)
    assert caught.value.status == status and caught.value.message == "boom"
    assert stream_exception(kind, {"message": "x"}, "b").body["error"]["code"] == kind[0].upper() + kind[1:]  # type: ignore[index]


def test_an_error_message_is_a_server_error() -> None:
    ((headers, payload),) = decode(
        frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "bad"}, b"")
    )
    with pytest.raises(ProviderStatusError) as caught:
        StreamTranslator("m", "b", 1).chunks(headers, payload)
    assert caught.value.status == 500 and caught.value.message == "bad"


def test_malformed_and_oversized_frames_are_bad_answers() -> None:
    good = event_frame("messageStart", {"role": "assistant"})
    corrupted = good[:-1] + bytes([good[-1] ^ 1])  # the message CRC
    with pytest.raises(ProviderResponseError, match="malformed event stream"):
        decode(corrupted)
    bad_prelude = good[:8] + b"\0\0\0\0" + good[12:]
    with pytest.raises(ProviderResponseError, match="malformed event stream"):
        decode(bad_prelude)
    with pytest.raises(ProviderResponseError, match="larger than 64 bytes"):
        decode(good, limit=64)
    with pytest.raises(ProviderResponseError, match="not a JSON object"):
        StreamTranslator("m", "b", 1).chunks({":message-type": "event", ":event-type": "messageStart"}, b"[1]")


def test_a_cut_inside_a_message_is_seen() -> None:
    decoder = EventStreamDecoder(1 << 20, "b")
    assert list(decoder.feed(event_frame("messageStart", {"role": "assistant"})[:20])) == []
    assert decoder.pending

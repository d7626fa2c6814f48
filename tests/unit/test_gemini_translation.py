"""OpenAI <-> Gemini translation: requests, answers, stream events, errors, embeddings."""

from __future__ import annotations

import base64

import numpy as np
import orjson
import pytest

from aigw.errors import ProviderResponseError, ProviderStatusError, gateway_error_from
from aigw.providers import gemini_answer as answers
from aigw.providers.gemini_request import (
    THOUGHT_SIGNATURE_PLACEHOLDER,
    GeminiRefusal,
    chat_body,
    embedding_texts,
    studio_embeddings_body,
    vertex_embeddings_body,
)
from aigw.providers.gemini_stream import StreamTranslator

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string", "$comment": "a name"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def test_roles_system_instruction_and_sampling_parameters() -> None:
    body = chat_body(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "Again"},
        ],
        {"temperature": 0.2, "top_p": 0.9, "n": 2, "stop": "END", "max_tokens": 50, "seed": 7},
    )
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use French."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][1]["parts"] == [{"text": "Bonjour"}]
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "candidateCount": 2,
        "seed": 7,
        "maxOutputTokens": 50,
        "stopSequences": ["END"],
    }


def test_max_completion_tokens_wins_and_stop_lists_pass() -> None:
    config = chat_body([{"role": "user", "content": "x"}], {"max_completion_tokens": 9, "stop": ["a", "b"]})[
        "generationConfig"
    ]
    assert config == {"maxOutputTokens": 9, "stopSequences": ["a", "b"]}


def test_images_from_data_urls_are_inline_data_and_http_urls_file_data() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg?size=2"}},
    ]
    parts = chat_body([{"role": "user", "content": content}], {})["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert parts[2] == {"fileData": {"fileUri": "https://example.com/cat.jpg?size=2", "mimeType": "image/jpeg"}}


@pytest.mark.parametrize(
    ("content", "param"),
    [
        ([{"type": "image_url", "image_url": {"url": "data:image/png,notbase64"}}], "messages.0.content.0"),
        ([{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}], "messages.0.content.0"),
        ([{"type": "refusal", "refusal": "x"}], "messages.0.content.0"),
    ],
)
def test_content_gemini_cannot_take_is_refused_with_the_field(content: list[dict[str, object]], param: str) -> None:
    with pytest.raises(GeminiRefusal) as caught:
        chat_body([{"role": "user", "content": content}], {})
    assert caught.value.param == param


def test_tools_choice_calls_and_results_round_trip() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "call_b", "content": "sunny"},
    ]
    body = chat_body(messages, {"tools": [WEATHER_TOOL], "tool_choice": "required"})
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather"
    assert declaration["parametersJsonSchema"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    model_turn, results = body["contents"][1], body["contents"][2]
    assert model_turn["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnbmF0dXJl"},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
    ]
    assert results == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
        ],
    }


def test_a_replayed_call_without_signature_gets_googles_placeholder_on_the_first_call_only() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = chat_body(
        [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call, {**call, "id": "c2"}]}], {}
    )
    parts = body["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == THOUGHT_SIGNATURE_PLACEHOLDER
    assert "thoughtSignature" not in parts[1]


def test_named_tool_choice_and_unknown_tool_call_id() -> None:
    choice = {"type": "function", "function": {"name": "get_weather"}}
    body = chat_body([{"role": "user", "content": "x"}], {"tools": [WEATHER_TOOL], "tool_choice": choice})
    assert body["toolConfig"]["functionCallingConfig"] == {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    with pytest.raises(GeminiRefusal) as caught:
        chat_body([{"role": "tool", "tool_call_id": "nowhere", "content": "x"}], {})
    assert caught.value.param == "messages.0.tool_call_id"


def test_json_mode_and_json_schema() -> None:
    json_mode = chat_body([{"role": "user", "content": "x"}], {"response_format": {"type": "json_object"}})
    assert json_mode["generationConfig"] == {"responseMimeType": "application/json"}
    schema = {"$schema": "x", "type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": True}}
    config = chat_body([{"role": "user", "content": "x"}], {"response_format": fmt})["generationConfig"]
    assert config == {
        "responseMimeType": "application/json",
        "responseJsonSchema": {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "additionalProperties": False,
        },
    }


def test_parameters_gemini_lacks_are_refused() -> None:
    with pytest.raises(GeminiRefusal) as caught:
        chat_body([{"role": "user", "content": "x"}], {"logit_bias": {"1": 2}})
    assert caught.value.param == "logit_bias"


def _answer(parts: list[dict[str, object]], finish: str = "STOP") -> dict[str, object]:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 3,
            "totalTokenCount": 17,
            "cachedContentTokenCount": 6,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "abc",
    }


def test_answer_text_usage_and_finish_reasons() -> None:
    body = answers.completion(
        _answer([{"text": "thinking", "thought": True}, {"text": "Hi "}, {"text": "there"}]), "g", "p", 5
    )
    assert body["id"] == "chatcmpl-abc"
    assert body["model"] == "gemini-2.5-flash"
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}
    ]
    assert body["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 7,
        "total_tokens": 17,
        "prompt_tokens_details": {"cached_tokens": 6},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    assert (
        answers.completion(_answer([{"text": "cut"}], "MAX_TOKENS"), "g", "p", 5)["choices"][0]["finish_reason"]
        == "length"
    )


def test_answer_function_calls_become_tool_calls_with_ids_and_json_arguments() -> None:
    part = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sig"}
    message = answers.completion(_answer([part]), "g", "p", 5)["choices"][0]
    assert message["finish_reason"] == "tool_calls"
    call = message["message"]["tool_calls"][0]
    assert call["id"].startswith("call_") and len(call["id"]) > 10
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert call["extra_content"] == {"google": {"thought_signature": "sig"}}
    assert message["message"]["content"] is None


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"])
def test_a_safety_block_is_a_400_refusal_never_retried_nor_held_against_the_provider(reason: str) -> None:
    with pytest.raises(ProviderStatusError) as caught:
        answers.completion(_answer([], reason), "g", "p", 5)
    error = caught.value
    assert (error.status, error.retryable, error.counts_against_health) == (400, False, False)
    client_error = gateway_error_from(error)
    assert client_error.status == 400
    assert client_error.to_body()["error"]["code"] == "content_filtered"


def test_a_blocked_prompt_is_the_same_refusal() -> None:
    with pytest.raises(ProviderStatusError) as caught:
        answers.completion({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}, "g", "p", 5)
    assert caught.value.body is not None and caught.value.body["error"]["code"] == "content_filtered"


def test_an_answer_without_candidates_is_invalid() -> None:
    with pytest.raises(ProviderResponseError):
        answers.completion({"usageMetadata": {}}, "g", "p", 5)


def test_stream_events_become_chunks_with_usage_at_the_end() -> None:
    translator = StreamTranslator("gemini-x", "p", 5)
    first = translator.chunks(
        {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}], "usageMetadata": {"promptTokenCount": 3}}
    )
    call = {"functionCall": {"name": "f", "args": {"a": 1}}}
    last = translator.chunks(
        {
            "candidates": [{"content": {"parts": [{"text": "lo"}, call]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
        }
    )
    deltas = [c["choices"][0]["delta"] for c in first + last]
    assert deltas[0] == {"role": "assistant", "content": "Hel"}
    assert deltas[1] == {"content": "lo"}
    assert deltas[2]["tool_calls"][0]["index"] == 0
    assert deltas[2]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a":1}'}
    assert deltas[3] == {}
    assert last[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert {c["id"] for c in first + last} == {translator.id}
    final = translator.final()
    assert final is not None and final["choices"] == []
    assert final["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_a_safety_block_mid_stream_raises_the_refusal() -> None:
    translator = StreamTranslator("g", "p", 5)
    translator.chunks({"candidates": [{"content": {"parts": [{"text": "a"}]}}]})
    with pytest.raises(ProviderStatusError) as caught:
        translator.chunks({"candidates": [{"finishReason": "SAFETY"}]})
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("status", "google_status", "openai_type", "retryable", "counts"),
    [
        (429, "RESOURCE_EXHAUSTED", "rate_limit_error", True, False),
        (503, "UNAVAILABLE", "api_error", True, True),
        (500, "INTERNAL", "api_error", True, True),
        (400, "INVALID_ARGUMENT", "invalid_request_error", False, False),
        (403, "PERMISSION_DENIED", "permission_error", False, True),
    ],
)
def test_google_errors_become_openai_errors_with_the_same_status(
    status: int, google_status: str, openai_type: str, retryable: bool, counts: bool
) -> None:
    google = {"error": {"code": status, "message": "nope", "status": google_status}}
    error = answers.error_from(ProviderStatusError(status, google, provider="p"))
    assert (error.status, error.retryable, error.counts_against_health) == (status, retryable, counts)
    assert error.body == {
        "error": {"message": "nope", "type": openai_type, "param": None, "code": google_status.lower()}
    }


def test_an_invalid_api_key_is_an_authentication_failure_and_retry_delay_is_read() -> None:
    bad_key = {
        "error": {
            "code": 400,
            "message": "API key not valid.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    assert answers.error_from(ProviderStatusError(400, bad_key)).status == 401
    limited = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}],
        }
    }
    assert answers.error_from(ProviderStatusError(429, limited)).retry_after == 37.0
    assert answers.error_from(ProviderStatusError(429, limited, retry_after=2.0)).retry_after == 2.0


def test_embeddings_requests_and_answers() -> None:
    assert embedding_texts("one") == ["one"]
    with pytest.raises(GeminiRefusal):
        embedding_texts([[1, 2, 3]])
    studio = studio_embeddings_body("gemini-embedding-001", ["a", "b"], {"dimensions": 8})
    assert studio["requests"][1] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "b"}]},
        "outputDimensionality": 8,
    }
    assert vertex_embeddings_body(["a"], {}) == {"instances": [{"content": "a"}]}
    vectors, tokens = answers.vertex_vectors(
        {"predictions": [{"embeddings": {"values": [0.5, 1.0], "statistics": {"token_count": 4}}}]}, "p"
    )
    assert (vectors, tokens) == ([[0.5, 1.0]], 4)
    body = answers.embeddings(vectors, "m", tokens, "base64")
    packed = base64.b64decode(body["data"][0]["embedding"])
    assert np.frombuffer(packed, dtype="<f4").tolist() == [0.5, 1.0]
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    with pytest.raises(ProviderResponseError):
        answers.studio_vectors({"embeddings": [{"values": ["x"]}]}, "p")
    assert orjson.loads(orjson.dumps(answers.embeddings([[1.0]], "m", None, None)))["data"][0]["embedding"] == [1.0]

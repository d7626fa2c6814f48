"""The official openai SDK against a gateway alias served by Gemini (tests/support/mock_gemini.py):
chat plain, streamed and with tools, and embeddings, all translated both ways by the gemini adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import yaml

from tests.conftest import MASTER_KEY
from tests.support.mock_gemini import API_KEY, MockGemini
from tests.support.processes import GatewayProcess, start_gateway

pytestmark = pytest.mark.integration

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockGemini]:
    server = MockGemini().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(mock: MockGemini, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    tmp_path: Path = tmp_path_factory.mktemp("sdk-gemini")
    config = {
        "providers": [
            {"name": "google", "type": "gemini", "base_url": mock.studio_url, "api_key_env": "AI_PROVIDER_GEMINI_KEY"}
        ],
        "models": {
            "smart": [{"provider": "google", "model": "gemini-2.5-flash"}],
            "embedder": [{"provider": "google", "model": "gemini-embedding-001"}],
        },
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {"AI_MASTER_KEY": MASTER_KEY, "AI_PROVIDER_GEMINI_KEY": API_KEY}
    process = start_gateway(tmp_path, env, "--config", str(path))
    yield process
    process.stop()


@pytest.fixture
def client(gateway: GatewayProcess, mock: MockGemini) -> Iterator[openai.OpenAI]:
    mock.reset()
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=10) as sdk:
        yield sdk


def test_plain_chat(client: openai.OpenAI, mock: MockGemini) -> None:
    reply = client.chat.completions.create(
        model="smart",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        temperature=0.2,
        max_tokens=50,
    )
    assert reply.choices[0].message.content == "You said: Say hello"
    assert reply.choices[0].finish_reason == "stop"
    assert (
        reply.usage is not None
        and reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    )
    sent = mock.requests[-1]
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["body"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["body"]["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 50}


def test_streamed_chat_ends_with_usage(client: openai.OpenAI, mock: MockGemini) -> None:
    chunks = list(
        client.chat.completions.create(
            model="smart",
            messages=[{"role": "user", "content": "Say hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert mock.requests[-1]["query"] == {"alt": "sse"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Say hello"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tool_call_and_result_round_trip(client: openai.OpenAI, mock: MockGemini) -> None:
    question = {"role": "user", "content": "Use the tool for Paris"}
    first = client.chat.completions.create(model="smart", messages=[question], tools=[TOOL])
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    declared = mock.requests[-1]["body"]["tools"][0]["functionDeclarations"][0]
    assert declared["parametersJsonSchema"]["additionalProperties"] is False
    messages = [
        question,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
    ]
    second = client.chat.completions.create(model="smart", messages=messages, tools=[TOOL])
    assert second.choices[0].message.content == "The tool said: sunny, 21 C"
    replayed = mock.requests[-1]["body"]["contents"]
    assert replayed[1]["parts"][0]["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}}
    assert replayed[1]["parts"][0]["thoughtSignature"] == "bW9jay1zaWduYXR1cmU="  # Gemini's own, sent back
    assert replayed[2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_embeddings_float_and_base64(client: openai.OpenAI, mock: MockGemini) -> None:
    floats = client.embeddings.create(model="embedder", input=["first", "second"], encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1] and len(floats.data[0].embedding) == 8
    packed = client.embeddings.create(model="embedder", input="first")  # the SDK asks for base64
    assert packed.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)
    assert mock.requests[-1]["path"] == "/v1beta/models/gemini-embedding-001:batchEmbedContents"


def test_a_safety_block_is_a_400_content_filtered(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="smart", messages=[{"role": "user", "content": "BLOCK_PROMPT now"}])
    assert caught.value.response.json()["error"]["code"] == "content_filtered"

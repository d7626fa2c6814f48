"""Stub provider: deterministic chat answers, streams and bag-of-words embeddings."""

from __future__ import annotations

import base64
import math
import struct

import pytest

from aigw.providers.registry import build_provider, discover, parse_provider_config
from aigw.providers.stub import StubProvider, StubProviderConfig, hashed_embedding, stub_answer
from aigw.types import AIResponse, ChatRequest, ChatStream, EmbeddingRequest, TaskKind, Usage
from tests.unit.fakes import collect

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the whole team"},
]


@pytest.fixture
def stub() -> StubProvider:
    return StubProvider(StubProviderConfig(name="stub", embedding_dim=64))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def embed(stub: StubProvider, text: str | list[str], **params: object) -> AIResponse:
    result = await stub.execute_task(EmbeddingRequest(model="stub-embedding", input=text, params=dict(params)))
    assert isinstance(result, AIResponse)
    return result


async def test_chat_answer_is_deterministic_with_usage(stub: StubProvider) -> None:
    request = ChatRequest(model="stub-chat", messages=MESSAGES)
    first = await stub.execute_task(request)
    second = await stub.execute_task(ChatRequest(model="stub-chat", messages=list(MESSAGES)))
    assert isinstance(first, AIResponse) and isinstance(second, AIResponse)
    text = first.body["choices"][0]["message"]["content"]
    assert text == (
        "This is the aigw stub provider: no model was called. Your last message had 6 words across 2 messages."
    )
    assert first.body["choices"][0]["finish_reason"] == "stop"
    assert first.body["choices"][0]["message"]["role"] == "assistant"
    assert first.body["object"] == "chat.completion"
    assert first.body["model"] == "stub-chat" and first.model == "stub-chat"
    assert first.body["id"] == second.body["id"]
    assert first.body["id"].startswith("chatcmpl-stub")
    assert second.body["choices"] == first.body["choices"]
    # prompt: len(text) // 4 + 4 per message; completion: words of the answer
    assert first.usage == Usage(prompt_tokens=(14 // 4 + 4) + (27 // 4 + 4), completion_tokens=19, total_tokens=36)
    assert first.body["usage"] == {"prompt_tokens": 17, "completion_tokens": 19, "total_tokens": 36}


async def test_different_conversations_get_different_ids(stub: StubProvider) -> None:
    a = await stub.execute_task(ChatRequest(model="m", messages=[{"role": "user", "content": "one"}]))
    b = await stub.execute_task(ChatRequest(model="m", messages=[{"role": "user", "content": "two"}]))
    assert isinstance(a, AIResponse) and isinstance(b, AIResponse)
    assert a.body["id"] != b.body["id"]


def test_stub_answer_counts_words_of_the_last_user_message_and_content_parts() -> None:
    messages = [
        {"role": "user", "content": "ignored earlier words here"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": [{"type": "text", "text": "two words"}, {"type": "image_url", "image_url": {}}]},
    ]
    assert "had 2 words across 3 messages" in stub_answer(messages)
    assert "had 0 words across 1 messages" in stub_answer([{"role": "system", "content": "x"}])


async def test_stream_yields_role_content_finish_and_usage_chunks(stub: StubProvider) -> None:
    request = ChatRequest(model="stub-chat", messages=MESSAGES, stream=True, include_usage=True)
    stream = await stub.execute_task(request)
    assert isinstance(stream, ChatStream)
    chunks = await collect(stream)
    plain = await stub.execute_task(ChatRequest(model="stub-chat", messages=MESSAGES))
    assert isinstance(plain, AIResponse)

    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    role, *content, finish, usage = chunks
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert role["choices"][0]["finish_reason"] is None
    assert len(content) > 1
    assert all(c["choices"][0]["finish_reason"] is None and set(c["choices"][0]["delta"]) == {"content"}
               for c in content)  # fmt: skip
    assert (
        "".join(c["choices"][0]["delta"]["content"] for c in content) == plain.body["choices"][0]["message"]["content"]
    )
    assert finish["choices"][0]["delta"] == {} and finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"] == plain.body["usage"]
    assert stream.usage == plain.usage


async def test_embeddings_have_unit_norm_and_the_configured_size(stub: StubProvider) -> None:
    result = await embed(stub, ["the quick brown fox", "jumps over the lazy dog"])
    assert result.body["object"] == "list"
    assert [d["index"] for d in result.body["data"]] == [0, 1]
    for item in result.body["data"]:
        vector = item["embedding"]
        assert len(vector) == 64
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-9)
    assert result.usage is not None and result.usage.prompt_tokens == result.usage.total_tokens > 0
    assert result.usage.completion_tokens == 0


async def test_embeddings_honour_requested_dimensions(stub: StubProvider) -> None:
    result = await embed(stub, "hello world", dimensions=17)
    (item,) = result.body["data"]
    assert len(item["embedding"]) == 17


async def test_embeddings_are_deterministic(stub: StubProvider) -> None:
    a = await embed(stub, "same text")
    b = await embed(stub, "same text")
    assert a.body["data"] == b.body["data"]


async def test_base64_encoding_decodes_to_the_same_vector(stub: StubProvider) -> None:
    floats = (await embed(stub, "vector search with embeddings", dimensions=48)).body["data"][0]["embedding"]
    encoded = (await embed(stub, "vector search with embeddings", dimensions=48, encoding_format="base64")).body[
        "data"
    ][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert len(raw) == 48 * 4
    decoded = struct.unpack("<48f", raw)
    assert decoded == pytest.approx(floats, abs=1e-6)


async def test_similar_texts_are_closer_than_unrelated_ones(stub: StubProvider) -> None:
    result = await embed(
        stub,
        [
            "the cat sat on the warm mat",
            "a cat sat on the mat",
            "quarterly revenue grew in european markets",
        ],
        dimensions=512,
    )
    cat, kitten, revenue = (d["embedding"] for d in result.body["data"])
    assert cosine(cat, kitten) > 0.5
    assert cosine(cat, kitten) > cosine(cat, revenue) + 0.3
    assert cosine(cat, cat) == pytest.approx(1.0)


def test_hashed_embedding_of_text_without_words_is_still_a_unit_vector() -> None:
    vector = hashed_embedding("!!!", 8)
    assert math.isclose(sum(v * v for v in vector), 1.0)


async def test_capabilities_and_models(stub: StubProvider) -> None:
    caps = stub.get_capabilities()
    assert caps.tasks == {TaskKind.CHAT, TaskKind.EMBEDDINGS}
    assert caps.models == ()
    assert await stub.list_models() == ["stub-chat", "stub-embedding"]
    limited = StubProvider(StubProviderConfig(name="s", models=("only-this",)))
    assert await limited.list_models() == ["only-this"]
    assert limited.get_capabilities().models == ("only-this",)


def test_registry_finds_the_stub_and_builds_it() -> None:
    types = discover()
    assert types["stub"] is StubProvider
    assert "openai" in types
    config = parse_provider_config({"type": "stub", "name": "s2", "embedding_dim": 8})
    assert isinstance(config, StubProviderConfig)
    provider = build_provider(config)
    assert isinstance(provider, StubProvider)
    assert provider.name == "s2"

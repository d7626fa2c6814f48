"""The Gemini adapter over real HTTP against tests/support/mock_gemini.py (AI Studio and Vertex AI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aigw.errors import ProviderConnectionError, ProviderStatusError, ProviderTimeoutError, gateway_error_from
from aigw.providers.gemini import GeminiProvider, GeminiProviderConfig
from aigw.types import AIResponse, ChatRequest, ChatStream, EmbeddingRequest
from tests.support.mock_gemini import ACCESS_TOKEN, API_KEY, MockGemini

pytestmark = pytest.mark.integration

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
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


@pytest.fixture(params=["studio", "vertex"])
async def provider(
    request: pytest.FixtureRequest, mock: MockGemini, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[GeminiProvider]:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("AI_PROVIDER_VERTEX_TOKEN", ACCESS_TOKEN)
    if request.param == "studio":
        config = GeminiProviderConfig(name="gemini", base_url=mock.studio_url, timeout=2)
    else:
        config = GeminiProviderConfig(
            name="vertex",
            api="vertex",
            project="my-project-1",
            location="europe-west4",
            base_url=mock.vertex_url,
            access_token_env="AI_PROVIDER_VERTEX_TOKEN",
            timeout=2,
        )
    instance = GeminiProvider(config)
    await instance.start()
    yield instance
    await instance.close()


def chat(text: str, **params: Any) -> ChatRequest:
    stream = bool(params.pop("stream", False))
    return ChatRequest(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": text}], params=params, stream=stream
    )


async def answer(provider: GeminiProvider, request: ChatRequest) -> dict[str, Any]:
    result = await provider.execute_task(request)
    assert isinstance(result, AIResponse)
    return result.body


async def collect(provider: GeminiProvider, request: ChatRequest) -> list[dict[str, Any]]:
    result = await provider.execute_task(request)
    assert isinstance(result, ChatStream)
    return [chunk async for chunk in result]


async def test_plain_answer_with_usage_on_both_apis(provider: GeminiProvider, mock: MockGemini) -> None:
    body = await answer(provider, chat("hello there", max_tokens=20, stop=["zzz"]))
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "You said: hello there"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}
    sent = mock.requests[-1]
    if provider.config.api == "studio":
        assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
        assert sent["headers"]["x-goog-api-key"] == API_KEY
    else:
        assert sent["path"] == (
            "/v1/projects/my-project-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
        )
        assert sent["headers"]["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent["body"]["generationConfig"] == {"maxOutputTokens": 20, "stopSequences": ["zzz"]}


async def test_stream_ends_with_finish_reason_and_usage(provider: GeminiProvider, mock: MockGemini) -> None:
    chunks = await collect(provider, chat("stream me please", stream=True))
    assert mock.requests[-1]["query"] == {"alt": "sse"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "You said: stream me please"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 8


async def test_tool_call_out_and_result_in(provider: GeminiProvider) -> None:
    first = await answer(provider, chat("weather in Paris? use the tool", tools=[TOOL]))
    call = first["choices"][0]["message"]["tool_calls"][0]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    messages = [
        {"role": "user", "content": "weather in Paris? use the tool"},
        first["choices"][0]["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 21}'},
    ]
    second = await answer(provider, ChatRequest(model="gemini-2.5-flash", messages=messages, params={"tools": [TOOL]}))
    assert second["choices"][0]["message"]["content"] == 'The tool said: {"temp": 21}'


async def test_json_schema_and_n(provider: GeminiProvider) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    body = await answer(provider, chat("a number", response_format=fmt, n=2))
    assert [c["message"]["content"] for c in body["choices"]] == ['{"n": 1}', '{"n": 1}']


async def test_safety_blocks_are_400_content_filtered(provider: GeminiProvider) -> None:
    for text in ("please BLOCK_PROMPT", "say UNSAFE_ANSWER"):
        with pytest.raises(ProviderStatusError) as caught:
            await answer(provider, chat(text))
        assert (caught.value.status, caught.value.retryable, caught.value.counts_against_health) == (400, False, False)
        assert gateway_error_from(caught.value).to_body()["error"]["code"] == "content_filtered"
    with pytest.raises(ProviderStatusError) as caught:
        await collect(provider, chat("say UNSAFE_ANSWER", stream=True))
    assert caught.value.status == 400


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (403, False)])
async def test_google_errors_keep_their_status(
    provider: GeminiProvider, mock: MockGemini, status: int, retryable: bool
) -> None:
    mock.fail_next(status, headers={"retry-after": "3"} if status == 429 else None)
    with pytest.raises(ProviderStatusError) as caught:
        await answer(provider, chat("x"))
    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert caught.value.body is not None and caught.value.body["error"]["message"] == f"mock {status}"
    if status == 429:
        assert caught.value.retry_after == 3.0


async def test_a_wrong_key_is_an_authentication_failure(mock: MockGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "wrong")
    provider = GeminiProvider(GeminiProviderConfig(name="g", base_url=mock.studio_url))
    await provider.start()
    try:
        with pytest.raises(ProviderStatusError) as caught:
            await answer(provider, chat("x"))
    finally:
        await provider.close()
    assert caught.value.status == 401 and caught.value.counts_against_health


async def test_timeout_and_stream_cut(provider: GeminiProvider, mock: MockGemini) -> None:
    mock.hang_next()
    with pytest.raises(ProviderTimeoutError):
        await answer(provider, chat("x"))
    mock.cut_stream_next(after_events=2)
    with pytest.raises(ProviderConnectionError):
        await collect(provider, chat("a long answer to cut", stream=True))


async def test_a_model_name_never_chooses_the_path(provider: GeminiProvider, mock: MockGemini) -> None:
    before = len(mock.requests)
    for model in ("../../v1beta/models/x", "gemini:streamGenerateContent?alt=sse", "a/b"):
        request = ChatRequest(model=model, messages=[{"role": "user", "content": "x"}])
        with pytest.raises(ProviderStatusError) as caught:
            await provider.execute_task(request)
        assert caught.value.status == 400
    assert len(mock.requests) == before


async def test_embeddings_plain_and_base64(provider: GeminiProvider, mock: MockGemini) -> None:
    request = EmbeddingRequest(model="gemini-embedding-001", input=["a", "b c"], params={"dimensions": 4})
    result = await provider.execute_task(request)
    assert isinstance(result, AIResponse)
    assert [len(d["embedding"]) for d in result.body["data"]] == [4, 4]
    method = mock.requests[-1]["path"].rsplit(":", 1)[1]
    assert method == ("batchEmbedContents" if provider.config.api == "studio" else "predict")
    if provider.config.api == "vertex":
        assert result.usage is not None and result.usage.prompt_tokens == 3
    encoded = await provider.execute_task(EmbeddingRequest("gemini-embedding-001", "a", {"encoding_format": "base64"}))
    assert isinstance(encoded, AIResponse) and isinstance(encoded.body["data"][0]["embedding"], str)

"""The Azure adapter over real HTTP: tests/support/mock_azure.py in front of the shared OpenAI mock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from aigw.errors import ProviderStatusError
from aigw.providers.azure import AzureProvider
from aigw.providers.registry import parse_provider_config
from aigw.types import AIResponse, ChatRequest, ChatStream, EmbeddingRequest
from tests.support.mock_azure import API_KEY, ENTRA_TOKEN, AzureFront
from tests.support.processes import start_mock

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def azure_mock() -> Iterator[AzureFront]:
    inner = start_mock()
    front = AzureFront(inner.url, deployments=frozenset({"gpt-4o-prod", "embed-prod"})).start()
    yield front
    front.stop()
    inner.stop()


async def started(mock: AzureFront, **fields: object) -> AzureProvider:
    raw = {"type": "azure", "name": "azure", "endpoint": mock.url, "deployments": {"gpt-4o": "gpt-4o-prod"}, **fields}
    instance = AzureProvider(parse_provider_config(raw))
    await instance.start()
    return instance


@pytest.fixture
async def azure(azure_mock: AzureFront, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AzureProvider]:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    instance = await started(azure_mock)
    yield instance
    await instance.close()


async def test_chat_plain_and_streamed_through_the_deployment(azure: AzureProvider, azure_mock: AzureFront) -> None:
    request = ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    result = await azure.execute_task(request)
    assert isinstance(result, AIResponse) and result.body["choices"][0]["message"]["content"]
    sent = azure_mock.requests[-1]
    assert sent["path"] == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert sent["query"]["api-version"] == "2024-10-21" and sent["headers"]["api-key"] == API_KEY
    stream = await azure.execute_task(ChatRequest(model="gpt-4o", messages=request.messages, stream=True))
    assert isinstance(stream, ChatStream)
    chunks = [chunk async for chunk in stream]
    assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_embeddings_and_errors(azure: AzureProvider, azure_mock: AzureFront) -> None:
    result = await azure.execute_task(EmbeddingRequest(model="embed-prod", input=["a", "b"]))
    assert isinstance(result, AIResponse) and len(result.body["data"]) == 2
    assert azure_mock.requests[-1]["path"] == "/openai/deployments/embed-prod/embeddings"
    azure_mock.fail_next(429, headers={"retry-after": "2"})
    with pytest.raises(ProviderStatusError) as caught:
        await azure.execute_task(ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "x"}]))
    assert (caught.value.status, caught.value.retry_after, caught.value.message) == (429, 2.0, "mock 429")
    with pytest.raises(ProviderStatusError) as missing:
        await azure.execute_task(ChatRequest(model="unknown-deployment", messages=[{"role": "user", "content": "x"}]))
    assert missing.value.status == 404


async def test_entra_token_and_v1_api(azure_mock: AzureFront, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PROVIDER_ENTRA_TOKEN", ENTRA_TOKEN)
    instance = await started(azure_mock, entra_token_env="AI_PROVIDER_ENTRA_TOKEN", api_version="v1")
    try:
        result = await instance.execute_task(ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "x"}]))
    finally:
        await instance.close()
    assert isinstance(result, AIResponse)
    sent = azure_mock.requests[-1]
    assert sent["path"] == "/openai/v1/chat/completions" and sent["body"]["model"] == "gpt-4o-prod"
    assert sent["headers"]["Authorization"] == f"Bearer {ENTRA_TOKEN}" and "api-key" not in sent["headers"]


async def test_a_wrong_key_is_refused_as_401(azure_mock: AzureFront, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong")
    instance = await started(azure_mock)
    try:
        with pytest.raises(ProviderStatusError) as caught:
            await instance.execute_task(ChatRequest(model="gpt-4o", messages=[{"role": "user", "content": "x"}]))
    finally:
        await instance.close()
    assert caught.value.status == 401 and caught.value.counts_against_health

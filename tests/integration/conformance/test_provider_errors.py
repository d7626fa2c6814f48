"""Every family's failures as the same `ProviderError`s, on the provider itself over real HTTP: what
the client retries and what the breaker counts must not depend on the family."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from aigw.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    gateway_error_from,
)
from aigw.providers.base import AIProvider
from aigw.providers.registry import build_provider, parse_provider_config
from aigw.types import ChatRequest, ChatStream
from tests.support.families import FAMILIES, FamilyHarness, gateway_env, wire_status
from tests.support.mock_family import MockServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda harness: harness.name)
def harness_and_mock(request: pytest.FixtureRequest) -> Iterator[tuple[FamilyHarness, MockServer]]:
    harness: FamilyHarness = request.param
    mock = harness.start()
    yield harness, mock
    mock.stop()


@pytest.fixture
async def provider(
    harness_and_mock: tuple[FamilyHarness, MockServer], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[AIProvider, MockServer, str]]:
    harness, mock = harness_and_mock
    mock.reset()
    for name, value in gateway_env(harness).items():
        monkeypatch.setenv(name, value)
    config = parse_provider_config({"name": "p", **harness.provider_config(mock), "timeout": 0.5})
    built = build_provider(config)
    await built.start()
    yield built, mock, harness.model
    await built.close()


async def call(provider: AIProvider, model: str, stream: bool = False) -> list[dict[str, object]]:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "hello there"}], stream=stream)
    answer = await provider.execute_task(request)
    if isinstance(answer, ChatStream):
        try:
            return [chunk async for chunk in answer]
        finally:
            await answer.aclose()
    return [answer.body]


# By the status the family's upstream answered: (retryable, counts against health, the client's status).
OUTCOMES = {
    400: (False, False, 400),
    401: (False, True, 502),
    403: (False, True, 502),
    404: (False, False, 404),
    413: (False, False, 413),
    429: (True, False, 429),
    500: (True, True, 502),
    503: (True, True, 502),
    529: (True, True, 502),
}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 429, 500, 529])
async def test_status_errors_are_the_same_for_every_family(
    provider: tuple[AIProvider, MockServer, str], harness_and_mock: tuple[FamilyHarness, MockServer], status: int
) -> None:
    built, mock, model = provider
    answered = wire_status(harness_and_mock[0], status)  # Bedrock: 401 is 403, 413 is 400, 529 is 503
    retryable, counts, client_status = OUTCOMES[answered]
    mock.fail_next(status, headers={"retry-after": "3"})
    with pytest.raises(ProviderStatusError) as caught:
        await call(built, model)
    error = caught.value
    assert (error.status, error.retryable, error.counts_against_health) == (answered, retryable, counts)
    assert error.retry_after == 3.0
    assert error.message == f"mock {status}"
    answer = gateway_error_from(error)
    assert answer.status == client_status
    assert set(answer.to_body()["error"]) >= {"message", "type", "param", "code"}


async def test_a_hang_is_a_timeout(provider: tuple[AIProvider, MockServer, str]) -> None:
    built, mock, model = provider
    mock.hang_next()
    with pytest.raises(ProviderTimeoutError):
        await call(built, model)


async def test_a_cut_stream_is_a_broken_connection(provider: tuple[AIProvider, MockServer, str]) -> None:
    built, mock, model = provider
    mock.cut_stream_next(after_events=2)
    with pytest.raises(ProviderConnectionError):
        await call(built, model, stream=True)


async def test_an_error_event_is_a_retryable_status_error(provider: tuple[AIProvider, MockServer, str]) -> None:
    built, mock, model = provider
    mock.error_event_next(after_events=2)
    with pytest.raises(ProviderError) as caught:
        await call(built, model, stream=True)
    assert isinstance(caught.value, ProviderStatusError) and caught.value.retryable
    assert caught.value.counts_against_health

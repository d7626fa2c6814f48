"""AIClient: retries with backoff, the circuit breaker in front of a provider, attempt accounting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aigw.breaker import BreakerState, CircuitBreaker
from aigw.client import AIClient, CircuitOpenError, outcome_of
from aigw.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.retry import RetryPolicy
from aigw.types import AIRequest, AIResponse, CallInfo, ChatRequest, ChatStream
from tests.unit.fakes import FakeClock, ScriptedProvider, collect

REQUEST = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])


class Sleeps:
    """A no-op async sleep that remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics(enabled=True)


def make_client(
    provider: ScriptedProvider,
    metrics: GatewayMetrics,
    clock: FakeClock,
    sleeps: Sleeps,
    *,
    max_retries: int = 3,
    min_calls: int = 10,
    cooldown: float = 15.0,
) -> AIClient:
    breaker = CircuitBreaker(failure_rate=0.5, min_calls=min_calls, window=30.0, cooldown=cooldown, clock=clock)
    return AIClient(provider, RetryPolicy(max_retries, 0.25, 8.0), breaker, metrics, sleep=sleeps)


def sample(metrics: GatewayMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_retries_then_succeeds_and_counts_attempts(metrics: GatewayMetrics, clock: FakeClock) -> None:
    provider = ScriptedProvider("p", [ProviderStatusError(503, None, provider="p"), ProviderTimeoutError("slow")])
    sleeps = Sleeps()
    client = make_client(provider, metrics, clock, sleeps)
    info, trace = CallInfo(), Trace("req-1")
    result = await client.execute(REQUEST, trace, info)
    assert isinstance(result, AIResponse)
    assert result.body["served_by"] == "p"
    assert info.attempts == 3
    assert len(provider.calls) == 3
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.25 and 0 <= sleeps.delays[1] <= 0.5
    assert sample(metrics, "aigw_upstream_retries_total", provider="p") == 2
    assert sample(metrics, "aigw_upstream_attempts_total", provider="p", outcome="http_503") == 1
    assert sample(metrics, "aigw_upstream_attempts_total", provider="p", outcome="timeout") == 1
    assert sample(metrics, "aigw_upstream_attempts_total", provider="p", outcome="ok") == 1
    attempts = [s for s in trace.spans if s.name == "provider_attempt"]
    assert [s.attrs["attempt"] for s in attempts] == [1, 2, 3]
    assert [s.status for s in attempts] == ["error", "error", "ok"]
    assert [s.name for s in trace.spans].count("backoff") == 2


async def test_retry_after_from_the_upstream_is_slept(metrics: GatewayMetrics, clock: FakeClock) -> None:
    provider = ScriptedProvider("p", [ProviderStatusError(429, None, retry_after=1.5)])
    sleeps = Sleeps()
    info = CallInfo()
    await make_client(provider, metrics, clock, sleeps).execute(REQUEST, Trace("r"), info)
    assert sleeps.delays == [1.5]
    assert info.attempts == 2


async def test_does_not_retry_a_400(metrics: GatewayMetrics, clock: FakeClock) -> None:
    error = ProviderStatusError(400, {"error": {"message": "bad param"}}, provider="p")
    provider = ScriptedProvider("p", [error])
    sleeps = Sleeps()
    client = make_client(provider, metrics, clock, sleeps)
    info = CallInfo()
    with pytest.raises(ProviderStatusError) as raised:
        await client.execute(REQUEST, Trace("r"), info)
    assert raised.value is error
    assert info.attempts == 1
    assert len(provider.calls) == 1
    assert sleeps.delays == []
    # A client error says nothing about the provider's health.
    assert client.breaker.snapshot()["window_failures"] == 0


async def test_gives_up_after_max_retries_with_the_last_error(metrics: GatewayMetrics, clock: FakeClock) -> None:
    errors = [ProviderConnectionError(f"reset {i}") for i in range(5)]
    provider = ScriptedProvider("p", errors)
    sleeps = Sleeps()
    info = CallInfo()
    with pytest.raises(ProviderConnectionError, match="reset 2"):
        await make_client(provider, metrics, clock, sleeps, max_retries=2).execute(REQUEST, Trace("r"), info)
    assert info.attempts == 3
    assert len(sleeps.delays) == 2


async def test_breaker_opens_and_then_refuses_without_calling_the_provider(
    metrics: GatewayMetrics, clock: FakeClock
) -> None:
    provider = ScriptedProvider("p", [ProviderStatusError(500, None)] * 3)
    sleeps = Sleeps()
    client = make_client(provider, metrics, clock, sleeps, max_retries=0, min_calls=3, cooldown=20.0)
    for _ in range(3):
        with pytest.raises(ProviderStatusError):
            await client.execute(REQUEST, Trace("r"), CallInfo())
    assert client.breaker.state is BreakerState.OPEN
    assert client.is_available() is False
    clock.advance(5.0)
    info, trace = CallInfo(), Trace("r")
    with pytest.raises(CircuitOpenError) as raised:
        await client.execute(REQUEST, trace, info)
    assert raised.value.retry_after == pytest.approx(15.0)
    assert raised.value.provider == "p"
    assert raised.value.retryable is False
    assert len(provider.calls) == 3  # the refused call never reached the provider
    assert info.attempts == 0
    assert [s.name for s in trace.spans] == ["breaker"]
    assert trace.spans[0].attrs["decision"] == "reject"
    assert sample(metrics, "aigw_upstream_attempts_total", provider="p", outcome="circuit_open") == 1


async def test_breaker_opening_mid_retries_stops_the_retries(metrics: GatewayMetrics, clock: FakeClock) -> None:
    provider = ScriptedProvider("p", [ProviderStatusError(503, None)] * 10)
    client = make_client(provider, metrics, clock, Sleeps(), max_retries=5, min_calls=2)
    info = CallInfo()
    with pytest.raises(CircuitOpenError):
        await client.execute(REQUEST, Trace("r"), info)
    assert len(provider.calls) == 2
    assert info.attempts == 2


async def test_half_open_probe_success_closes_the_breaker(metrics: GatewayMetrics, clock: FakeClock) -> None:
    provider = ScriptedProvider("p", [ProviderTimeoutError("t")] * 2)
    client = make_client(provider, metrics, clock, Sleeps(), max_retries=0, min_calls=2, cooldown=10.0)
    for _ in range(2):
        with pytest.raises(ProviderTimeoutError):
            await client.execute(REQUEST, Trace("r"), CallInfo())
    clock.advance(10.0)
    assert client.breaker.state is BreakerState.HALF_OPEN
    assert isinstance(await client.execute(REQUEST, Trace("r"), CallInfo()), AIResponse)
    assert client.breaker.state is BreakerState.CLOSED
    assert client.is_available()


async def test_rate_limit_in_half_open_frees_the_probe_slot(metrics: GatewayMetrics, clock: FakeClock) -> None:
    provider = ScriptedProvider(
        "p", [ProviderTimeoutError("t"), ProviderTimeoutError("t"), ProviderStatusError(429, None)]
    )
    client = make_client(provider, metrics, clock, Sleeps(), max_retries=0, min_calls=2, cooldown=10.0)
    for _ in range(2):
        with pytest.raises(ProviderTimeoutError):
            await client.execute(REQUEST, Trace("r"), CallInfo())
    clock.advance(10.0)
    with pytest.raises(ProviderStatusError):
        await client.execute(REQUEST, Trace("r"), CallInfo())
    # A 429 is no verdict on health: still half-open, and the next probe may go.
    assert client.breaker.state is BreakerState.HALF_OPEN
    assert isinstance(await client.execute(REQUEST, Trace("r"), CallInfo()), AIResponse)
    assert client.breaker.state is BreakerState.CLOSED


class StreamingProvider(ScriptedProvider):
    """Streams two chunks, then fails with a dropped connection."""

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        self.calls.append(request)

        async def chunks() -> AsyncIterator[dict[str, Any]]:
            yield {"choices": [{"delta": {"content": "a"}}]}
            yield {"choices": [{"delta": {"content": "b"}}]}
            raise ProviderConnectionError("connection reset mid-stream")

        return ChatStream(chunks())


async def test_failure_mid_stream_counts_against_the_provider(metrics: GatewayMetrics, clock: FakeClock) -> None:
    client = make_client(StreamingProvider("s"), metrics, clock, Sleeps())
    trace = Trace("r")
    stream = await client.execute(REQUEST, trace, CallInfo())
    assert isinstance(stream, ChatStream)
    received: list[dict[str, Any]] = []
    with pytest.raises(ProviderConnectionError):
        async for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    assert client.breaker.snapshot()["window_failures"] == 1
    assert sample(metrics, "aigw_upstream_attempts_total", provider="s", outcome="stream_connection") == 1
    stream_span = next(s for s in trace.spans if s.name == "stream")
    assert stream_span.status == "error" and stream_span.attrs["chunks"] == 2


async def test_successful_stream_is_relayed_whole(metrics: GatewayMetrics, clock: FakeClock) -> None:
    class Fine(ScriptedProvider):
        async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
            async def chunks() -> AsyncIterator[dict[str, Any]]:
                for i in range(3):
                    yield {"n": i}

            return ChatStream(chunks())

    client = make_client(Fine("f"), metrics, clock, Sleeps())
    stream = await client.execute(REQUEST, Trace("r"), CallInfo())
    assert isinstance(stream, ChatStream)
    assert await collect(stream) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert client.breaker.snapshot()["window_failures"] == 0


@pytest.mark.parametrize(
    ("error", "label"),
    [
        (ProviderStatusError(502, None), "http_502"),
        (ProviderTimeoutError("t"), "timeout"),
        (CircuitOpenError("p", 1.0), "circuit_open"),
        (ProviderConnectionError("c"), "connection"),
        (ProviderResponseError("r"), "response"),
        (ProviderError("x"), "error"),
    ],
)
def test_outcome_labels(error: ProviderError, label: str) -> None:
    assert outcome_of(error) == label

"""AIClient: one provider behind a circuit breaker, with retries (backoff, jitter, Retry-After).

The timeout itself lives in the provider's HTTP session (connect and per-read limits), so a
stalled stream is cut as surely as a stalled answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aigw.breaker import BreakerState, CircuitBreaker
from aigw.errors import ProviderError, ProviderStatusError, ProviderTimeoutError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.providers.base import AIProvider
from aigw.retry import RetryPolicy
from aigw.types import AIRequest, AIResponse, CallInfo, ChatStream


class CircuitOpenError(ProviderError):
    """The breaker refused the call: the provider failed too often lately."""

    retryable = False
    counts_against_health = False

    def __init__(self, provider: str, retry_after: float) -> None:
        super().__init__(f"circuit open for {provider}", provider=provider)
        self.retry_after = retry_after


def outcome_of(error: ProviderError) -> str:
    """A short, bounded label for metrics and traces."""
    if isinstance(error, ProviderStatusError):
        return f"http_{error.status}"
    if isinstance(error, ProviderTimeoutError):
        return "timeout"
    if isinstance(error, CircuitOpenError):
        return "circuit_open"
    return type(error).__name__.removeprefix("Provider").removesuffix("Error").lower() or "error"


class AIClient:
    def __init__(
        self,
        provider: AIProvider,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        metrics: GatewayMetrics,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.capabilities = provider.get_capabilities()
        self.retry = retry
        self.breaker = breaker
        self.metrics = metrics
        self._sleep = sleep

    @property
    def name(self) -> str:
        return self.provider.name

    def is_available(self) -> bool:
        return self.provider.is_available() and self.breaker.state is not BreakerState.OPEN

    async def execute(self, request: AIRequest, trace: Trace, info: CallInfo) -> AIResponse | ChatStream:
        """Call the provider until it answers or no retry is left; counts attempts in `info`."""
        attempt = 0
        while True:
            if not self.breaker.allow():
                trace.span("breaker", provider=self.name, decision="reject").finish()
                self.metrics.observe_attempt(self.name, "circuit_open", 0.0)
                raise CircuitOpenError(self.name, self.breaker.retry_after())
            info.attempts += 1
            result, error = await self._attempt(request, trace, attempt)
            if error is None:
                assert result is not None
                return result
            delay = self.retry.delay_before_retry(attempt, error)
            if delay is None:
                raise error
            self.metrics.observe_retry(self.name)
            with trace.span("backoff", provider=self.name, seconds=round(delay, 3)):
                await self._sleep(delay)
            attempt += 1

    async def _attempt(
        self, request: AIRequest, trace: Trace, attempt: int
    ) -> tuple[AIResponse | ChatStream | None, ProviderError | None]:
        span = trace.span("provider_attempt", provider=self.name, attempt=attempt + 1, breaker=self.breaker.state.value)
        started = time.perf_counter()
        settled = False
        try:
            result = await self.provider.execute_task(request)
            settled = True
        except ProviderError as error:
            settled = True
            self._record(error)
            self.metrics.observe_attempt(self.name, outcome_of(error), time.perf_counter() - started)
            span.fail(outcome_of(error))
            span.finish()
            return None, error
        finally:
            if not settled:  # cancelled (the caller went away): no verdict on the provider
                self.breaker.release_probe()
                span.fail("cancelled")
                span.finish()
        self.breaker.record_success()
        self.metrics.observe_attempt(self.name, "ok", time.perf_counter() - started)
        span.finish()
        if isinstance(result, ChatStream):
            return ChatStream(self._watch(result, trace), close=result.aclose), None
        return result, None

    async def _watch(self, stream: ChatStream, trace: Trace) -> AsyncIterator[dict[str, Any]]:
        """Relay a stream; a failure mid-way counts against the provider's health."""
        span = trace.span("stream", provider=self.name)
        chunks = 0
        try:
            async for chunk in stream:
                chunks += 1
                yield chunk
        except ProviderError as error:
            self._record(error)
            self.metrics.observe_attempt(self.name, "stream_" + outcome_of(error), 0.0)
            span.fail(outcome_of(error))
            raise
        finally:
            span.set(chunks=chunks)
            span.finish()

    def _record(self, error: ProviderError) -> None:
        if error.counts_against_health:
            self.breaker.record_failure()
        else:
            self.breaker.release_probe()

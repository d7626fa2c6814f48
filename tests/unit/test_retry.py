"""RetryPolicy.delay_before_retry and parse_retry_after."""

from __future__ import annotations

import email.utils
import random

import pytest

from aigw.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from aigw.retry import RetryPolicy, parse_retry_after

POLICY = RetryPolicy(max_retries=3, backoff_base=0.5, max_delay=8.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert POLICY.delay_before_retry(0, ProviderStatusError(status, None)) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(status: int) -> None:
    delay = POLICY.delay_before_retry(0, ProviderStatusError(status, None), random.Random(1))
    assert delay is not None
    assert 0.0 <= delay <= 0.5


@pytest.mark.parametrize(
    "error",
    [ProviderConnectionError("reset"), ProviderTimeoutError("slow"), ProviderResponseError("garbage")],
    ids=["connection", "timeout", "bad-response"],
)
def test_transport_failures_are_retried(error: ProviderError) -> None:
    assert POLICY.delay_before_retry(1, error, random.Random(1)) is not None


def test_delay_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(max_retries=10, backoff_base=0.5, max_delay=100.0)
    error = ProviderTimeoutError("slow")
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0)]:
        rng, twin = random.Random(attempt), random.Random(attempt)
        delay = policy.delay_before_retry(attempt, error, rng)
        assert delay == twin.uniform(0, ceiling)
        samples = [policy.delay_before_retry(attempt, error, rng) for _ in range(400)]
        assert all(s is not None and 0.0 <= s <= ceiling for s in samples)
        values = [s for s in samples if s is not None]
        # Full jitter: spread over the whole range, not clustered at the ceiling.
        assert min(values) < ceiling * 0.1
        assert max(values) > ceiling * 0.9


def test_delay_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(max_retries=20, backoff_base=0.25, max_delay=2.0)
    rng = random.Random(7)
    samples = [policy.delay_before_retry(15, ProviderConnectionError("x"), rng) for _ in range(300)]
    values = [s for s in samples if s is not None]
    assert len(values) == 300
    assert max(values) <= 2.0
    assert max(values) > 1.8  # the cap, not something smaller, is the ceiling


def test_retry_after_is_honoured_as_given() -> None:
    error = ProviderStatusError(429, None, retry_after=3.5)
    assert POLICY.delay_before_retry(0, error, random.Random(0)) == 3.5
    assert POLICY.delay_before_retry(2, ProviderStatusError(503, None, retry_after=0.0)) == 0.0


def test_retry_after_at_max_delay_is_still_honoured() -> None:
    assert POLICY.delay_before_retry(0, ProviderStatusError(503, None, retry_after=8.0)) == 8.0


def test_retry_after_longer_than_max_delay_stops_retrying() -> None:
    assert POLICY.delay_before_retry(0, ProviderStatusError(429, None, retry_after=8.5)) is None


def test_retry_after_does_not_make_a_client_error_retryable() -> None:
    assert POLICY.delay_before_retry(0, ProviderStatusError(400, None, retry_after=1.0)) is None


def test_no_retry_once_max_retries_attempts_were_retried() -> None:
    error = ProviderStatusError(503, None)
    assert POLICY.delay_before_retry(2, error, random.Random(0)) is not None
    assert POLICY.delay_before_retry(3, error) is None
    assert POLICY.delay_before_retry(4, error) is None
    assert RetryPolicy(max_retries=0).delay_before_retry(0, error) is None


@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("7", 7.0), (" 2.5 ", 2.5), ("120", 120.0)])
def test_parse_retry_after_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)


def test_parse_retry_after_date_in_the_past_is_zero() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Fri, 99 Foo 20xx", "nan"])
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_parse_retry_after_negative_never_gives_a_negative_wait() -> None:
    assert parse_retry_after("-5") == 0.0

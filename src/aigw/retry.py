"""When to try a provider again, and how long to wait first (exponential backoff, full jitter)."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

from aigw.errors import ProviderError, ProviderStatusError


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_base: float = 0.25
    max_delay: float = 8.0

    def delay_before_retry(self, attempt: int, error: ProviderError, rng: random.Random | None = None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None when no retry should be made.

        `attempt` counts from 0 (the first call). Only retryable failures are retried. A
        `Retry-After` from the upstream is honoured as given; one longer than `max_delay` ends
        the retries, so the caller gets the upstream's answer (and its Retry-After) at once.
        """
        if not error.retryable or attempt >= self.max_retries:
            return None
        if isinstance(error, ProviderStatusError) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_delay else None
        ceiling = min(self.max_delay, self.backoff_base * (2**attempt))
        return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0 if seconds < 0 else None
    return seconds

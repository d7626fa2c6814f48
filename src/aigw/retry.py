"""When to try a provider again, and how long to wait first (exponential backoff, full jitter)."""

from __future__ import annotations

import datetime
import email.utils
import random
import re
import time
from dataclasses import dataclass

from aigw.errors import ProviderError, ProviderStatusError

MAX_RETRY_AFTER = 86_400.0  # one day: the longest wait the gateway honours or passes on
_MAX_HEADER_CHARS = 64  # an HTTP date is 29 characters; anything much longer is not a Retry-After
_DELTA_SECONDS = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]{1,9})?")


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
    """Seconds from a Retry-After header: delta-seconds or an HTTP date, at most `MAX_RETRY_AFTER`.

    None when absent or not one of the two forms. Decimal seconds are read too (`retry-after-ms`
    and some upstreams send them), but only as plain ASCII digits: `float()` alone would also take
    `inf`, `nan`, `1e999` and `1_000`, and an infinite wait cannot be slept nor sent on. A wait in
    the past is 0; one beyond the bound is the bound.
    """
    if not value or len(value) > _MAX_HEADER_CHARS:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds: float | None = float(value)
    else:
        seconds = _seconds_until_date(value, time.time() if now is None else now)
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _seconds_until_date(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read as such
        when = when.replace(tzinfo=datetime.UTC)
    try:
        return when.timestamp() - now
    except (OverflowError, ValueError):
        return None

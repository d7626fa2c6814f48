"""A Retry-After header from an upstream is hostile input: whatever it says, the wait is finite,
bounded and never negative, and the 429 built from it has a sane header (no OverflowError)."""

from __future__ import annotations

import email.utils
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigw.errors import ProviderStatusError, RateLimitError, gateway_error_from, retry_after_header
from aigw.retry import MAX_RETRY_AFTER, parse_retry_after

NOW = 1_700_000_000.0


def _is_sane(seconds: float | None) -> bool:
    return seconds is None or (math.isfinite(seconds) and 0.0 <= seconds <= MAX_RETRY_AFTER)


@pytest.mark.parametrize(
    "value",
    ["inf", "Infinity", "-inf", "nan", "NaN", "1e999", "1_000", "١٢", "0x10", "1e3", "+5", "5 seconds", "∞"],
)
def test_values_float_would_accept_or_misread_are_not_waits(value: str) -> None:
    assert parse_retry_after(value) is None


def test_huge_waits_are_capped_at_a_day() -> None:
    assert parse_retry_after("9" * 12) == MAX_RETRY_AFTER
    far = email.utils.formatdate(NOW + 10 * 365 * 86_400, usegmt=True)
    assert parse_retry_after(far, now=NOW) == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    "value", ["Fri, 31 Dec 9999 23:59:59 GMT", "Sat, 01 Jan 0001 00:00:00 GMT", "Mon, 01 Jan 99999 00:00:00 GMT"]
)
def test_dates_at_the_edge_of_the_calendar_are_bounded(value: str) -> None:
    assert _is_sane(parse_retry_after(value, now=NOW))


def test_a_date_without_a_zone_is_read_as_gmt() -> None:
    value = email.utils.formatdate(NOW + 60, usegmt=True).replace(" GMT", " -0000")
    assert parse_retry_after(value, now=NOW) == pytest.approx(60.0)


def test_decimal_seconds_are_still_read() -> None:
    assert parse_retry_after("1.25") == 1.25
    assert parse_retry_after("250.5") == 250.5


@given(st.text(max_size=80))
@settings(max_examples=600, deadline=None)
def test_any_header_text_gives_a_finite_bounded_wait_or_none(value: str) -> None:
    assert _is_sane(parse_retry_after(value, now=NOW))


@given(
    st.one_of(
        st.from_regex(r"\A-?[0-9]{1,20}(\.[0-9]{0,12})?\Z"),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.datetimes().map(lambda d: email.utils.format_datetime(d) + " GMT"),
    )
)
@settings(max_examples=400, deadline=None)
def test_numbers_and_dates_of_any_size_give_a_finite_bounded_wait_or_none(value: str) -> None:
    assert _is_sane(parse_retry_after(value, now=NOW))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_rate_limit_answer_is_built_from_any_wait(seconds: float) -> None:
    error = gateway_error_from(ProviderStatusError(429, None, provider="p", retry_after=seconds))
    assert isinstance(error, RateLimitError)
    header = error.headers.get("retry-after")
    assert header is None or 1 <= int(header) <= 86_400
    assert (header is None) == (not math.isfinite(seconds))


def test_retry_after_header_rounds_and_bounds() -> None:
    assert retry_after_header(None) is None
    assert retry_after_header(math.inf) is None
    assert retry_after_header(math.nan) is None
    assert retry_after_header(0.2) == "1"
    assert retry_after_header(2.4) == "2"
    assert retry_after_header(1e300) == "86400"

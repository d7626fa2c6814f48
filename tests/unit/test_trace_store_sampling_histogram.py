"""Persisted traces, pure parts: deterministic sampling and mergeable latency histograms."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigw.store.traces.histogram import BUCKETS, UPPER_BOUNDS, bucket_of, percentile
from aigw.store.traces.record import sampled


def test_sampling_is_decided_by_the_request_id_alone() -> None:
    ids = [f"req-{i}" for i in range(2000)]
    first = [sampled(i, 0.3) for i in ids]
    assert [sampled(i, 0.3) for i in ids] == first  # another replica decides the same
    assert 0.25 < sum(first) / len(ids) < 0.35


def test_sampling_keeps_a_growing_set_as_the_rate_grows() -> None:
    ids = [random.randbytes(8).hex() for _ in range(1000)]
    low = {i for i in ids if sampled(i, 0.1)}
    high = {i for i in ids if sampled(i, 0.5)}
    assert low <= high
    assert all(sampled(i, 1.0) for i in ids)
    assert not any(sampled(i, 0.0) for i in ids)


def test_buckets_cover_sub_millisecond_to_a_minute() -> None:
    assert BUCKETS == len(UPPER_BOUNDS) + 1 == 25
    assert bucket_of(0.0) == 0 and bucket_of(-5) == 0 and bucket_of(float("nan")) == 0
    assert bucket_of(1.0) == 4  # upper bounds are inclusive
    assert bucket_of(1.0001) == 5
    assert bucket_of(10**9) == BUCKETS - 1
    assert all(a < b for a, b in itertools.pairwise(UPPER_BOUNDS))


def _histogram(values: list[float]) -> list[int]:
    counts = [0] * BUCKETS
    for value in values:
        counts[bucket_of(value)] += 1
    return counts


def _true_percentile(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(quantile * len(ordered) + 0.999999) - 1, 0)]


@given(st.lists(st.floats(min_value=0.05, max_value=50_000), min_size=1, max_size=300), st.sampled_from([0.5, 0.95]))
def test_a_percentile_falls_in_the_bucket_of_the_true_one(values: list[float], quantile: float) -> None:
    estimate = percentile(_histogram(values), quantile)
    assert estimate is not None
    true = _true_percentile(values, quantile)
    index = bucket_of(true)
    lower = UPPER_BOUNDS[index - 1] if index else 0.0
    assert lower <= estimate <= UPPER_BOUNDS[index] + 1e-9


@given(
    st.lists(st.floats(min_value=0.05, max_value=50_000), max_size=200),
    st.lists(st.floats(min_value=0.05, max_value=50_000), max_size=200),
)
def test_merged_histograms_answer_the_percentiles_of_all_the_values(one: list[float], two: list[float]) -> None:
    merged = [a + b for a, b in zip(_histogram(one), _histogram(two), strict=True)]
    assert merged == _histogram(one + two)
    for quantile in (0.5, 0.95):
        assert percentile(merged, quantile) == percentile(_histogram(one + two), quantile)


def test_an_empty_histogram_has_no_percentile_and_the_slowest_bucket_its_lower_bound() -> None:
    assert percentile([0] * BUCKETS, 0.5) is None
    slow = [0] * BUCKETS
    slow[-1] = 3
    assert percentile(slow, 0.95) == pytest.approx(UPPER_BOUNDS[-1])

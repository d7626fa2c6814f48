"""Latency histograms with fixed buckets, so percentiles can be merged across replicas.

A percentile cannot be averaged, but bucket counts can be added: every replica counts its
latencies into the same buckets, the database adds the counts, and p50/p95 are read from the sum
(as Prometheus' `histogram_quantile` does). The buckets are geometric, four per decade from
0.1 ms to 56 s (each 1.78 times the last) plus one for anything slower: 25 counts per histogram,
and an estimate within its bucket, i.e. within about ±30 % of the true value, interpolated
linearly inside the bucket. Good enough for a dashboard, and it costs 25 integer columns.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

__all__ = ["BUCKETS", "UPPER_BOUNDS", "bucket_of", "percentile", "round_ms"]

UPPER_BOUNDS: tuple[float, ...] = tuple(10 ** (exponent / 4) for exponent in range(-4, 20))  # ms, 0.1 .. 56234
BUCKETS = len(UPPER_BOUNDS) + 1  # the last one holds anything slower


def bucket_of(milliseconds: float) -> int:
    """The bucket a latency falls in: the first whose upper bound is at least it."""
    if not milliseconds > 0:  # negative, zero and NaN: the first bucket
        return 0
    return bisect_left(UPPER_BOUNDS, milliseconds)


def percentile(counts: Sequence[int], quantile: float) -> float | None:
    """The `quantile` (0..1) of the latencies counted in `counts` (one count per bucket), or None
    when nothing was counted. Linear inside the bucket; the slowest bucket answers its lower bound."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = min(max(quantile, 0.0), 1.0) * total
    seen = 0
    for index, count in enumerate(counts):
        if count <= 0:
            continue
        if seen + count >= rank:
            lower = UPPER_BOUNDS[index - 1] if index > 0 else 0.0
            if index >= len(UPPER_BOUNDS):
                return lower
            upper = UPPER_BOUNDS[index]
            return lower + (upper - lower) * max(rank - seen, 0.0) / count
        seen += count
    return UPPER_BOUNDS[-1]  # unreachable: `seen` ends at `total`


def round_ms(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 3)

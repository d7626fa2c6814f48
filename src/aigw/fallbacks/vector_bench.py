"""Latency of the local semantic search path: `python -m aigw.fallbacks.vector_bench [items] [queries]`.

Measures, over an index of `items` random unit vectors (seeded; search cost does not depend on where the vectors
came from): an unfiltered top-10 search, a top-10 search with a filter matching a quarter of the items, and, when
the local-embeddings extra is installed, embedding one query with `LocalEmbedder` plus the unfiltered search.
For "one slow core", run it as `OPENBLAS_NUM_THREADS=1 taskset -c 0 python -m aigw.fallbacks.vector_bench`.
Targets: search p95 <= 5 ms, embed + search p95 <= 30 ms, at 10,000 x 384.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from aigw.fallbacks.local_embeddings import DIMENSIONS, LocalEmbedder, get_embedder
from aigw.fallbacks.vector_index import VectorIndex

_FRAGMENTS = (
    "cheap waterproof",
    "wireless noise cancelling headphones",
    "a laptop for students",
    "under 100 dollars",
    "fresh salmon fillet",
    "trail running shoes",
    "with long battery life",
    "organic coffee beans",
    "warm winter jacket for kids",
    "refurbished phone",
)
T = TypeVar("T")

_CATEGORIES = ("electronics", "clothing", "food", "outdoor")


def benchmark(items: int = 10_000, queries: int = 200) -> dict[str, float]:
    """Milliseconds (p50/p95) for each path, plus the sizes measured; embed_* keys only when the model is available."""
    rng = np.random.default_rng(7)
    index = _build_index(rng, items)
    vectors = rng.standard_normal((queries, DIMENSIONS)).astype(np.float32)
    results: dict[str, float] = {"items": float(items), "queries": float(queries)}
    results.update(_percentiles("search", lambda v: index.search(v, k=10), list(vectors)))
    only = {"category": "food"}
    results.update(_percentiles("filtered_search", lambda v: index.search(v, k=10, filters=only), list(vectors)))
    embedder = get_embedder()
    if embedder is not None:
        texts = _queries(rng, queries)
        results.update(_percentiles("embed", lambda t: embedder.embed([t]), texts))
        results.update(_percentiles("embed_search", lambda t: _embed_search(embedder, index, t), texts))
    return results


def _build_index(rng: np.random.Generator, items: int) -> VectorIndex:
    index = VectorIndex(DIMENSIONS)
    ids = [f"item-{i}" for i in range(items)]
    metadata = [{"category": _CATEGORIES[i % len(_CATEGORIES)], "price": i % 500} for i in range(items)]
    index.upsert(ids, rng.standard_normal((items, DIMENSIONS)).astype(np.float32), metadata)
    return index


def _queries(rng: np.random.Generator, count: int) -> list[str]:
    return [" ".join(rng.choice(_FRAGMENTS, size=int(rng.integers(1, 4)))) for _ in range(count)]


def _embed_search(embedder: LocalEmbedder, index: VectorIndex, text: str) -> None:
    index.search(embedder.embed([text])[0], k=10)


def _percentiles(name: str, call: Callable[[T], object], inputs: Sequence[T]) -> dict[str, float]:
    for value in inputs[:10]:  # warm-up: caches, onnxruntime's first-run allocations
        call(value)
    timings = []
    for value in inputs:
        start = time.perf_counter()
        call(value)
        timings.append((time.perf_counter() - start) * 1000)
    p50, p95 = np.percentile(timings, [50, 95])
    return {f"{name}_p50_ms": round(float(p50), 3), f"{name}_p95_ms": round(float(p95), 3)}


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(benchmark(*arguments), indent=2))

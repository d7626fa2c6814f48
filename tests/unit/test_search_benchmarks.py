"""The search benchmarks (fallbacks/fuzzy_bench.py, fallbacks/vector_bench.py) on small inputs: their synthetic
data is reproducible, their typo queries really are noisy, and a run reports every figure the docs quote."""

from __future__ import annotations

import random

from rapidfuzz.distance import Levenshtein

from aigw.fallbacks import fuzzy_bench, vector_bench
from aigw.fallbacks.local_embeddings import get_embedder


def test_the_catalog_is_seeded_and_product_like() -> None:
    first, again, other = fuzzy_bench.make_catalog(50), fuzzy_bench.make_catalog(50), fuzzy_bench.make_catalog(50, 8)
    assert first == again and first != other
    assert [item.id for item in first[:2]] == ["sku-000000", "sku-000001"]
    for item in first:
        title = item.text.split(".")[0].split()
        assert len(title) == 5 and title[0] == item.metadata["brand"] and title[2] == item.metadata["category"]
        assert 5 <= item.metadata["price"] <= 2000


def test_a_typo_is_a_small_edit() -> None:
    rng = random.Random(3)
    for word in ["wardrobe", "headphones", "ab", "kettle"] * 25:
        edits = rng.randint(1, 2)
        slipped = fuzzy_bench.typo(word, rng, edits)
        # a swap is two single-letter edits for Levenshtein
        assert Levenshtein.distance(word, slipped) <= 2 * edits


def test_a_typo_query_keeps_the_title_words_in_some_order() -> None:
    rng = random.Random(5)
    item = fuzzy_bench.make_catalog(1)[0]
    title = item.text.split(".")[0].split()
    words = fuzzy_bench.typo_query(item, rng).split()
    assert len(title) <= len(words) <= len(title) + 1
    assert words != title


def test_the_fuzzy_benchmark_finds_most_items_despite_typos() -> None:
    result = fuzzy_bench.benchmark(items=400, queries=40)
    assert set(result) == {"items", "p50_ms", "p95_ms", "build_s", "recall_at_10"}
    assert result["items"] == 400
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    assert result["recall_at_10"] >= 0.7


def test_the_vector_benchmark_reports_each_path() -> None:
    result = vector_bench.benchmark(items=300, queries=20)
    paths = ["search", "filtered_search"] + (["embed", "embed_search"] if get_embedder() is not None else [])
    assert set(result) == {"items", "queries"} | {f"{p}_{q}_ms" for p in paths for q in ("p50", "p95")}
    for path in paths:
        assert 0 < result[f"{path}_p50_ms"] <= result[f"{path}_p95_ms"]

"""The shipped demo catalog and its labelled queries, and the metrics `make eval` reports.

The files are what scripts/make_demo_catalog.py makes (checked here), the catalog loads the way `aigw collections
load` reads it, and every label points at items that exist and satisfy the query's filters; the metrics are checked
on hand-computed examples. No model runs here.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aigw.catalog.filters import check_filters, matches
from aigw.catalog.item import Item
from aigw.cli.catalog import read_items
from aigw.fallbacks.evaluation import (
    LabelledQuery,
    QueryFileError,
    found_at_k,
    load_queries,
    ndcg_at_k,
    parse_query,
    percentile,
    recall_at_k,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "aigw" / "demo"
CATALOG = DEMO / "catalog.jsonl"
QUERIES = DEMO / "queries.jsonl"
KINDS = ("typo", "synonym", "paraphrase", "filter")


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return read_items(CATALOG)


@pytest.fixture(scope="module")
def queries() -> list[LabelledQuery]:
    return load_queries(QUERIES)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_catalog", ROOT / "scripts" / "make_demo_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# ---------------------------------------------------------------------------------------------- the files


def test_shipped_files_are_what_the_seeded_generator_makes() -> None:
    """A hand edit or a stale file would make the labels disagree with the script that documents them."""
    catalog, queries = _generator().build()
    assert CATALOG.read_text(encoding="utf-8") == catalog
    assert QUERIES.read_text(encoding="utf-8") == queries


def test_catalog_is_commit_sized_with_one_line_per_unique_id(items: list[Item]) -> None:
    lines = CATALOG.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert CATALOG.stat().st_size < 1_500_000
    assert len(ids) == len(set(ids)) == len(items) >= 2500  # read_items would silently keep the last of a repeat
    assert all(i.startswith("demo-") and len(i) == len("demo-00001") for i in ids)


def test_items_have_distinct_titles_and_the_expected_fields(items: list[Item]) -> None:
    titles = [item.text.split(". ", 1)[0] for item in items]
    assert len(set(titles)) == len(titles)
    for item in items:
        meta = item.metadata
        assert item.text.endswith(".") and len(item.text) < 400, item.id
        assert isinstance(meta["category"], str) and isinstance(meta["type"], str), item.id
        assert isinstance(meta["brand"], str) and isinstance(meta["color"], str), item.id
        assert isinstance(meta["price"], float) and meta["price"] > 0, item.id
        assert isinstance(meta["rating"], float) and 1.0 <= meta["rating"] <= 5.0, item.id
        assert isinstance(meta["in_stock"], bool), item.id
        assert isinstance(meta["tags"], list) and all(isinstance(t, str) for t in meta["tags"]), item.id
    categories = Counter(item.metadata["category"] for item in items)
    assert len(categories) >= 15 and min(categories.values()) >= 100


def test_queries_reference_existing_items_and_every_kind_has_50(
    items: list[Item], queries: list[LabelledQuery]
) -> None:
    known = {item.id for item in items}
    for query in queries:
        assert query.relevant, query.query
        assert set(query.relevant) <= known, query.query
        assert all(grade in (1, 2) for grade in query.relevant.values()), query.query
    counts = Counter(q.kind for q in queries)
    assert set(counts) == set(KINDS)
    assert all(counts[kind] >= 50 for kind in KINDS), counts
    assert len(queries) >= 240
    assert len({(q.query, json.dumps(dict(q.filters), sort_keys=True)) for q in queries}) == len(queries)


def test_filter_queries_are_valid_and_their_relevant_items_pass_the_filters(
    items: list[Item], queries: list[LabelledQuery]
) -> None:
    metadata = {item.id: item.metadata for item in items}
    filtered = [q for q in queries if q.filters]
    assert len(filtered) >= 50 and all(q.kind == "filter" for q in filtered)
    for query in filtered:
        check_filters(query.filters)
        assert all(matches(metadata[i], query.filters) for i in query.relevant), query.query


def test_typo_queries_differ_from_every_relevant_title(items: list[Item], queries: list[LabelledQuery]) -> None:
    """A typo query that some relevant title spells out exactly would not test typo tolerance."""
    words = {item.id: set(re.findall(r"[\w'-]+", item.text.lower())) for item in items}
    for query in (q for q in queries if q.kind == "typo"):
        assert not any(set(query.query.split()) <= words[i] for i in query.relevant), query.query


def test_typo_function_makes_one_slip_and_is_seeded() -> None:
    typo = _generator().typo
    assert typo("keyboard", random.Random(3)) == typo("keyboard", random.Random(3))
    for seed in range(50):
        slipped = typo("keyboard", random.Random(seed))
        assert slipped != "keyboard" and slipped[0] == "k" and abs(len(slipped) - len("keyboard")) <= 1


# ---------------------------------------------------------------------------------------------- metrics


def test_recall_is_capped_at_k() -> None:
    relevant = {"a": 2, "b": 1, "c": 1}
    assert recall_at_k(["a", "x", "b"], relevant, 3) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "x", "b"], relevant, 2) == pytest.approx(1 / 2)  # 1 of min(3, 2)
    many = {f"r{i}": 1 for i in range(15)}
    assert recall_at_k([f"r{i}" for i in range(10)], many, 10) == 1.0  # not 10 / 15
    assert recall_at_k([], relevant, 10) == 0.0
    assert recall_at_k(["a", "a", "a"], relevant, 3) == pytest.approx(1 / 3)  # a repeat is not found twice


def test_ndcg_on_a_hand_computed_example() -> None:
    relevant = {"a": 2, "b": 1, "c": 1}
    dcg = 2 / math.log2(2) + 0 + 1 / math.log2(4)  # a at 1, x (irrelevant) at 2, b at 3
    ideal = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(["a", "x", "b"], relevant, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "x", "b"], relevant, 3) == pytest.approx(0.7985, abs=1e-4)
    assert ndcg_at_k(["a", "b", "c"], relevant, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["b", "a"], {"a": 1, "b": 1}, 2) == pytest.approx(1.0)  # equal grades: any order is ideal
    assert ndcg_at_k(["x", "y"], relevant, 2) == 0.0
    assert ndcg_at_k(["a"], {}, 10) == 0.0


def test_found_means_an_item_of_the_highest_grade_in_the_top_k() -> None:
    relevant = {"a": 2, "b": 1}
    assert found_at_k(["x", "a"], relevant, 2) == 1.0
    assert found_at_k(["x", "a"], relevant, 1) == 0.0
    assert found_at_k(["b", "x"], relevant, 2) == 0.0  # only a lesser grade
    assert found_at_k(["a"], {}, 10) == 0.0


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0


@pytest.mark.parametrize(
    ("raw", "relevant"),
    [
        ({"query": "q", "kind": "typo", "relevant": ["a", "b"]}, {"a": 1, "b": 1}),
        ({"query": "q", "relevant": {"a": 2, "b": 0}}, {"a": 2}),
    ],
)
def test_query_lines_take_a_list_or_graded_ids(raw: dict[str, Any], relevant: dict[str, int]) -> None:
    assert parse_query(raw).relevant == relevant


@pytest.mark.parametrize(
    "raw",
    [
        {"query": "", "relevant": ["a"]},
        {"query": "q", "relevant": []},
        {"query": "q", "relevant": {"a": 0}},
        {"query": "q", "relevant": {"a": -1}},
        {"query": "q", "relevant": {"a": True}},
        {"query": "q", "relevant": ["a"], "filters": ["category"]},
        ["not", "an", "object"],
    ],
)
def test_bad_query_lines_are_refused(raw: Any) -> None:
    with pytest.raises(QueryFileError):
        parse_query(raw, "queries.jsonl:1")

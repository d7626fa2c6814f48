"""VectorIndex: exact cosine top-k against brute force, upserts, deletes and slot reuse, filters, edge cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from aigw.catalog.item import Hit
from aigw.fallbacks.vector_index import VectorIndex

DIMS = 16


def random_vectors(count: int, seed: int = 0, dims: int = DIMS) -> NDArray[np.float32]:
    return np.random.default_rng(seed).standard_normal((count, dims)).astype(np.float32)


def build(count: int, seed: int = 0) -> tuple[VectorIndex, list[str], NDArray[np.float32]]:
    index = VectorIndex(DIMS)
    ids = [f"item-{i:04d}" for i in range(count)]
    vectors = random_vectors(count, seed)
    index.upsert(ids, vectors, [{"group": i % 3, "even": i % 2 == 0} for i in range(count)])
    return index, ids, vectors


def brute_force(ids: list[str], vectors: NDArray[np.float32], query: NDArray[np.float32], k: int) -> list[str]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ (query / np.linalg.norm(query))
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-cosines[i], ids[i]))[:k]]


def test_top_k_is_exact_against_brute_force() -> None:
    index, ids, vectors = build(1000)
    for query in random_vectors(20, seed=1):
        hits = index.search(query, k=10)
        assert [h.id for h in hits] == brute_force(ids, vectors, query, 10)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_scores_are_cosine_mapped_to_unit_interval() -> None:
    index = VectorIndex(2)
    index.upsert(["same", "opposite", "orthogonal"], np.array([[2.0, 0.0], [-1.0, 0.0], [0.0, 3.0]]))
    hits = index.search(np.array([5.0, 0.0]), k=3)
    assert [h.id for h in hits] == ["same", "orthogonal", "opposite"]
    assert [h.score for h in hits] == pytest.approx([1.0, 0.5, 0.0], abs=1e-6)
    assert all(isinstance(h, Hit) and 0.0 <= h.score <= 1.0 for h in hits)


def test_rows_are_normalised_on_the_way_in() -> None:
    index = VectorIndex(3)
    index.upsert(["a"], np.array([[3.0, 0.0, 4.0]]))
    stored = index.vector("a")
    assert stored is not None
    assert stored.dtype == np.float32
    assert stored == pytest.approx([0.6, 0.0, 0.8])
    assert index.vector("missing") is None


def test_upsert_replaces_vector_and_metadata() -> None:
    index = VectorIndex(2)
    index.upsert(["a", "b"], np.array([[1.0, 0.0], [0.0, 1.0]]), [{"tag": "old"}, {"tag": "other"}])
    index.upsert(["a"], np.array([[0.0, -1.0]]), [{"tag": "new"}])
    assert len(index) == 2
    assert index.search(np.array([0.0, -1.0]), k=1)[0].id == "a"
    assert index.search(np.array([1.0, 0.0]), k=5, filters={"tag": "old"}) == []
    assert [h.id for h in index.search(np.array([1.0, 0.0]), k=5, filters={"tag": "new"})] == ["a"]


def test_delete_frees_slots_that_later_upserts_reuse() -> None:
    index, ids, _ = build(100)
    capacity = index.capacity
    assert index.delete([*ids[10:60], "never-there"]) == 50
    assert len(index) == 50
    assert index.vector(ids[10]) is None
    assert all(h.id not in ids[10:60] for h in index.search(random_vectors(1, seed=5)[0], k=100))

    index.upsert([f"new-{i}" for i in range(50)], random_vectors(50, seed=9))
    assert len(index) == 100
    assert index.capacity == capacity
    assert max(index._rows.values()) == 99  # the freed rows were taken, none past the old ones
    assert index.delete(ids[10:60]) == 0


def test_capacity_grows_geometrically() -> None:
    index = VectorIndex(DIMS)
    capacities = set()
    for i in range(1000):
        index.upsert([f"item-{i}"], random_vectors(1, seed=i))
        capacities.add(index.capacity)
    assert len(index) == 1000
    assert len(capacities) <= 6  # 64, 128, ..., 1024
    assert index.capacity < 2100


def test_filters_select_on_metadata() -> None:
    index, ids, vectors = build(600)
    query = random_vectors(1, seed=3)[0]
    group_one = [i for i in range(600) if i % 3 == 1]
    expected = brute_force([ids[i] for i in group_one], vectors[group_one], query, 7)
    assert [h.id for h in index.search(query, k=7, filters={"group": 1})] == expected


def test_narrow_filters_fall_back_to_a_full_scan() -> None:
    index, ids, vectors = build(2000)
    index.upsert(["rare"], random_vectors(1, seed=11), [{"group": 99}])
    query = random_vectors(1, seed=4)[0]
    assert [h.id for h in index.search(query, k=5, filters={"group": 99})] == ["rare"]
    assert index.search(query, k=5, filters={"group": 1000}) == []
    both = [i for i in range(2000) if i % 3 == 0 and i % 2 == 0]
    expected = brute_force([ids[i] for i in both], vectors[both], query, 20)
    assert [h.id for h in index.search(query, k=20, filters={"group": 0, "even": True})] == expected


def test_k_larger_than_the_index_returns_everything() -> None:
    index, ids, vectors = build(5)
    query = random_vectors(1, seed=2)[0]
    assert [h.id for h in index.search(query, k=50)] == brute_force(ids, vectors, query, 5)
    assert len(index.search(query, k=50, filters={"even": True})) == 3
    assert index.search(query, k=0) == []


def test_empty_index() -> None:
    index = VectorIndex(DIMS)
    assert len(index) == 0
    assert index.search(random_vectors(1)[0], k=3) == []
    assert index.delete(["x"]) == 0
    index.upsert([], np.zeros((0, DIMS), dtype=np.float32))
    assert len(index) == 0


def test_everything_deleted_searches_empty() -> None:
    index, ids, _ = build(10)
    index.delete(ids)
    assert index.search(random_vectors(1)[0], k=3) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda index: index.upsert(["a"], np.zeros((1, DIMS + 1))),
        lambda index: index.upsert(["a", "b"], np.ones((1, DIMS))),
        lambda index: index.upsert(["a"], np.ones(DIMS)),
        lambda index: index.upsert(["a"], np.ones((1, DIMS)), [{}, {}]),
        lambda index: index.upsert(["a"], np.zeros((1, DIMS))),
        lambda index: index.upsert(["a"], np.full((1, DIMS), np.nan)),
        lambda index: index.search(np.ones(DIMS - 1)),
        lambda index: index.search(np.ones((1, DIMS))),
        lambda index: index.search(np.ones(DIMS), k=-1),
        lambda index: VectorIndex(0),
    ],
)
def test_bad_shapes_and_values_raise_value_error(call: Callable[[VectorIndex], object]) -> None:
    index, _, _ = build(3)
    with pytest.raises(ValueError):
        call(index)


def test_equal_scores_are_ordered_by_id() -> None:
    index = VectorIndex(2)
    index.upsert(["c", "a", "d", "b"], np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    assert [h.id for h in index.search(np.array([1.0, 0.0]), k=2)] == ["a", "b"]
    assert [h.id for h in index.search(np.array([1.0, 0.0]), k=4)] == ["a", "b", "c", "d"]


def test_results_are_deterministic() -> None:
    first, _, _ = build(500, seed=8)
    second, _, _ = build(500, seed=8)
    for query in random_vectors(10, seed=6):
        runs = [first.search(query, k=15), first.search(query, k=15), second.search(query, k=15)]
        assert runs[0] == runs[1] == runs[2]

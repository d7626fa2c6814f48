"""fuse: reciprocal rank fusion of several search paths' rankings into one, scores in [0, 1]."""

from __future__ import annotations

import pytest

from aigw.catalog.item import Hit
from aigw.fallbacks.hybrid import fuse


def hits(*ids: str) -> list[Hit]:
    """A ranking, best first; the paths' own scores are deliberately odd, because fusion must ignore them."""
    return [Hit(id=i, score=0.01 * (n + 1)) for n, i in enumerate(ids)]


def test_scores_are_reciprocal_ranks_normalised_by_first_place_everywhere() -> None:
    fused = fuse([hits("a", "b"), hits("b", "c")], k=10, constant=60)
    ceiling = 2 / 61
    assert [h.id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx((1 / 62 + 1 / 61) / ceiling)
    assert fused[1].score == pytest.approx((1 / 61) / ceiling)
    assert fused[2].score == pytest.approx((1 / 62) / ceiling)


def test_first_in_every_ranking_scores_one_and_all_scores_lie_in_unit_interval() -> None:
    fused = fuse([hits("x", "y", "z"), hits("x", "z"), hits("x")], k=10)
    assert fused[0] == Hit("x", 1.0)
    assert all(0.0 <= h.score <= 1.0 for h in fused)


def test_items_found_by_several_paths_beat_one_paths_favourite() -> None:
    """Second in both rankings outranks first in only one: the point of fusing."""
    fused = fuse([hits("only-a", "both"), hits("only-b", "both")], k=3)
    assert fused[0].id == "both"


def test_ties_go_to_the_better_best_rank_then_the_earlier_ranking() -> None:
    # "a" and "b" both earn 1/61 (first in one ranking each): the earlier ranking's wins, whatever the ids.
    assert [h.id for h in fuse([hits("b"), hits("a")], k=2)] == ["b", "a"]
    # constant 0: "n" (ranks 2 and 2) and "p" (rank 1 in one) both score 1/2 + 1/2 = 1; p's best rank is better.
    fused = fuse([hits("m", "n", "q"), hits("p", "n", "m")], k=10, constant=0)
    assert [h.id for h in fused] == ["m", "p", "n", "q"]
    assert fused[1].score == fused[2].score


def test_k_limits_and_non_positive_k_or_no_rankings_give_nothing() -> None:
    assert [h.id for h in fuse([hits("a", "b", "c")], k=2)] == ["a", "b"]
    assert fuse([hits("a")], k=0) == []
    assert fuse([], k=5) == []
    assert fuse([[], []], k=5) == []


def test_an_empty_ranking_still_counts_in_the_normalisation() -> None:
    """A path that found nothing does not vouch for the other path's first hit."""
    assert fuse([hits("a"), []], k=1)[0].score == pytest.approx(0.5)


def test_an_id_repeated_within_one_ranking_counts_once_at_its_best_rank() -> None:
    fused = fuse([[Hit("a", 0.9), Hit("b", 0.8), Hit("a", 0.1)]], k=10)
    assert [h.id for h in fused] == ["a", "b"]
    assert fused[0].score == 1.0


def test_negative_constant_is_refused() -> None:
    with pytest.raises(ValueError, match="constant"):
        fuse([hits("a")], k=1, constant=-1)

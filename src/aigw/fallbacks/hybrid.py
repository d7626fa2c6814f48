"""Hybrid search: several rankings of the same catalog (fuzzy keywords, local embeddings ...) fused into one.

Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): an item at rank r (1-based) of a ranking earns
1 / (constant + r) from it, and its fused score is the sum over the rankings it appears in. Only ranks count, never
the paths' own scores, which live on different scales (a fuzzy match ratio, a cosine) and cannot be added; the
constant (60 in the paper) damps the weight of the very first ranks, so an item that several paths place fairly
high beats one that a single path places first.

Scores are divided by the most any item could earn, first in every ranking given (len(rankings) / (constant + 1)),
so they lie in [0, 1] and mean the same from one query to the next: 1.0 is "first everywhere", and an item that
only one of two paths found scores at most 0.5. An empty ranking still counts in that maximum (a path that found
nothing does not vouch for anything). Equal scores go to the item with the better best rank, then to the one
ranked there by the earlier ranking (pass the ranking you trust most first), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

from aigw.catalog.item import Hit

DEFAULT_CONSTANT = 60


def fuse(rankings: Sequence[Sequence[Hit]], k: int, *, constant: int = DEFAULT_CONSTANT) -> list[Hit]:
    """The `k` best items of the fused rankings (each best first), scores in [0, 1]; an id repeated within one
    ranking counts at its first (best) rank only."""
    if constant < 0:
        raise ValueError(f"constant must not be negative, not {constant}")
    if k <= 0 or not rankings:
        return []
    totals: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}  # id -> (best rank, index of the first ranking that placed it there)
    for source, ranking in enumerate(rankings):
        seen: set[str] = set()
        for rank, hit in enumerate(ranking, 1):
            if hit.id in seen:
                continue
            seen.add(hit.id)
            totals[hit.id] = totals.get(hit.id, 0.0) + 1.0 / (constant + rank)
            if hit.id not in best or rank < best[hit.id][0]:
                best[hit.id] = (rank, source)
    ceiling = len(rankings) / (constant + 1)
    order = sorted(totals, key=lambda item: (-totals[item], *best[item]))
    return [Hit(id=item, score=min(1.0, totals[item] / ceiling)) for item in order[:k]]

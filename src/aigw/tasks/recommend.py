"""`recommendations`: items like the given ones (an item, or a user's history), diverse on request.

Each path proposes candidates, then Maximal Marginal Relevance picks the answer: every next item is
the one with the best `(1 - diversity) * relevance - diversity * similarity to those already picked`,
so `diversity=0` is plain similarity and higher values spread the answer over different kinds of item.

    provider / local_embeddings   the centroid of the given items' vectors, nearest items by cosine
    fuzzy                         the given items' words as a query; similarity between items by shared words
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aigw.catalog.item import Hit
from aigw.fallbacks.cancellation import Cancellation
from aigw.fallbacks.fuzzy import words
from aigw.tasks.catalog_index import LoadedCollection
from aigw.tasks.requests import RecommendRequest
from aigw.tasks.vector_store import VectorSearch

QUERY_WORDS = 60  # words of the given items' texts the fuzzy path searches with
POOL_FACTOR = 5  # candidates considered per item answered


async def by_vectors(index: VectorSearch, request: RecommendRequest) -> list[Hit]:
    """Nearest to the centroid of the given items (those the index has), diversified."""
    given = list((await index.vectors(request.item_ids)).values())
    if not given:
        return []
    centroid = np.mean(np.stack(given), axis=0)
    pool = await index.search(centroid, request.k * POOL_FACTOR + len(request.item_ids), request.filters)
    pool = [hit for hit in pool if hit.id not in request.item_ids]
    vectors = await index.vectors([hit.id for hit in pool])

    def similarity(a: str, b: str) -> float:
        va, vb = vectors.get(a), vectors.get(b)
        return float(np.dot(va, vb)) if va is not None and vb is not None else 0.0

    return mmr(pool, request.k, request.diversity, similarity)


def by_words(collection: LoadedCollection, request: RecommendRequest, cancel: Cancellation | None = None) -> list[Hit]:
    """The given items' words as a fuzzy query, diversified by shared words (`cancel`: see `fallbacks.cancellation`)."""
    texts = [collection.items[i].text for i in request.item_ids if i in collection.items]
    query = " ".join(" ".join(texts).split()[:QUERY_WORDS])
    if not query:
        return []
    pool = collection.fuzzy.search(
        query, request.k * POOL_FACTOR + len(request.item_ids), request.filters, cancel=cancel
    )
    pool = [hit for hit in pool if hit.id not in request.item_ids]
    bags = {hit.id: set(words(collection.items[hit.id].text)) for hit in pool if hit.id in collection.items}

    def similarity(a: str, b: str) -> float:
        union = bags.get(a, set()) | bags.get(b, set())
        return len(bags.get(a, set()) & bags.get(b, set())) / len(union) if union else 0.0

    return mmr(pool, request.k, request.diversity, similarity)


def mmr(pool: list[Hit], k: int, diversity: float, similarity: Callable[[str, str], float]) -> list[Hit]:
    """Maximal Marginal Relevance over `pool` (best first); O(k * len(pool)) similarity calls."""
    chosen: list[Hit] = []
    left = list(pool)
    closest = {hit.id: 0.0 for hit in pool}  # each candidate's highest similarity to the chosen ones
    while left and len(chosen) < k:
        best = max(left, key=lambda h: (1 - diversity) * h.score - diversity * closest[h.id])  # first of equals
        chosen.append(best)
        left.remove(best)
        for hit in left:
            closest[hit.id] = max(closest[hit.id], similarity(hit.id, best.id))
    return chosen

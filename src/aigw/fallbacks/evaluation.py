"""Search quality on a labelled query set: the query file format, recall@k and nDCG@k (scripts/evaluate.py).

A query file is JSON Lines, one query a line:

    {"query": "grey couch", "kind": "synonym", "filters": {"price": {"lte": 900}}, "relevant": ["demo-00042", ...]}

`kind` is any label the results are grouped by (the demo set uses typo, synonym, paraphrase and filter); `filters`
(optional) are sent with the query, in the syntax of `aigw.catalog.filters`; `relevant` lists the ids of the
relevant items (grade 1 each), or maps id -> grade, a positive integer (the demo set uses 2 for what was asked for
and 1 for what would also do). An id graded 0 is not relevant, the same as leaving it out.

recall@k here is the share of the relevant items found in the top k, out of at most k: hits / min(|relevant|, k).
Plain recall divides by |relevant| and so cannot reach 1.0 when more than k items are relevant (a query for "sofa"
over a catalog of 17 sofas); capped like this, 1.0 means the top k are as full of relevant items as they can be.
nDCG@k uses linear gains (the grade) and the log2(rank + 1) discount, over the ideal ordering of all the graded
items (as trec_eval's ndcg_cut): 1.0 means the top k are relevant and in the best order of grades.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigw.catalog.jsonl import JsonLinesError, read_json_lines


class QueryFileError(ValueError):
    """A query file line that does not follow the format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    query: str
    kind: str
    relevant: Mapping[str, int]  # id -> grade, every grade positive
    filters: Mapping[str, Any] = field(default_factory=dict)


def parse_query(raw: Any, where: str = "query") -> LabelledQuery:
    """One line of a query file, checked; QueryFileError says what is wrong, prefixed by `where`."""
    if not isinstance(raw, dict):
        raise QueryFileError(f"{where}: expected an object")
    query, kind, filters = raw.get("query"), raw.get("kind", "all"), raw.get("filters") or {}
    if not isinstance(query, str) or not query.strip():
        raise QueryFileError(f"{where}: 'query' must be a non-empty string")
    if not isinstance(kind, str) or not kind:
        raise QueryFileError(f"{where}: 'kind' must be a non-empty string")
    if not isinstance(filters, dict):
        raise QueryFileError(f"{where}: 'filters' must be an object")
    relevant = _grades(raw.get("relevant"), where)
    if not relevant:
        raise QueryFileError(f"{where}: 'relevant' names no item with a positive grade")
    return LabelledQuery(query, kind, relevant, filters)


def _grades(raw: Any, where: str) -> dict[str, int]:
    if isinstance(raw, list) and all(isinstance(i, str) for i in raw):
        return dict.fromkeys(raw, 1)
    if isinstance(raw, dict) and all(isinstance(g, int) and not isinstance(g, bool) and g >= 0 for g in raw.values()):
        return {str(item): grade for item, grade in raw.items() if grade > 0}
    raise QueryFileError(f"{where}: 'relevant' must be a list of ids or an object of id -> grade (integer >= 0)")


def load_queries(path: Path) -> list[LabelledQuery]:
    """Every query of a JSON Lines file (blank lines skipped); QueryFileError on the first bad line."""
    try:
        return [parse_query(raw, f"{path}:{number}") for number, raw in read_json_lines(path)]
    except JsonLinesError as exc:
        raise QueryFileError(str(exc)) from None


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Relevant ids among the first k of `ranked`, out of min(|relevant|, k); 0.0 when nothing is relevant."""
    wanted = {item for item, grade in relevant.items() if grade > 0}
    if k <= 0 or not wanted:
        return 0.0
    found = len(wanted.intersection(_distinct(ranked, k)))
    return found / min(len(wanted), k)


def found_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1.0 when an item of the highest grade (the intended item) is among the first k of `ranked`, else 0.0."""
    top = max(relevant.values(), default=0)
    if k <= 0 or top <= 0:
        return 0.0
    return 1.0 if any(relevant.get(item, 0) == top for item in _distinct(ranked, k)) else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """DCG of the first k of `ranked` (gain = grade, discount log2(rank + 1)) over the best possible DCG."""
    ideal = _dcg(sorted((g for g in relevant.values() if g > 0), reverse=True)[:k])
    if k <= 0 or ideal == 0:
        return 0.0
    return _dcg([max(relevant.get(item, 0), 0) for item in _distinct(ranked, k)]) / ideal


def _distinct(ranked: Sequence[str], k: int) -> list[str]:
    """The first k distinct ids: an id listed twice is not found twice."""
    out: list[str] = []
    seen: set[str] = set()
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
            if len(out) == k:
                break
    return out


def _dcg(gains: Sequence[int]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0

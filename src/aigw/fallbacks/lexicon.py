"""A word list searchable by edit distance and prefix, with the edit budget and similarity of a fuzzy match."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

_FULL_SCAN = 5000  # vocabulary words of one length scanned in full; more, and only those sharing an end letter


def edit_budget(term: str) -> int:
    """How many edits a query word may be away from a vocabulary term: grows with the word's length."""
    if any(c.isdigit() for c in term):
        return 0 if term.isdigit() or len(term) < 5 else 1  # numbers and model codes: exact, or nearly
    n = len(term)
    return 0 if n <= 2 else 1 if n <= 3 else 2 if n <= 9 else 3


def similarity(distance: int, query: str, term: str) -> float:
    return 1.0 - distance / (max(len(query), len(term)) + 1)


class Lexicon:
    """A word list searchable by edit distance (grouped by length) and by prefix (sorted).

    A length group larger than `_FULL_SCAN` is searched only among its words that share the query's first or its
    last letter: exact for one edit (an edit cannot change both ends of a word), and for two edits it misses only
    words whose both ends were mistyped. That keeps a very large vocabulary (tens of thousands of distinct words)
    within the latency budget; catalogs of ordinary size are always scanned in full.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._sorted = sorted(set(vocabulary))
        self._known = set(self._sorted)
        self._by_length: dict[int, list[str]] = defaultdict(list)
        self._by_end: dict[tuple[int, str, str], list[str]] = defaultdict(list)
        for word in self._sorted:
            for group in self._groups(word):
                group.append(word)

    def _groups(self, word: str) -> tuple[list[str], list[str], list[str]]:
        """The sorted lists besides `_sorted` that hold a word: its length's, its first and its last letter's."""
        n = len(word)
        return self._by_length[n], self._by_end[(n, "first", word[0])], self._by_end[(n, "last", word[-1])]

    def add(self, word: str) -> None:
        if word not in self._known:
            self._known.add(word)
            for group in (self._sorted, *self._groups(word)):
                bisect.insort(group, word)

    def discard(self, word: str) -> None:
        if word in self._known:
            self._known.discard(word)
            for group in (self._sorted, *self._groups(word)):
                del group[bisect.bisect_left(group, word)]

    def __contains__(self, word: object) -> bool:
        return word in self._known

    def near(self, word: str, budget: int) -> dict[str, int]:
        """Words within `budget` OSA edits of `word` -> their distance."""
        if budget <= 0:
            return {word: 0} if word in self._known else {}
        found: dict[str, int] = {}
        for length in range(max(1, len(word) - budget), len(word) + budget + 1):
            for bucket in self._buckets(word, length):
                for term, distance, _ in process.extract(
                    word, bucket, scorer=OSA.distance, score_cutoff=budget, limit=None
                ):
                    found[term] = int(distance)
        return found

    def _buckets(self, word: str, length: int) -> tuple[list[str], ...]:
        everything = self._by_length.get(length, [])
        if len(everything) <= _FULL_SCAN:
            return (everything,)
        return self._by_end.get((length, "first", word[0]), []), self._by_end.get((length, "last", word[-1]), [])

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` words that start with `prefix` and are longer, alphabetically."""
        found: list[str] = []
        start = bisect.bisect_right(self._sorted, prefix)
        for word in self._sorted[start : start + limit]:
            if not word.startswith(prefix):
                break
            found.append(word)
        return found

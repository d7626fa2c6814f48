"""Local fuzzy keyword search over catalog items, for when no AI provider answers.

How a search runs:

1. Items and queries are normalised alike: Unicode NFKD with accents stripped, casefolded, split into words;
   filler words ("a", "for", "the" ...) are dropped and plurals folded ("sofas" -> "sofa"). Word order is ignored.
2. Upserts feed an inverted index (term -> field weight -> item numbers). Its vocabulary, grouped by word length,
   is much smaller than the corpus, so that is what the fuzzy matching scans.
3. Each query word is expanded to the vocabulary terms within an edit budget that grows with its length, using
   `rapidfuzz.process.extract` with the OSA distance (a transposition costs one edit, like a missing letter); the
   last word also matches as a prefix, for search as you type. A term's similarity falls with its distance.
4. Synonyms (the shipped synonyms.yaml plus the caller's groups, symmetric) add alternatives: "couch" also looks
   for "sofa", "running shoes" for "sneakers" and back. Query words are matched to synonyms fuzzily too, so
   "cuoch" still finds "sofa". Adjacent words also try their concatenation ("head phones" -> "headphones"), and
   a long unknown word the two known words it may run together ("sofabed" -> "sofa bed").
5. Only items in the posting lists of those expansions are scored. A query slot (word or phrase) scores an item by
   the best similarity x field weight among the expansions it contains; slots are weighted by the IDF of their
   best term, so rare words decide more than common ones, and the weighted mean lies in [0, 1].
6. Filters (`aigw.catalog.filters.matches`) are checked in rank order, on the best candidates first. The best
   max(3k, 30) that pass get a small `fuzz.token_set_ratio` bonus against the item's text, which separates
   near-ties; equal scores are ordered by id, so results are deterministic.

The per-item work is set and dict operations running in C (`set.difference`, `dict.fromkeys`), one Python-level
loop per query slot over its candidates, and rapidfuzz calls on the short list of best candidates.
Measured on a 2-core AMD EPYC VM, one thread (`python -m aigw.fallbacks.fuzzy_bench`): 10,000 items of 10-30
words build in ~0.2 s; typo queries take p50 ~1-1.5 ms, p95 ~2-3 ms. With 10,000 items drawn from 86,000
distinct dictionary words (the worst case for the vocabulary scan, see `lexicon.Lexicon`) p95 is ~5 ms.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from aigw.catalog.filters import matches
from aigw.catalog.item import Hit, Item
from aigw.fallbacks.cancellation import CHECK_EVERY, Cancellation, check
from aigw.fallbacks.lexicon import Lexicon, edit_budget, similarity
from aigw.fallbacks.synonyms import SYNONYMS_FILE as SYNONYMS_FILE
from aigw.fallbacks.synonyms import SynonymTable, load_synonyms
from aigw.fallbacks.text import extract_terms, keep_word, normalize, words

__all__ = ["FuzzyIndex", "load_synonyms", "normalize", "words"]

_SYNONYM_FACTOR = 0.9  # a synonym's match is worth a little less than the word itself
_PREFIX_BASE = 0.5  # "lapt" -> "laptop" scores 0.5 + 0.4 * 4/6
_PREFIX_SPAN = 0.4
_KNOWN_WORD_FUZZ = 0.8  # fuzzy matches of a query word that is itself a known word count this much less
_MAX_QUERY_TERMS = 32  # a pasted paragraph is searched by its first words, keeping latency bounded
_MAX_EXPANSIONS = 40  # terms kept per query word, best first
_EXPANSION_CACHE = 4096  # query words whose expansions are remembered
_MAX_COMPLETIONS = 16
_PATCH_LIMIT = 1000  # vocabulary changes applied to the lexicon one by one; more, and it is rebuilt
_SYNONYM_MARGIN = 0.15  # a synonym key counts if it is about as close to the query word as its best match
_BONUS = 0.1  # share of the final score given to token_set_ratio on the best candidates
_MIN_POOL = 30  # candidates that get the bonus, at least
_BONUS_WORDS = 64  # the bonus compares the query with the first words of an item's text
_SPLIT_MIN = 6  # an unknown word at least this long may be two known words run together


# ---------------------------------------------------------------------------------------------- query plan


@dataclass(slots=True)
class _Part:
    """One word of an alternative: vocabulary terms -> similarity, and how much the word counts (IDF)."""

    terms: dict[str, float]
    weight: float


@dataclass(slots=True)
class _Alternative:
    """A way to satisfy a slot: all its parts, each scoring its best term present, as their weighted mean."""

    parts: tuple[_Part, ...]
    factor: float = 1.0

    @property
    def weight(self) -> float:
        return self.factor * sum(p.weight for p in self.parts)


@dataclass(slots=True)
class _Slot:
    """A query word or phrase: an item scores the best of the alternatives it contains."""

    alternatives: list[_Alternative] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return max((a.weight for a in self.alternatives), default=0.0)


# ---------------------------------------------------------------------------------------------- the index


class FuzzyIndex:
    """An in-memory, typo- and synonym-tolerant keyword index over catalog items.

    `synonyms` adds groups (term -> equivalents, symmetric) to the shipped table. `field_weights` names metadata
    fields whose string values are searched besides `text`, with a weight; `text` weighs 1.0 unless given, and a
    weight of 0 leaves a field out. Every method takes one lock, so threads may share an index.
    """

    def __init__(
        self,
        items: Iterable[Item] = (),
        *,
        synonyms: Mapping[str, Sequence[str]] | None = None,
        field_weights: Mapping[str, float] | None = None,
        cancel: Cancellation | None = None,
    ) -> None:
        self._fields = _normalised_weights(field_weights or {})
        self._synonyms = SynonymTable.build(load_synonyms(synonyms))
        self._lock = threading.RLock()
        self._doc_of: dict[str, int] = {}
        self._items: list[Item | None] = []
        self._doc_terms: list[dict[str, float]] = []
        self._bonus_text: list[str] = []
        self._free: list[int] = []
        self._postings: dict[str, dict[float, set[int]]] = {}
        self._lexicon: Lexicon | None = None  # built on the first search, then kept up to date
        self._vocabulary_changes: set[str] = set()  # terms added or removed since the lexicon was last updated
        self._expansions: dict[tuple[str, bool], dict[str, float]] = {}  # cleared by every write
        self.upsert(items, cancel=cancel)

    def __len__(self) -> int:
        return len(self._doc_of)

    def upsert(self, items: Iterable[Item], *, cancel: Cancellation | None = None) -> None:
        """Add items, replacing any with the same id (`cancel` stops it between items: see `cancellation`)."""
        with self._lock:
            self._expansions.clear()
            for count, item in enumerate(items):
                if count % CHECK_EVERY == 0:
                    check(cancel)
                doc = self._doc_of.get(item.id)
                if doc is None:
                    doc = self._allocate(item.id)
                else:
                    self._unindex(doc)
                self._index(doc, item)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove the items with these ids; returns how many were there."""
        removed = 0
        with self._lock:
            self._expansions.clear()
            for item_id in ids:
                doc = self._doc_of.pop(item_id, None)
                if doc is not None:
                    self._unindex(doc)
                    self._items[doc] = None
                    self._bonus_text[doc] = ""
                    self._free.append(doc)
                    removed += 1
        return removed

    def search(
        self, query: str, k: int = 10, filters: Mapping[str, Any] | None = None, *, cancel: Cancellation | None = None
    ) -> list[Hit]:
        """The `k` best items for `query` whose metadata match `filters`, best first, scores in [0, 1].
        `cancel` stops it between query words, slots and filtered items (WorkCancelled)."""
        if k <= 0 or not query.strip():
            return []
        with self._lock:
            slots = [s for s in self._plan(query, cancel) if s.weight > 0]
            if not slots:
                return []
            scores = self._score(slots, cancel)
            pool = self._best_matching(scores, filters or {}, max(3 * k, _MIN_POOL), cancel)
            return self._rerank(pool, scores, query, k)

    # ------------------------------------------------------------------------------------------ indexing

    def _allocate(self, item_id: str) -> int:
        if self._free:
            doc = self._free.pop()
        else:
            doc = len(self._items)
            self._items.append(None)
            self._doc_terms.append({})
            self._bonus_text.append("")
        self._doc_of[item_id] = doc
        return doc

    def _index(self, doc: int, item: Item) -> None:
        terms = self._item_terms(item)
        for term, weight in terms.items():
            levels = self._postings.get(term)
            if levels is None:
                levels = self._postings[term] = {}
                self._vocabulary_changes.add(term)
            levels.setdefault(weight, set()).add(doc)
        self._items[doc] = item
        self._doc_terms[doc] = terms
        self._bonus_text[doc] = " ".join(words(item.text)[:_BONUS_WORDS])

    def _unindex(self, doc: int) -> None:
        for term, weight in self._doc_terms[doc].items():
            levels = self._postings[term]
            members = levels[weight]
            members.discard(doc)
            if not members:
                del levels[weight]
                if not levels:
                    del self._postings[term]
                    self._vocabulary_changes.add(term)
        self._doc_terms[doc] = {}

    def _item_terms(self, item: Item) -> dict[str, float]:
        """Each term of the item -> the weight of the heaviest field it appears in."""
        found: dict[str, float] = {}
        for name, weight in self._fields.items():
            for text in _field_texts(item, name):
                for term in extract_terms(text):
                    if weight > found.get(term, 0.0):
                        found[term] = weight
        return found

    def _vocabulary(self) -> Lexicon:
        """The lexicon of indexed terms: rebuilt after large changes, patched after small ones."""
        changes, self._vocabulary_changes = self._vocabulary_changes, set()
        if self._lexicon is None or len(changes) > _PATCH_LIMIT:
            self._lexicon = Lexicon(self._postings)
        else:
            for term in changes:
                if term in self._postings:
                    self._lexicon.add(term)
                else:
                    self._lexicon.discard(term)
        return self._lexicon

    def _df(self, term: str) -> int:
        return sum(len(docs) for docs in self._postings.get(term, {}).values())

    def _idf(self, term: str) -> float:
        df = self._df(term)
        n = len(self._doc_of)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    # ------------------------------------------------------------------------------------------ query plan

    def _plan(self, query: str, cancel: Cancellation | None = None) -> list[_Slot]:
        """One slot per query word, or per phrase where words form a synonym key or a known compound."""
        terms = extract_terms(query)[:_MAX_QUERY_TERMS]
        expansions = []
        for i, term in enumerate(terms):
            check(cancel)
            expansions.append(self._expand(term, last=i == len(terms) - 1))
        keys = [self._synonym_words(t, e) for t, e in zip(terms, expansions, strict=True)]
        slots: list[_Slot] = []
        i = 0
        while i < len(terms):
            span = self._phrase_slot(terms, expansions, keys, i)
            if span is None:
                slots.append(self._word_slot(terms[i], expansions[i], keys[i]))
                i += 1
            else:
                slot, length = span
                slots.append(slot)
                i += length
        return slots

    def _expand(self, term: str, *, last: bool) -> dict[str, float]:
        """Vocabulary terms a query word may mean -> similarity (cached until the next write)."""
        cached = self._expansions.get((term, last))
        if cached is None:
            if len(self._expansions) >= _EXPANSION_CACHE:
                self._expansions.clear()
            cached = self._expansions[(term, last)] = self._expand_uncached(term, last=last)
        return cached

    def _expand_uncached(self, term: str, *, last: bool) -> dict[str, float]:
        """The best `_MAX_EXPANSIONS`; among equally close terms the more frequent are kept."""
        vocabulary = self._vocabulary()
        sims = {t: similarity(d, term, t) for t, d in vocabulary.near(term, edit_budget(term)).items()}
        if term in vocabulary or term in self._synonyms.lexicon:
            # a real word is more likely meant than a word one typo away from it
            sims = {t: s if t == term else s * _KNOWN_WORD_FUZZ for t, s in sims.items()}
        if last and len(term) >= 3 and not term.isdigit():
            for word in vocabulary.completions(term, _MAX_COMPLETIONS):
                sims[word] = max(sims.get(word, 0.0), _PREFIX_BASE + _PREFIX_SPAN * len(term) / len(word))
        if len(sims) > _MAX_EXPANSIONS:
            sims = dict(sorted(sims.items(), key=lambda kv: (-kv[1], -self._df(kv[0]), kv[0]))[:_MAX_EXPANSIONS])
        return sims

    def _synonym_words(self, term: str, expansion: Mapping[str, float]) -> dict[str, float]:
        """Terms of synonym keys the query word may be -> similarity, if about as close as its best match."""
        near = self._synonyms.lexicon.near(term, edit_budget(term))
        sims = {t: similarity(d, term, t) for t, d in near.items()}
        best = max([*sims.values(), *expansion.values()], default=0.0)
        return {t: s for t, s in sims.items() if s >= best - _SYNONYM_MARGIN}

    def _word_slot(self, term: str, expansion: dict[str, float], keys: Mapping[str, float]) -> _Slot:
        singles = dict(expansion)
        slot = _Slot()
        for key, sim in keys.items():
            self._add_equivalents(slot, singles, (key,), _SYNONYM_FACTOR * sim)
        for head, tail in self._splits(term):
            slot.alternatives.append(_Alternative((self._exact_part(head), self._exact_part(tail)), _SYNONYM_FACTOR))
        slot.alternatives.insert(0, _Alternative((self._part(singles),)))
        return slot

    def _phrase_slot(
        self, terms: list[str], expansions: list[dict[str, float]], keys: list[dict[str, float]], i: int
    ) -> tuple[_Slot, int] | None:
        """The slot for the longest synonym phrase (or a two-word compound) starting at word `i`."""
        found = self._synonym_phrase_at(keys, i)
        compound = "".join(terms[i : i + 2]) if i + 1 < len(terms) else ""
        if found is None and compound not in self._vocabulary():
            return None
        length = len(found[0]) if found else 2
        singles: dict[str, float] = {compound: 1.0} if compound in self._vocabulary() and length == 2 else {}
        slot = _Slot([_Alternative(tuple(self._part(e) for e in expansions[i : i + length]))])
        if found:
            self._add_equivalents(slot, singles, found[0], _SYNONYM_FACTOR * found[1])
        if singles:
            slot.alternatives.append(_Alternative((self._part(singles),)))
        return slot, length

    def _synonym_phrase_at(self, keys: list[dict[str, float]], i: int) -> tuple[tuple[str, ...], float] | None:
        """The longest multi-word synonym key the query words from `i` may spell, with its weakest similarity."""
        best: tuple[tuple[str, ...], float] | None = None
        for first in sorted(keys[i]):
            for key in self._synonyms.by_first.get(first, ()):
                if i + len(key) > len(keys) or not all(t in keys[i + j] for j, t in enumerate(key)):
                    continue
                sim = min(keys[i + j][t] for j, t in enumerate(key))
                if best is None or (len(key), sim) > (len(best[0]), best[1]):
                    best = (key, sim)
        return best

    def _add_equivalents(self, slot: _Slot, singles: dict[str, float], key: tuple[str, ...], factor: float) -> None:
        """A synonym key's equivalents: single words join `singles`, phrases become alternatives."""
        vocabulary = self._vocabulary()
        for phrase in self._synonyms.equivalents.get(key, ()):
            if len(phrase) == 1:
                if phrase[0] in vocabulary and factor > singles.get(phrase[0], 0.0):
                    singles[phrase[0]] = factor
            elif all(t in vocabulary for t in phrase):
                slot.alternatives.append(_Alternative(tuple(self._exact_part(t) for t in phrase), factor))

    def _splits(self, term: str) -> list[tuple[str, str]]:
        """Two known words that an unknown long word may have run together ("sofabed")."""
        vocabulary = self._vocabulary()
        if len(term) < _SPLIT_MIN or term in vocabulary:
            return []
        cuts = range(2, len(term) - 1)
        return [(term[:c], term[c:]) for c in cuts if term[:c] in vocabulary and term[c:] in vocabulary]

    def _part(self, terms: dict[str, float]) -> _Part:
        """Weighted by the IDF of the closest terms (their mean when tied), times that closeness."""
        if not terms:
            return _Part(terms, 0.0)
        top = max(terms.values())
        closest = [self._idf(t) for t, s in terms.items() if s == top]
        return _Part(terms, top * sum(closest) / len(closest))

    def _exact_part(self, term: str) -> _Part:
        return self._part({term: 1.0})

    # ------------------------------------------------------------------------------------------ scoring

    def _score(self, slots: list[_Slot], cancel: Cancellation | None = None) -> dict[int, float]:
        """Item -> weighted mean of its slot scores; only items matching some slot appear."""
        total = sum(s.weight for s in slots)
        scores: dict[int, float] = {}
        for slot in slots:
            check(cancel)
            share = slot.weight / total
            for doc, value in self._slot_scores(slot).items():
                scores[doc] = scores.get(doc, 0.0) + share * value
        return scores

    def _slot_scores(self, slot: _Slot) -> dict[int, float]:
        result: dict[int, float] = {}
        for alternative in slot.alternatives:
            scores = self._alternative_scores(alternative)
            if not result:
                result = scores
                continue
            for doc, value in scores.items():
                if value > result.get(doc, 0.0):
                    result[doc] = value
        return result

    def _alternative_scores(self, alternative: _Alternative) -> dict[int, float]:
        parts = [p for p in alternative.parts if p.weight > 0]
        if len(parts) == 1 and alternative.factor == 1.0 and len(alternative.parts) == 1:
            return self._best(parts[0].terms)
        total = sum(p.weight for p in alternative.parts)
        scores: dict[int, float] = {}
        for part in parts:
            share = alternative.factor * part.weight / total
            for doc, value in self._best(part.terms).items():
                scores[doc] = scores.get(doc, 0.0) + share * value
        return scores

    def _best(self, terms: Mapping[str, float]) -> dict[int, float]:
        """Item -> the best similarity x field weight among `terms` it contains.

        Levels are visited best first and each item keeps the first value it gets, so the work is C-level set
        difference and dict construction, not a Python loop per posting.
        """
        levels = sorted(
            ((sim * weight, term, weight) for term, sim in terms.items() for weight in self._postings.get(term, {})),
            reverse=True,
        )
        best: dict[int, float] = {}
        for value, term, weight in levels:
            docs = self._postings[term][weight]
            best.update(dict.fromkeys(docs.difference(best) if best else docs, value))
        return best

    # ------------------------------------------------------------------------------------------ ranking

    def _best_matching(
        self, scores: dict[int, float], filters: Mapping[str, Any], n: int, cancel: Cancellation | None = None
    ) -> list[int]:
        """The `n` best-scored items that match `filters`, in order (score, then id).

        Filters are checked in rank order on the best 4n candidates first; only if too few of those pass, on
        all the others, of which the best that pass are then taken.
        """

        def order(doc: int) -> tuple[float, str]:
            return -scores[doc], self._id(doc)

        if not filters:
            return heapq.nsmallest(n, scores, key=order)
        window = heapq.nsmallest(4 * n, scores, key=order)
        picked = [doc for doc in window if matches(self._metadata(doc), filters)]
        if len(picked) >= n or len(window) == len(scores):
            return picked[:n]
        # Every item outside the window ranks after those in it: filter them all (checking for
        # cancellation on the way), then rank only those that pass, not a sort of every scored item.
        in_window = set(window)
        passing = []
        for count, doc in enumerate(scores):
            if count % CHECK_EVERY == 0:
                check(cancel)
            if doc not in in_window and matches(self._metadata(doc), filters):
                passing.append(doc)
        return picked + heapq.nsmallest(n - len(picked), passing, key=order)

    def _rerank(self, pool: list[int], scores: Mapping[int, float], query: str, k: int) -> list[Hit]:
        """Blend in a token_set_ratio bonus on the pool, then order by (score, id)."""
        wanted = " ".join(w for w in words(query) if keep_word(w))
        hits = [Hit(self._id(doc), round(self._blend(scores[doc], wanted, doc), 6)) for doc in pool]
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]

    def _blend(self, score: float, wanted: str, doc: int) -> float:
        bonus = fuzz.token_set_ratio(wanted, self._bonus_text[doc]) / 100
        return (1 - _BONUS) * score + _BONUS * bonus

    def _id(self, doc: int) -> str:
        item = self._items[doc]
        assert item is not None
        return item.id

    def _metadata(self, doc: int) -> Mapping[str, Any]:
        item = self._items[doc]
        assert item is not None
        return item.metadata


def _normalised_weights(field_weights: Mapping[str, float]) -> dict[str, float]:
    """Field -> weight scaled so the heaviest is 1.0; `text` is 1.0 unless given, non-positive weights drop out."""
    weights = {"text": 1.0, **{str(k): float(v) for k, v in field_weights.items()}}
    positive = {name: w for name, w in weights.items() if w > 0}
    if not positive:
        raise ValueError("field_weights: at least one field needs a positive weight")
    top = max(positive.values())
    return {name: round(w / top, 6) for name, w in positive.items()}


def _field_texts(item: Item, name: str) -> list[str]:
    if name == "text":
        return [item.text]
    value = item.metadata.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []

"""Synonym groups for the local fuzzy search: the shipped synonyms.yaml plus the caller's, and their lookup table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from aigw.fallbacks.lexicon import Lexicon
from aigw.fallbacks.text import extract_terms, words

SYNONYMS_FILE = "synonyms.yaml"


def _phrase(text: str) -> str:
    return " ".join(words(text))


def _groups_from_yaml(text: str) -> list[list[str]]:
    raw = yaml.safe_load(text)
    groups = raw.get("groups") if isinstance(raw, dict) else None
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and all(isinstance(t, str) for t in g) for g in groups
    ):
        raise ValueError(f"{SYNONYMS_FILE}: expected `groups`, a list of lists of terms")
    return groups


@lru_cache(maxsize=1)
def _shipped_groups() -> tuple[tuple[str, ...], ...]:
    text = resources.files("aigw.fallbacks").joinpath(SYNONYMS_FILE).read_text(encoding="utf-8")
    return tuple(tuple(group) for group in _groups_from_yaml(text))


def load_synonyms(extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, frozenset[str]]:
    """Normalised term or phrase -> its equivalents, from synonyms.yaml plus `extra` (term -> equivalents).

    Every group is symmetric (each member is equivalent to all the others) but groups are not chained:
    a term in two groups gets both groups' members, their members do not get each other.
    """
    groups: list[Sequence[str]] = list(_shipped_groups())
    for term, equivalents in (extra or {}).items():
        groups.append([term, equivalents] if isinstance(equivalents, str) else [term, *equivalents])
    table: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        members = {p for p in map(_phrase, group) if p}
        for member in members:
            table[member] |= members - {member}
    return {term: frozenset(others) for term, others in table.items() if others}


@dataclass(frozen=True, slots=True)
class SynonymTable:
    equivalents: Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]]  # key (terms) -> equivalent phrases
    by_first: Mapping[str, tuple[tuple[str, ...], ...]]  # first term -> multi-word keys starting with it
    lexicon: Lexicon  # every term of every key, for fuzzy lookups

    @classmethod
    def build(cls, table: Mapping[str, frozenset[str]]) -> SynonymTable:
        equivalents: dict[tuple[str, ...], set[tuple[str, ...]]] = defaultdict(set)
        for key, others in table.items():
            key_terms = _synonym_terms(key)
            if key_terms:
                equivalents[key_terms] |= {t for t in map(_synonym_terms, others) if t and t != key_terms}
        by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for phrase in sorted(equivalents):
            if len(phrase) > 1:
                by_first[phrase[0]].append(phrase)
        return cls(
            equivalents={k: tuple(sorted(v)) for k, v in equivalents.items() if v},
            by_first={k: tuple(v) for k, v in by_first.items()},
            lexicon=Lexicon(t for key in equivalents for t in key),
        )


def _synonym_terms(phrase: str) -> tuple[str, ...]:
    """A synonym's terms; none for a phrase that filler words would shrink to one word ("post it" -> "post")."""
    terms = tuple(extract_terms(phrase))
    return terms if len(terms) > 1 or len(words(phrase)) == 1 else ()

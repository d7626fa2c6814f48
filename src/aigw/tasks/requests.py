"""What a task call asks for: plain data, importable without the search code (NumPy, RapidFuzz), so
the HTTP routes and the Python API are declared without loading what only a search needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SearchRequest:
    collection: str
    query: str
    k: int = 10
    filters: Mapping[str, Any] = field(default_factory=dict)
    alternatives: tuple[str, ...] = ()  # other wordings of the query (an intent's synonyms)

    @property
    def expanded(self) -> str:
        """The query with its alternatives, as the vector paths embed it."""
        return f"{self.query} ({', '.join(self.alternatives)})" if self.alternatives else self.query


@dataclass(frozen=True, slots=True)
class IntelligentRequest:
    collection: str
    query: str
    k: int = 10
    filters: Mapping[str, Any] = field(default_factory=dict)
    rerank: bool = False
    locale: str = "en"


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    collection: str
    item_ids: tuple[str, ...]
    k: int = 10
    filters: Mapping[str, Any] = field(default_factory=dict)
    diversity: float = 0.3
    explain: bool = False  # the LLM says why each item is recommended (tasks.assisted)
    locale: str = "en"  # of the explanations


TaskRequest = SearchRequest | IntelligentRequest | RecommendRequest

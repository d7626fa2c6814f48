"""A search query turned into a structured intent: search text, filters and synonyms.

The LLM writes it through the versioned `intent_extraction` template (the active version, which the
configuration may change) and its answer is held to `INTENT_SCHEMA`. What it proposes is then
checked against the collection: filters on unknown fields or with values the field cannot hold
are dropped, synonyms are trimmed. When the LLM cannot answer, the query itself is the intent and
the answer says why (`source: "query"`, `reason`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aigw.catalog.fields import FieldSpec, usable_filters

INTENT_TEMPLATE = "intent_extraction"
INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "search_text": {"type": "string"},
        "filters": {"type": "object"},
        "synonyms": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["search_text", "filters", "synonyms"],
}
MAX_SYNONYMS = 5
MAX_SYNONYM_LENGTH = 100


@dataclass(slots=True)
class Intent:
    search_text: str
    filters: dict[str, Any] = field(default_factory=dict)
    synonyms: list[str] = field(default_factory=list)
    source: str = "query"  # "llm": extracted by the model; "query": the query as typed
    reason: str | None = None  # why the model's intent is not used

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "search_text": self.search_text,
            "filters": self.filters,
            "synonyms": self.synonyms,
            "source": self.source,
        }
        if self.reason is not None:
            shown["reason"] = self.reason
        return shown


def intent_variables(query: str, specs: Mapping[str, FieldSpec], locale: str = "en") -> dict[str, Any]:
    return {
        "query": query,
        "filters": {name: spec.describe() for name, spec in specs.items()},
        "locale": locale,
        "max_synonyms": MAX_SYNONYMS,
    }


def intent_from_answer(answer: Mapping[str, Any], query: str, specs: Mapping[str, FieldSpec]) -> Intent:
    """The model's intent, kept to what the collection can use (search text never empty)."""
    text = answer.get("search_text")
    search_text = text.strip() if isinstance(text, str) and text.strip() else query
    proposed = answer.get("filters")
    filters = usable_filters(proposed, specs) if isinstance(proposed, Mapping) else {}
    synonyms: list[str] = []
    seen = {search_text.casefold()}
    for synonym in answer.get("synonyms") or []:
        if not isinstance(synonym, str):
            continue
        cleaned = synonym.strip()[:MAX_SYNONYM_LENGTH]
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            synonyms.append(cleaned)
    return Intent(search_text, filters, synonyms[:MAX_SYNONYMS], source="llm")

"""One catalog item as every search path sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_ID_LENGTH = 200
MAX_TEXT_LENGTH = 32_768


@dataclass(frozen=True, slots=True)
class Item:
    """`id` is unique within its collection; `text` is what is searched; `metadata` holds fields
    that filters select on and field weights may search (strings, numbers, booleans, lists of them)."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the item's id and a score in [0, 1], higher is better."""

    id: str
    score: float

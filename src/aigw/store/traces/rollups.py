"""The dashboard's rollups: every request counted per minute, provider and model, in memory
between flushes, then added to the database by an upsert that every replica runs.

Counting happens in the writer's flush for every finished trace, sampled or not: sampling
decides which traces are stored, never what the dashboard counts.

Callers choose model names, so the number of cells is bounded: past `MAX_CELLS_PER_MINUTE`
(provider, model) pairs in one minute, further models of that minute are counted under
`OTHER`, and likewise refusal reasons past `MAX_REASONS_PER_MINUTE`. Counts that cannot be
written (the database is away) stay here and are added to the next flush's, up to
`MAX_PENDING_CELLS`; past that, new requests are left out of the rollups and counted in
`dropped`.

Rows are upserted sorted by their key, so two replicas writing the same cells lock them in the
same order and cannot deadlock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from aigw.store.traces.histogram import BUCKETS, bucket_of
from aigw.store.traces.record import Facts
from aigw.store.traces.tables import (
    ADDED_COLUMNS,
    COUNTER_COLUMNS,
    SCALAR_COUNTERS,
    UPSTREAM_COLUMNS,
    refusals,
    rollups,
)

__all__ = ["OTHER", "Rollups", "upsert_statements"]

OTHER = "(other)"
MAX_CELLS_PER_MINUTE = 200
MAX_REASONS_PER_MINUTE = 200
MAX_PENDING_CELLS = 50_000
_CellKey = tuple[int, str, str]
_ReasonKey = tuple[int, str, str, str]


@dataclass(slots=True)
class Cell:
    """The counts of one minute x provider x model."""

    requests: int = 0
    errors: int = 0
    refusals: int = 0
    fallbacks: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    added: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    upstream: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, facts: Facts) -> None:
        self.requests += 1
        self.errors += facts.error
        self.refusals += facts.refusal_reason is not None
        self.fallbacks += facts.fallback
        self.cache_hits += facts.cache_hit
        self.prompt_tokens += facts.prompt_tokens
        self.completion_tokens += facts.completion_tokens
        self.cost_usd += facts.cost_usd
        self.added[bucket_of(facts.added_ms)] += 1
        if facts.upstream_ms is not None:
            self.upstream[bucket_of(facts.upstream_ms)] += 1

    def merge(self, other: Cell) -> None:
        for name in SCALAR_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.added = [a + b for a, b in zip(self.added, other.added, strict=True)]
        self.upstream = [a + b for a, b in zip(self.upstream, other.upstream, strict=True)]

    def values(self) -> dict[str, Any]:
        row: dict[str, Any] = {name: getattr(self, name) for name in SCALAR_COUNTERS}
        row.update(zip(ADDED_COLUMNS, self.added, strict=True))
        row.update(zip(UPSTREAM_COLUMNS, self.upstream, strict=True))
        return row


class Rollups:
    """Counts not yet written, keyed by minute, provider and model (see the module docstring)."""

    def __init__(self) -> None:
        self.cells: dict[_CellKey, Cell] = {}
        self.reasons: dict[_ReasonKey, int] = {}
        self._models_per_minute: dict[int, int] = {}
        self._reasons_per_minute: dict[int, int] = {}
        self.dropped = 0  # requests left out because too many cells were pending

    def add(self, facts: Facts) -> None:
        key = (facts.minute, facts.provider, facts.model)
        cell = self.cells.get(key)
        if cell is None:
            if len(self.cells) >= MAX_PENDING_CELLS:
                self.dropped += 1
                return
            key = self._bounded_cell(key)
            cell = self.cells.get(key)
            if cell is None:
                cell = self.cells[key] = Cell()
        cell.add(facts)
        if facts.refusal_reason is not None:
            self._count_reason((*key, facts.refusal_reason), 1)

    def merge(self, other: Rollups) -> None:
        """Add `other`'s counts to these (counts that failed to be written, kept for the next flush)."""
        for key, cell in other.cells.items():
            mine = self.cells.get(key)
            if mine is None:
                if len(self.cells) >= MAX_PENDING_CELLS:
                    self.dropped += cell.requests
                    continue
                key = self._bounded_cell(key)
                mine = self.cells.setdefault(key, Cell())
            mine.merge(cell)
        for reason_key, count in other.reasons.items():
            self._count_reason(reason_key, count)
        self.dropped += other.dropped

    def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rows for `ai_trace_rollups` and `ai_trace_refusals`, sorted by key."""
        cells = [
            {"minute": minute, "provider": provider, "model": model, **cell.values()}
            for (minute, provider, model), cell in sorted(self.cells.items())
        ]
        reasons = [
            {"minute": minute, "provider": provider, "model": model, "reason": reason, "count": count}
            for (minute, provider, model, reason), count in sorted(self.reasons.items())
        ]
        return cells, reasons

    def __len__(self) -> int:
        return len(self.cells)

    def _bounded_cell(self, key: _CellKey) -> _CellKey:
        minute = key[0]
        seen = self._models_per_minute.get(minute, 0)
        if seen >= MAX_CELLS_PER_MINUTE:
            return (minute, key[1], OTHER)
        self._models_per_minute[minute] = seen + 1
        return key

    def _count_reason(self, key: _ReasonKey, count: int) -> None:
        if key not in self.reasons:
            seen = self._reasons_per_minute.get(key[0], 0)
            if seen >= MAX_REASONS_PER_MINUTE:
                key = (*key[:3], OTHER)
            else:
                self._reasons_per_minute[key[0]] = seen + 1
        self.reasons[key] = self.reasons.get(key, 0) + count


def upsert_statements(dialect: str) -> tuple[Insert, Insert]:
    """INSERT ... ON CONFLICT DO UPDATE adding the new counts, for the rollups and the refusals."""
    return (
        _adding_upsert(dialect, rollups, ("minute", "provider", "model"), COUNTER_COLUMNS),
        _adding_upsert(dialect, refusals, ("minute", "provider", "model", "reason"), ("count",)),
    )


def _adding_upsert(dialect: str, table: Table, keys: Sequence[str], counters: Sequence[str]) -> Insert:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + insert.excluded[name] for name in counters}
    )

"""Tables of persisted traces and of the dashboard's rollups (migration 0004).

- `ai_traces`: one row per kept trace. `request_id` is indexed, not unique (a caller may reuse
  its `X-Request-ID`); pages are read newest first by (`started_at`, `id`), a total order.
  Strings are cut to their column's length before they are written; `spans` and `attributes`
  are JSON text (bounded), never queried inside.
- `ai_trace_rollups`: per minute (`minute`, minutes since the epoch: an integer, so every
  dialect groups it into 5-minute or hourly steps by integer division) x provider x model,
  counts that replicas add with INSERT ... ON CONFLICT DO UPDATE, and two latency histograms
  (`histogram.py`) as one column per bucket so that the upsert adds them too.
- `ai_trace_refusals`: refusals per minute x provider x model x reason, added the same way.

Rollup tables have a surrogate `id` so that retention deletes small batches by primary key, as
for traces; the natural key is a unique index, the target of the upsert. An unknown provider or
model is stored as "" (a key column cannot be NULL and still conflict).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import BigInteger, Column, Float, Index, Integer, SmallInteger, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aigw.store.models import Base, JSONValue, Timestamp
from aigw.store.traces.histogram import BUCKETS

__all__ = [
    "ADDED_COLUMNS",
    "COUNTER_COLUMNS",
    "LENGTHS",
    "SCALAR_COUNTERS",
    "UPSTREAM_COLUMNS",
    "TraceRow",
    "refusals",
    "rollups",
    "traces",
]

_ID = BigInteger().with_variant(Integer, "sqlite")
ADDED_COLUMNS = tuple(f"added_h{index:02d}" for index in range(BUCKETS))
UPSTREAM_COLUMNS = tuple(f"upstream_h{index:02d}" for index in range(BUCKETS))
SCALAR_COUNTERS = (
    "requests",
    "errors",
    "refusals",
    "fallbacks",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
)
COUNTER_COLUMNS = (*SCALAR_COUNTERS, *ADDED_COLUMNS, *UPSTREAM_COLUMNS)
# Column lengths: what `record.py` cuts strings to.
LENGTHS = {
    "request_id": 128,
    "status": 16,
    "endpoint": 32,
    "method": 16,
    "key_id": 32,
    "user": 256,
    "model": 256,
    "provider": 100,
    "deployment": 200,
    "served_by": 64,
    "cache": 16,
    "fallback_from": 100,
    "error_code": 100,
    "reason": 100,
}


class TraceRow(Base):
    """One kept trace: what the admin panel searches and shows. Never a secret or a PII value."""

    __tablename__ = "ai_traces"
    __table_args__ = (
        Index("ix_ai_traces_started_id", "started_at", "id"),
        Index("ix_ai_traces_key_started", "key_id", "started_at"),
        Index("ix_ai_traces_user_started", "user", "started_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(LENGTHS["request_id"]), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(LENGTHS["status"]))
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    endpoint: Mapped[str | None] = mapped_column(String(LENGTHS["endpoint"]))
    method: Mapped[str | None] = mapped_column(String(LENGTHS["method"]))
    key_id: Mapped[str | None] = mapped_column(String(LENGTHS["key_id"]))
    user: Mapped[str | None] = mapped_column(String(LENGTHS["user"]))
    model: Mapped[str | None] = mapped_column(String(LENGTHS["model"]))
    provider: Mapped[str | None] = mapped_column(String(LENGTHS["provider"]))
    deployment: Mapped[str | None] = mapped_column(String(LENGTHS["deployment"]))
    served_by: Mapped[str | None] = mapped_column(String(LENGTHS["served_by"]))
    cache: Mapped[str | None] = mapped_column(String(LENGTHS["cache"]))
    fallback_from: Mapped[str | None] = mapped_column(String(LENGTHS["fallback_from"]))
    error_code: Mapped[str | None] = mapped_column(String(LENGTHS["error_code"]))
    duration_ms: Mapped[float] = mapped_column(Float)
    added_latency_ms: Mapped[float] = mapped_column(Float)
    upstream_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    pii: Mapped[dict[str, int] | None] = mapped_column(JSONValue)  # counts per type, never values
    prompt_preview: Mapped[str | None] = mapped_column(Text)  # masked, truncated
    answer_preview: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[str | None] = mapped_column(Text)  # JSON: the trace's other attributes
    spans: Mapped[str | None] = mapped_column(Text)  # JSON list, bounded


def _cell(*extra: Column[Any]) -> list[Column[Any]]:
    return [
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("minute", BigInteger, nullable=False),  # minutes since the epoch, UTC
        Column("provider", String(LENGTHS["provider"]), nullable=False),
        Column("model", String(LENGTHS["model"]), nullable=False),
        *extra,
    ]


# Counts of one minute of one provider and model, every replica's traffic added up.
rollups = Table(
    "ai_trace_rollups",
    Base.metadata,
    *_cell(*(Column(name, Float if name == "cost_usd" else BigInteger, nullable=False) for name in COUNTER_COLUMNS)),
    UniqueConstraint("minute", "provider", "model", name="uq_ai_trace_rollups_cell"),
)
# Refused requests of one minute, provider and model, by reason (the error code).
refusals = Table(
    "ai_trace_refusals",
    Base.metadata,
    *_cell(Column("reason", String(LENGTHS["reason"]), nullable=False), Column("count", BigInteger, nullable=False)),
    UniqueConstraint("minute", "provider", "model", "reason", name="uq_ai_trace_refusals_cell"),
)
traces = cast(Table, TraceRow.__table__)

"""Reading persisted traces: search with keyset paging, and every trace of a request id.

Pages run newest first by (`started_at`, `id`), a total order (ids are unique), and the cursor
is the last row's pair: the next page starts strictly after it, so paging while replicas insert
returns every row that was there exactly once (an offset would skip or repeat rows as new ones
arrive). The index `ix_ai_traces_started_id` serves the order and the time range; the other
filters are checked on the rows the range walks.

Every filter is bounded (`TraceQuery`), a page holds at most `MAX_LIMIT` rows, and a search
without `since` looks back `DEFAULT_LOOKBACK`. The text filter looks in the masked previews with
a case-insensitive LIKE whose wildcards (`%`, `_`, the escape character) are escaped, so a
caller's text is matched literally; it is not indexed, so it only ever scans the time range. On
PostgreSQL each query runs under a `statement_timeout`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, and_, or_, select, text

from aigw.store.audit import record_change
from aigw.store.database import Database
from aigw.store.traces.tables import TraceRow

__all__ = [
    "DEFAULT_LOOKBACK",
    "MAX_LIMIT",
    "InvalidCursor",
    "TracePage",
    "TraceQuery",
    "audit_reveal",
    "get",
    "search",
]

MAX_LIMIT = 200
DEFAULT_LOOKBACK = dt.timedelta(days=1)
MAX_PER_REQUEST_ID = 100
_STATEMENT_TIMEOUT_MS = 5000
_ESCAPE = "\\"
_MAX_CURSOR = 96
_SUMMARY_COLUMNS = [c for c in TraceRow.__table__.columns if c.name not in {"spans", "attributes"}]
_Short = Field(None, min_length=1, max_length=256)


class InvalidCursor(ValueError):
    """The cursor was not made by `search` (answer 400)."""


class TraceQuery(BaseModel):
    """Filters of a trace search; every one optional and bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    key_id: str | None = _Short
    user: str | None = _Short
    model: str | None = _Short
    provider: str | None = _Short
    status: str | None = Field(None, pattern="^(ok|error)$")
    http_status: int | None = Field(None, ge=100, le=599)
    served_by: str | None = _Short
    request_id: str | None = Field(None, min_length=1, max_length=128)
    text: str | None = Field(None, min_length=1, max_length=200)  # in the masked previews
    cursor: str | None = Field(None, min_length=1, max_length=_MAX_CURSOR)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class TracePage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None  # None: no more rows


async def search(database: Database, query: TraceQuery, *, now: dt.datetime | None = None) -> TracePage:
    """One page of traces matching `query`, newest first (summaries: no spans or attributes)."""
    statement = _filtered(select(*_SUMMARY_COLUMNS), query, now or dt.datetime.now(dt.UTC))
    if query.cursor is not None:
        started, row_id = decode_cursor(query.cursor)
        statement = statement.where(
            or_(TraceRow.started_at < started, and_(TraceRow.started_at == started, TraceRow.id < row_id))
        )
    statement = statement.order_by(TraceRow.started_at.desc(), TraceRow.id.desc()).limit(query.limit + 1)
    rows = await _fetch(database, statement)
    items = [_summary(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return TracePage(items=items, next_cursor=encode_cursor(rows[query.limit - 1]) if more else None)


async def get(database: Database, request_id: str) -> list[dict[str, Any]]:
    """Every stored trace with this request id (a caller may reuse one), newest first, whole."""
    if not 0 < len(request_id) <= 128:
        return []
    statement = (
        select(TraceRow)
        .where(TraceRow.request_id == request_id)
        .order_by(TraceRow.started_at.desc(), TraceRow.id.desc())
        .limit(MAX_PER_REQUEST_ID)
    )
    async with database.sessions() as session:
        found = (await session.execute(statement)).scalars().all()
    return [_detail(row) for row in found]


async def audit_reveal(database: Database, actor: str, request_id: str) -> None:
    """Write to the audit log that `actor` was shown the masked previews of `request_id`'s traces
    ("search": of a search page)."""
    async with database.sessions.begin() as session:
        record_change(session, actor, "reveal_trace_previews", f"trace:{request_id[:128]}", None, None)


def encode_cursor(row: Any) -> str:
    started = _utc(row.started_at).isoformat(timespec="microseconds")
    return base64.urlsafe_b64encode(f"{started}|{row.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        started, row_id = raw.split("|")
        return dt.datetime.fromisoformat(started).astimezone(dt.UTC), int(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("invalid cursor") from exc


def _filtered(statement: Select[Any], query: TraceQuery, now: dt.datetime) -> Select[Any]:
    since = _utc(query.since) if query.since else _utc(now) - DEFAULT_LOOKBACK
    conditions: list[ColumnElement[bool]] = [TraceRow.started_at >= since]
    if query.until is not None:
        conditions.append(TraceRow.started_at < _utc(query.until))
    for name in ("key_id", "user", "model", "provider", "status", "http_status", "served_by", "request_id"):
        value = getattr(query, name)
        if value is not None:
            conditions.append(getattr(TraceRow, name) == value)
    if query.text is not None:
        pattern = f"%{escape_like(query.text)}%"
        conditions.append(
            or_(
                TraceRow.prompt_preview.ilike(pattern, escape=_ESCAPE),
                TraceRow.answer_preview.ilike(pattern, escape=_ESCAPE),
            )
        )
    return statement.where(*conditions)


def escape_like(value: str) -> str:
    """`value` matched literally by LIKE ... ESCAPE '\\'."""
    return value.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


async def _fetch(database: Database, statement: Select[Any]) -> list[Any]:
    async with database.sessions() as session:
        if database.dialect == "postgresql":
            await session.execute(text(f"SET LOCAL statement_timeout = {_STATEMENT_TIMEOUT_MS}"))
        return list((await session.execute(statement)).all())


def _summary(row: Any) -> dict[str, Any]:
    item = {column.name: getattr(row, column.name) for column in _SUMMARY_COLUMNS}
    item["started_at"] = _utc(row.started_at).isoformat()
    return item


def _detail(row: TraceRow) -> dict[str, Any]:
    item = _summary(row)
    item["attributes"] = json.loads(row.attributes) if row.attributes else {}
    item["spans"] = json.loads(row.spans) if row.spans else []
    return item


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored in UTC); a caller's naive datetime is UTC too."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

"""Spend and usage export from the spend ledger (`ai_spend`), grouped by key, user, model or day.

The database groups the rows, so an export has one line per group whatever the traffic, and the
lines are streamed from a server-side cursor as they come. A range is at most `MAX_RANGE` long and
an export at most `MAX_ROWS` lines (then a last line says it was cut). Days are UTC days.

CSV injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@` (or a tab or
carriage return) as a formula, and user names and model names come from callers; such a cell gets
a leading `'`, as OWASP recommends, so it is read as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, cast, func, select

from aigw.store.database import Database
from aigw.store.models import SpendRecord

__all__ = ["MAX_RANGE", "MAX_ROWS", "GroupBy", "InvalidRange", "csv_export", "safe_cell", "usage_range"]

GroupBy = Literal["key", "user", "model", "day"]
MAX_RANGE = dt.timedelta(days=366)
DEFAULT_RANGE = dt.timedelta(days=30)
MAX_ROWS = 100_000
HEADER = ("requests", "prompt_tokens", "completion_tokens", "cost_usd", "estimated_requests")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class InvalidRange(ValueError):
    """A range the export refuses (answer 400)."""


def usage_range(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The range to export: by default the last 30 days; at most `MAX_RANGE`; times in UTC."""
    until = _utc(until) if until is not None else now or dt.datetime.now(dt.UTC)
    since = _utc(since) if since is not None else until - DEFAULT_RANGE
    if since >= until:
        raise InvalidRange("since must be before until")
    if until - since > MAX_RANGE:
        raise InvalidRange(f"a range is at most {MAX_RANGE.days} days")
    return since, until


def safe_cell(value: Any) -> str:
    """A cell's text, never read as a formula by a spreadsheet."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


async def csv_export(database: Database, by: GroupBy, since: dt.datetime, until: dt.datetime) -> AsyncIterator[str]:
    """The export as CSV text, a header line then one line per group, biggest cost first (by day: in order)."""
    yield _line((by, *HEADER))
    written = 0
    async for row in _groups(database, by, since, until):
        if written >= MAX_ROWS:
            yield _line((f"(cut at {MAX_ROWS} rows)",))
            return
        group, requests, prompt, completion, cost, estimated = row
        yield _line(
            (
                group,
                int(requests),
                int(prompt or 0),
                int(completion or 0),
                f"{float(cost or 0):.8f}",
                int(estimated or 0),
            )
        )
        written += 1


async def _groups(database: Database, by: GroupBy, since: dt.datetime, until: dt.datetime) -> AsyncIterator[Any]:
    group = _group_column(database.dialect, by).label("group")
    statement = (
        select(
            group,
            func.count(),
            func.sum(SpendRecord.prompt_tokens),
            func.sum(SpendRecord.completion_tokens),
            func.sum(SpendRecord.cost_usd),
            func.sum(cast(SpendRecord.estimated, Integer)),
        )
        .where(SpendRecord.ts >= since, SpendRecord.ts < until)
        .group_by(group)
        .order_by(group if by == "day" else func.sum(SpendRecord.cost_usd).desc())
        .limit(MAX_ROWS + 1)
    )
    async with database.sessions() as session:
        result = await session.stream(statement)
        async for row in result:
            yield row


def _group_column(dialect: str, by: GroupBy) -> ColumnElement[Any]:
    if by == "day":
        if dialect == "postgresql":
            return func.to_char(func.timezone("UTC", SpendRecord.ts), "YYYY-MM-DD")
        return func.date(SpendRecord.ts)  # SQLite: stored as UTC text
    column = {"key": SpendRecord.key_id, "user": SpendRecord.user, "model": SpendRecord.model}[by]
    return func.coalesce(column, "")


def _line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

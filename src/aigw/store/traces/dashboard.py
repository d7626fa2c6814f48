"""The dashboard's time series, from the rollups every replica writes (never one process's memory).

`summary(window, step)` answers one series per provider and model, one point per step that had
traffic (a panel draws the missing steps as zero): requests, errors, refusals by reason,
fallbacks served, cache hits, tokens, cost, and p50/p95 of the latency the gateway added and of
the upstream's, each read from the sum of every replica's histogram buckets (`histogram.py`).

The database does the grouping: `minute` is an integer, so `minute / step` is the step's number
in SQLite and PostgreSQL alike, and the answer has at most points x cells rows whatever the
traffic. Windows and steps come from fixed lists, and a window holds at most `MAX_POINTS` steps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from aigw.store.database import Database
from aigw.store.traces.histogram import percentile, round_ms
from aigw.store.traces.tables import ADDED_COLUMNS, SCALAR_COUNTERS, UPSTREAM_COLUMNS, refusals, rollups

__all__ = ["MAX_POINTS", "STEPS", "WINDOWS", "InvalidWindow", "summary"]

WINDOWS = {"1h": 60, "24h": 1440, "7d": 10_080}  # minutes
STEPS = {"1m": 1, "5m": 5, "1h": 60}
MAX_POINTS = 1440
MAX_SERIES = 100  # the busiest provider x model pairs; the rest are summed under "(other)"
_OTHER = "(other)"


class InvalidWindow(ValueError):
    """A window or step not offered, or too many points (answer 400)."""


async def summary(
    database: Database, window: str = "1h", step: str = "1m", *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Time series per provider and model over the last `window`, one point per `step`."""
    if window not in WINDOWS or step not in STEPS:
        raise InvalidWindow(f"window must be one of {sorted(WINDOWS)} and step one of {sorted(STEPS)}")
    step_minutes = STEPS[step]
    if WINDOWS[window] // step_minutes > MAX_POINTS:
        raise InvalidWindow(f"a {window} window has more than {MAX_POINTS} steps of {step}")
    end_minute = int((now or dt.datetime.now(dt.UTC)).timestamp() // 60)
    first_slot = (end_minute - WINDOWS[window] + 1) // step_minutes
    start_minute = first_slot * step_minutes
    cells = await _cells(database, start_minute, end_minute, step_minutes)
    reasons = await _reasons(database, start_minute, end_minute, step_minutes)
    series = _series(cells, reasons, step_minutes)
    return {
        "window": window,
        "step": step,
        "start": _iso(start_minute),
        "end": _iso(end_minute + 1),
        "series": series,
    }


async def _cells(database: Database, start: int, end: int, step: int) -> list[Any]:
    slot = (rollups.c.minute // step).label("slot")
    columns = [func.sum(rollups.c[name]).label(name) for name in (*SCALAR_COUNTERS, *ADDED_COLUMNS, *UPSTREAM_COLUMNS)]
    statement = (
        select(rollups.c.provider, rollups.c.model, slot, *columns)
        .where(rollups.c.minute >= start, rollups.c.minute <= end)
        .group_by(rollups.c.provider, rollups.c.model, slot)
    )
    async with database.sessions() as session:
        return list((await session.execute(statement)).all())


async def _reasons(database: Database, start: int, end: int, step: int) -> list[Any]:
    slot = (refusals.c.minute // step).label("slot")
    statement = (
        select(refusals.c.provider, refusals.c.model, slot, refusals.c.reason, func.sum(refusals.c.count))
        .where(refusals.c.minute >= start, refusals.c.minute <= end)
        .group_by(refusals.c.provider, refusals.c.model, slot, refusals.c.reason)
    )
    async with database.sessions() as session:
        return list((await session.execute(statement)).all())


def _series(cells: list[Any], reasons: list[Any], step: int) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in cells:
        totals[(row.provider, row.model)] += int(row.requests)
    busiest = {pair for pair, _ in sorted(totals.items(), key=lambda item: -item[1])[:MAX_SERIES]}

    def pair_of(provider: str, model: str) -> tuple[str, str]:
        return (provider, model) if (provider, model) in busiest else (_OTHER, _OTHER)

    points: dict[tuple[str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in cells:
        slots = points[pair_of(row.provider, row.model)]
        point = slots.setdefault(int(row.slot), _empty_point())
        for name in SCALAR_COUNTERS:
            point[name] += row._mapping[name] or 0
        point["_added"] = [a + int(row._mapping[c] or 0) for a, c in zip(point["_added"], ADDED_COLUMNS, strict=True)]
        point["_upstream"] = [
            a + int(row._mapping[c] or 0) for a, c in zip(point["_upstream"], UPSTREAM_COLUMNS, strict=True)
        ]
    for provider, model, slot_number, reason, count in reasons:
        point = points[pair_of(provider, model)].setdefault(int(slot_number), _empty_point())
        point["refusals_by_reason"][reason] = point["refusals_by_reason"].get(reason, 0) + int(count)
    return [
        {
            "provider": provider or None,
            "model": model or None,
            "points": [_finished(slot_number * step, point) for slot_number, point in sorted(slots.items())],
        }
        for (provider, model), slots in sorted(points.items(), key=lambda item: -totals.get(item[0], 0))
    ]


def _empty_point() -> dict[str, Any]:
    point: dict[str, Any] = dict.fromkeys(SCALAR_COUNTERS, 0)
    point["refusals_by_reason"] = {}
    point["_added"] = [0] * len(ADDED_COLUMNS)
    point["_upstream"] = [0] * len(UPSTREAM_COLUMNS)
    return point


def _finished(minute: int, point: dict[str, Any]) -> dict[str, Any]:
    added, upstream = point.pop("_added"), point.pop("_upstream")
    point = {name: int(value) for name, value in point.items() if name in SCALAR_COUNTERS and name != "cost_usd"} | {
        "cost_usd": round(float(point["cost_usd"]), 8),
        "refusals_by_reason": point["refusals_by_reason"],
    }
    point["t"] = _iso(minute)
    point["added_latency_ms"] = {"p50": round_ms(percentile(added, 0.5)), "p95": round_ms(percentile(added, 0.95))}
    point["upstream_ms"] = {"p50": round_ms(percentile(upstream, 0.5)), "p95": round_ms(percentile(upstream, 0.95))}
    return point


def _iso(minute: int) -> str:
    return dt.datetime.fromtimestamp(minute * 60, dt.UTC).isoformat()

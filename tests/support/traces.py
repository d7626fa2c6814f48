"""Reading persisted traces from a gateway process: they reach the database within a flush
interval, so a test asks until they are there (or fails past a bound)."""

from __future__ import annotations

import time
from typing import Any

import httpx

# Every successful call kept, written every 0.1 s: a test finds its trace at once.
TRACE_ENV = {"AI_TRACE_SAMPLE_RATE": "1", "AI_TRACE_FLUSH_INTERVAL": "0.1"}


def stored_traces(
    url: str, request_id: str, headers: dict[str, str], *, count: int = 1, timeout: float = 10.0, **params: Any
) -> list[dict[str, Any]]:
    """Every stored trace of `request_id` (newest first), once at least `count` are there."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{url}/admin/api/traces/{request_id}", headers=headers, params=params)
        if answer.status_code == 200 and len(answer.json()["data"]) >= count:
            return list(answer.json()["data"])
        assert answer.status_code in (200, 404), answer.text
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} trace(s) of {request_id!r} not stored within {timeout}s: {answer.text}")
        time.sleep(0.05)


def listed_traces(
    url: str, headers: dict[str, str], *, count: int, timeout: float = 10.0, **params: Any
) -> list[dict[str, Any]]:
    """The first page of a trace search, once it holds at least `count` traces."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{url}/admin/api/traces", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        data = list(answer.json()["data"])
        if len(data) >= count or time.monotonic() > deadline:
            return data
        time.sleep(0.05)

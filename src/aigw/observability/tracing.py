"""Per-request traces: a span per stage with timings, kept in a bounded in-memory store.

Deliberately tiny: a span is a few slots and two `perf_counter` reads, so tracing every
request costs microseconds (the OpenTelemetry SDK measured ~120 us for five spans here).
Attributes must never carry message content, keys or other secrets: ids, names, numbers only.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from types import TracebackType
from typing import Any


class Span:
    __slots__ = ("_trace", "attrs", "end", "name", "start", "status")

    def __init__(self, trace: Trace, name: str, attrs: dict[str, Any]) -> None:
        self._trace = trace
        self.name = name
        self.attrs = attrs
        self.start = time.perf_counter()
        self.end: float | None = None
        self.status = "ok"

    def set(self, **attrs: Any) -> None:
        self.attrs.update(attrs)

    def fail(self, error: str) -> None:
        self.status = "error"
        self.attrs["error"] = error

    def finish(self) -> None:
        if self.end is None:
            self.end = time.perf_counter()

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and self.status == "ok":
            self.fail(exc_type.__name__)
        self.finish()

    def to_dict(self, origin: float) -> dict[str, Any]:
        end = self.end if self.end is not None else time.perf_counter()
        return {
            "name": self.name,
            "start_ms": round((self.start - origin) * 1000, 3),
            "duration_ms": round((end - self.start) * 1000, 3),
            "status": self.status,
            "attributes": self.attrs,
        }


class Trace:
    """One request's trace. Spans are appended in the order their stages start."""

    __slots__ = ("_origin", "attrs", "request_id", "spans", "started_at", "status")

    def __init__(self, request_id: str, **attrs: Any) -> None:
        self.request_id = request_id
        self.started_at = time.time()
        self._origin = time.perf_counter()
        self.spans: list[Span] = []
        self.attrs = attrs
        self.status = "ok"

    def span(self, name: str, **attrs: Any) -> Span:
        span = Span(self, name, attrs)
        self.spans.append(span)
        return span

    @property
    def duration_ms(self) -> float:
        last = max((s.end or s.start for s in self.spans), default=self._origin)
        return round((last - self._origin) * 1000, 3)

    def summary(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "started_at": self.started_at,
            "status": self.status,
            "duration_ms": self.duration_ms,
            **self.attrs,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "spans": [s.to_dict(self._origin) for s in self.spans]}


class TraceStore:
    """The last `capacity` finished traces, by request id; the oldest are dropped first."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._traces: OrderedDict[str, Trace] = OrderedDict()

    def add(self, trace: Trace) -> None:
        self._traces[trace.request_id] = trace
        self._traces.move_to_end(trace.request_id)
        if len(self._traces) > self.capacity:
            self._traces.popitem(last=False)

    def get(self, request_id: str) -> Trace | None:
        return self._traces.get(request_id)

    def recent(self, limit: int = 50, status: str | None = None) -> list[Trace]:
        found: list[Trace] = []
        for trace in reversed(self._traces.values()):
            if status is None or trace.status == status:
                found.append(trace)
                if len(found) >= limit:
                    break
        return found

    def __len__(self) -> int:
        return len(self._traces)

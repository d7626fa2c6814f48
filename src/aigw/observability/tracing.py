"""Per-request traces: a span per stage with timings, kept in a bounded in-memory store.

Deliberately tiny: a span is a few slots and two `perf_counter` reads, so tracing every
request costs microseconds (the OpenTelemetry SDK measured ~120 us for five spans here).
Attributes must never carry message content, keys or other secrets: ids, names, numbers only.

Some attributes still come from callers (the model asked for, a template name), and the store
keeps thousands of traces: a trace is bounded when the store takes it (strings cut to
`MAX_ATTRIBUTE_LENGTH`, at most `MAX_ATTRIBUTES` per trace, span or nested value, at most
`MAX_SPANS` spans), so a megabyte model name costs the store 256 characters, not a megabyte per
copy. Bounding once at the store, not at every `set`, keeps the per-span cost at two clock reads.

Request ids are chosen by callers too (`X-Request-ID`): two requests may share one, so the store
keeps every trace and looks them up by id through an index; `get` answers the latest.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from itertools import islice
from types import TracebackType
from typing import Any

MAX_ATTRIBUTE_LENGTH = 256
MAX_ATTRIBUTES = 32
MAX_SPANS = 128
_MAX_DEPTH = 3  # nested attribute values (lists of routes, counts by type) are shallow
_SCALARS = (bool, int, float, type(None))


def bounded(value: Any, depth: int = 0) -> Any:
    """`value` as a stored trace keeps it: strings cut, containers shortened, anything else as text."""
    if isinstance(value, str):
        return value if len(value) <= MAX_ATTRIBUTE_LENGTH else value[:MAX_ATTRIBUTE_LENGTH] + "…"
    if isinstance(value, _SCALARS):
        return value
    if depth >= _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {bounded(str(k)): bounded(v, depth + 1) for k, v in islice(value.items(), MAX_ATTRIBUTES)}
    if isinstance(value, list | tuple | set | frozenset):
        return [bounded(v, depth + 1) for v in islice(value, MAX_ATTRIBUTES)]
    return bounded(str(value))


def bounded_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """`attrs` itself when every value is a short string or a number (nearly always), else bounded."""
    if len(attrs) <= MAX_ATTRIBUTES:
        for value in attrs.values():
            if not (isinstance(value, _SCALARS) or (isinstance(value, str) and len(value) <= MAX_ATTRIBUTE_LENGTH)):
                break
        else:
            return attrs
    cut: dict[str, Any] = bounded(attrs)
    return cut


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
    """One request's trace. Spans are appended in the order their stages start (the first
    `MAX_SPANS` of them; later ones are timed but only counted)."""

    __slots__ = ("_origin", "attrs", "dropped_spans", "request_id", "spans", "started_at", "status")

    def __init__(self, request_id: str, **attrs: Any) -> None:
        self.request_id = request_id
        self.started_at = time.time()
        self._origin = time.perf_counter()
        self.spans: list[Span] = []
        self.attrs = attrs
        self.status = "ok"
        self.dropped_spans = 0

    def span(self, name: str, **attrs: Any) -> Span:
        span = Span(self, name, attrs)
        if len(self.spans) < MAX_SPANS:
            self.spans.append(span)
        else:
            self.dropped_spans += 1
        return span

    def bound(self) -> None:
        """Cut what callers may have made large (see the module docstring); cheap when nothing is."""
        self.request_id = bounded(self.request_id)
        self.attrs = bounded_attributes(self.attrs)
        for span in self.spans:
            span.name = bounded(span.name)
            span.attrs = bounded_attributes(span.attrs)

    @property
    def duration_ms(self) -> float:
        last = max((s.end or s.start for s in self.spans), default=self._origin)
        return round((last - self._origin) * 1000, 3)

    def summary(self) -> dict[str, Any]:
        summary = {
            "request_id": self.request_id,
            "started_at": self.started_at,
            "status": self.status,
            "duration_ms": self.duration_ms,
            **self.attrs,
        }
        if self.dropped_spans:
            summary["dropped_spans"] = self.dropped_spans
        return summary

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "spans": [s.to_dict(self._origin) for s in self.spans]}


class TraceStore:
    """The last `capacity` finished traces, oldest dropped first, found by request id. Traces
    sharing a request id are all kept (the id comes from the caller's `X-Request-ID`)."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._traces: OrderedDict[Trace, None] = OrderedDict()  # by identity, oldest first
        self._by_id: dict[str, deque[Trace]] = {}  # each id's traces, oldest first

    def add(self, trace: Trace) -> None:
        trace.bound()
        if trace in self._traces:  # added again: now the newest
            self._traces.move_to_end(trace)
            self._unindex(trace)
        else:
            self._traces[trace] = None
        self._by_id.setdefault(trace.request_id, deque()).append(trace)
        if len(self._traces) > self.capacity:
            oldest, _ = self._traces.popitem(last=False)
            self._unindex(oldest)

    def get(self, request_id: str) -> Trace | None:
        """The latest trace with this request id."""
        found = self._by_id.get(request_id)
        return found[-1] if found else None

    def find_all(self, request_id: str) -> list[Trace]:
        """Every stored trace with this request id, newest first."""
        return list(reversed(self._by_id.get(request_id, ())))

    def recent(self, limit: int = 50, status: str | None = None) -> list[Trace]:
        found: list[Trace] = []
        for trace in reversed(self._traces):
            if status is None or trace.status == status:
                found.append(trace)
                if len(found) >= limit:
                    break
        return found

    def _unindex(self, trace: Trace) -> None:
        same_id = self._by_id[trace.request_id]
        if same_id[0] is trace:
            same_id.popleft()  # the usual case: the oldest trace of its id
        else:
            same_id.remove(trace)
        if not same_id:
            del self._by_id[trace.request_id]

    def __len__(self) -> int:
        return len(self._traces)

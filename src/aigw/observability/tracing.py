"""Per-request traces: a span per stage with timings, handed when finished to the trace writer
(`aigw.store.traces`: persisted, every worker and replica finds them) and, when enabled, to the
OpenTelemetry export (`observability.otel`). There is no in-process store: the database is the
one place a trace is read from.

Deliberately tiny: a span is a few slots and two `perf_counter` reads, so tracing every
request costs microseconds (the OpenTelemetry SDK measured ~120 us for five spans here; its spans
are made later, off the request path, from the finished trace). Attributes must never carry
message content, keys or other secrets: ids, names, numbers only.

Some attributes still come from callers (the model asked for, a template name): a trace is bounded
once, when it is stored (`bound`: strings cut to `MAX_ATTRIBUTE_LENGTH`, at most `MAX_ATTRIBUTES`
per trace, span or nested value, at most `MAX_SPANS` spans), so a megabyte model name costs
256 characters, not a megabyte. Bounding once, not at every `set`, keeps the per-span cost at two
clock reads.

`context` is the trace's place in a distributed trace (W3C Trace Context, `propagation`); it is
None unless spans are exported.
"""

from __future__ import annotations

import time
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aigw.observability.propagation import TraceContext

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

    __slots__ = ("_origin", "attrs", "context", "dropped_spans", "request_id", "spans", "started_at", "status")

    def __init__(self, request_id: str, **attrs: Any) -> None:
        self.request_id = request_id
        self.started_at = time.time()
        self._origin = time.perf_counter()
        self.spans: list[Span] = []
        self.attrs = attrs
        self.status = "ok"
        self.dropped_spans = 0
        self.context: TraceContext | None = None

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

    def epoch_ns(self, instant: float) -> int:
        """A `perf_counter` reading of this trace (a span's start or end) as Unix time in nanoseconds."""
        return int((self.started_at + instant - self._origin) * 1e9)

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

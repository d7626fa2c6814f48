"""W3C Trace Context: an incoming `traceparent` (and `tracestate`) continued, and one passed upstream.

Only used when spans are exported (`observability.otel`); otherwise no header is read or sent.

Parsing is strict and bounded, as for any request data: a `traceparent` is version, trace id,
parent id and flags in lowercase hex (`00-<32>-<16>-<2>`; a later version is read by its first 55
characters, as the recommendation says), ids not all zero, version not `ff`; anything else is
ignored and a new trace starts. A `tracestate` is kept only next to a valid `traceparent`, when it
is at most 512 printable ASCII characters in at most 32 members; else it is dropped (the spec
allows it). Both checks are a length test and a character scan: linear, nothing to backtrack.

Span ids are not drawn per span (a draw and a slot per span for every request): a trace draws one
64-bit number, and its span at index i has that number plus i + 1 (`TraceContext.span_id`), so
the exporter, run later, and the upstream header, sent now, name the same span.

The upstream call's parent is the `provider_attempt` span in flight. The provider finds it from
the trace of the request it serves (`current_trace`, a context variable the middleware sets), so
the provider interface does not change: `upstream_traceparent()` costs one context-variable read
when nothing is exported.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aigw.observability.tracing import Trace

__all__ = ["TraceContext", "current_trace", "parse_traceparent", "trace_headers", "upstream_traceparent"]

_HEX = frozenset("0123456789abcdef")
_TRACEPARENT_LENGTH = 55
MAX_TRACESTATE = 512
MAX_TRACESTATE_MEMBERS = 32
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_MASK64 = (1 << 64) - 1
UPSTREAM_SPAN = "provider_attempt"

current_trace: ContextVar[Trace | None] = ContextVar("aigw_current_trace", default=None)


class TraceContext:
    """Where a request's spans sit in a distributed trace: its trace id, the caller's span (if one
    came in) and the id base of its own spans (span 0 of the export is the request itself)."""

    __slots__ = ("_base", "parent_span_id", "sampled", "trace_id", "tracestate")

    def __init__(
        self,
        trace_id: str | None = None,
        parent_span_id: str | None = None,
        sampled: bool = True,
        tracestate: str | None = None,
    ) -> None:
        self.trace_id = trace_id or os.urandom(16).hex()
        self.parent_span_id = parent_span_id
        self.sampled = sampled
        self.tracestate = tracestate
        self._base = int.from_bytes(os.urandom(8), "big")

    def span_id(self, index: int) -> str:
        """The id of span `index` (-1: the request's own span); never all zeros."""
        value = (self._base + index + 1) & _MASK64
        return f"{value or 1:016x}"

    @property
    def flags(self) -> str:
        return "01" if self.sampled else "00"

    def traceparent(self, index: int) -> str:
        return f"00-{self.trace_id}-{self.span_id(index)}-{self.flags}"


def parse_traceparent(value: str | None, tracestate: str | None = None) -> TraceContext:
    """The context to continue from an incoming header, or a new one when it is absent or invalid."""
    if value is None or len(value) < _TRACEPARENT_LENGTH or len(value) > 512:
        return TraceContext()
    version, trace_id, parent_id, flags = value[:2], value[3:35], value[36:52], value[53:55]
    well_formed = (
        value[2] == value[35] == value[52] == "-"
        and (len(value) == _TRACEPARENT_LENGTH or (version != "00" and value[55] == "-"))
        and _is_hex(version + trace_id + parent_id + flags)
        and version != "ff"
        and trace_id != _ZERO_TRACE
        and parent_id != _ZERO_SPAN
    )
    if not well_formed:
        return TraceContext()
    sampled = bool(int(flags, 16) & 1)
    return TraceContext(trace_id, parent_id, sampled, _valid_tracestate(tracestate))


def upstream_traceparent() -> str | None:
    """The `traceparent` for the provider call being made now, or None when spans are not exported."""
    trace = current_trace.get()
    if trace is None or trace.context is None:
        return None
    spans = trace.spans
    for index in range(len(spans) - 1, -1, -1):
        span = spans[index]
        if span.name == UPSTREAM_SPAN and span.end is None:
            return trace.context.traceparent(index)
    return trace.context.traceparent(-1)


def trace_headers() -> dict[str, str] | None:
    """The W3C headers for the provider call being made now (None when spans are not exported)."""
    parent = upstream_traceparent()
    if parent is None:
        return None
    headers = {"traceparent": parent}
    state = current_trace.get()
    if state is not None and state.context is not None and state.context.tracestate:
        headers["tracestate"] = state.context.tracestate
    return headers


def _is_hex(text: str) -> bool:
    return all(char in _HEX for char in text)


def _valid_tracestate(value: str | None) -> str | None:
    if not value or len(value) > MAX_TRACESTATE or value.count(",") >= MAX_TRACESTATE_MEMBERS:
        return None
    if not (value.isascii() and value.isprintable()):
        return None
    return value

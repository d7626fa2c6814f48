"""OpenTelemetry export: each finished trace as spans over OTLP/HTTP, named and attributed by the
GenAI semantic conventions. Optional (the `otel` extra), and on only when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: otherwise this
module's SDK imports never run and a request pays one `is None` test.

Why from the finished trace, not with the SDK's tracer during the request: the SDK costs ~120 us
for five spans (measured; `tracing` explains the in-house spans, two clock reads each). The request
path only appends the trace to a bounded queue (`submit`, dropped and counted when full); a
background task turns queued traces into `ReadableSpan`s, in slices that yield to the event loop,
and hands them to the SDK's `BatchSpanProcessor`, whose thread encodes and sends them. The OTLP
exporter reads the standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`,
`..._COMPRESSION`), and the resource `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` ("aigw"
unless named).

The shape of an exported request:
- the request itself, a SERVER span named `{gen_ai.operation.name} {gen_ai.request.model}`
  (`chat gpt-4o-mini`), else `{METHOD} {endpoint}`, child of the caller's span when a valid
  `traceparent` came in (`propagation`); it carries the request's GenAI attributes:
  `gen_ai.operation.name`, `gen_ai.provider.name` (and the older `gen_ai.system`, which many
  backends still read), `gen_ai.request.model`, `gen_ai.response.model`,
  `gen_ai.request.max_tokens`, `gen_ai.request.temperature`, `gen_ai.usage.input_tokens`,
  `gen_ai.usage.output_tokens`, `http.request.method`, `http.response.status_code`, `error.type`;
  the gateway's own facts are `aigw.*` (request id, key id, cache, served_by, fallback_from, cost,
  PII counts by type). It is an error when the answer is a 5xx (a 4xx is the caller's, as the HTTP
  conventions say for servers).
- each stage as an INTERNAL child span (`auth`, `route`, `admission` ...), its attributes as
  `aigw.*`;
- each provider attempt as a CLIENT span, named like the request, with `gen_ai.provider.name`,
  `server.address`/`server.port` of the provider and `error.type` when it failed: this is the
  span the upstream's `traceparent` names as parent.
Never a prompt, an answer, a user or a secret: the attributes are the trace's (ids, names,
numbers), and the user is left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw import __version__
from aigw.observability.propagation import UPSTREAM_SPAN, TraceContext
from aigw.observability.tracing import Span, Trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["ENDPOINT_VARIABLES", "OtelExport", "ProviderEndpoint", "otel_endpoint"]

log = logging.getLogger("aigw.otel")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_OPERATIONS = {"chat": "chat", "embeddings": "embeddings"}
_SLICE = 64  # traces converted between two yields to the event loop
_INTERVAL = 0.5  # seconds between conversions
_GATEWAY_ATTRIBUTES = ("key_id", "cache", "served_by", "fallback_from", "deployment", "endpoint", "cost_usd", "stream")


@dataclass(frozen=True, slots=True)
class ProviderEndpoint:
    """What the conventions want to know of a provider: its kind and where it is served."""

    system: str  # `gen_ai.provider.name`: "openai" ...
    address: str | None = None
    port: int | None = None


def otel_endpoint(environ: Mapping[str, str]) -> str | None:
    """The OTLP endpoint the environment names, if any: export is on exactly when it does."""
    for name in ENDPOINT_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


class OtelExport:
    """Queues finished traces and exports them as spans (see the module docstring)."""

    def __init__(
        self,
        providers: Callable[[str], ProviderEndpoint | None],
        *,
        exporter: SpanExporter | None = None,
        queue_size: int = 10_000,
        schedule_delay_ms: float | None = None,  # None: OTEL_BSP_SCHEDULE_DELAY, else 5 s
    ) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        resource = Resource.create()
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: "aigw"}))
        self._resource = resource
        self._scope = InstrumentationScope("aigw", __version__)
        self._processor = BatchSpanProcessor(exporter or OTLPSpanExporter(), schedule_delay_millis=schedule_delay_ms)
        self._providers = providers
        self._queue: deque[Trace] = deque()
        self._capacity = queue_size
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.exported = 0  # traces handed to the SDK
        self.dropped = 0  # traces dropped: the queue was full

    def submit(self, trace: Trace) -> None:
        """Queue a finished trace (no I/O, never waits); dropped and counted past the queue's size."""
        if len(self._queue) >= self._capacity:
            self.dropped += 1
            return
        self._queue.append(trace)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Convert what waits, then flush the SDK's queue and stop its thread (off the event loop)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.convert()
        await asyncio.to_thread(self._processor.shutdown)

    async def convert(self) -> None:
        """Hand every queued trace's spans to the SDK's batch processor."""
        queue = self._queue
        done = 0
        while queue:
            trace = queue.popleft()
            try:
                for span in self.spans_of(trace):
                    self._processor.on_end(span)
            except Exception:  # one odd trace must not stop the export of every later one
                log.exception("otel: a trace could not be converted")
            self.exported += 1
            done += 1
            if not done % _SLICE:
                await asyncio.sleep(0)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(_INTERVAL)
            await self.convert()

    def spans_of(self, trace: Trace) -> list[ReadableSpan]:
        """The finished trace as OTel spans: the request, then one per stage (the parent's first)."""
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        context = trace.context or TraceContext()
        if not context.sampled:  # the caller decided this trace is not recorded
            return []
        trace.bound()
        trace_id = int(context.trace_id, 16)
        flags = TraceFlags(TraceFlags.SAMPLED)
        root = SpanContext(trace_id, int(context.span_id(-1), 16), False, flags)
        remote = SpanContext(trace_id, int(context.parent_span_id, 16), True, flags) if context.parent_span_id else None
        attrs = trace.attrs
        operation = _OPERATIONS.get(str(attrs.get("endpoint")))
        model = attrs.get("request_model") or attrs.get("model")
        genai = _genai_attributes(attrs, operation, model, self._provider(attrs.get("provider")))
        status = _int(attrs.get("http_status")) or 0
        start = int(trace.started_at * 1e9)
        latency = attrs.get("latency_ms")
        end = start + int(latency * 1e6) if isinstance(latency, int | float) else start + int(trace.duration_ms * 1e6)
        name = (
            f"{operation} {model}" if operation and model else f"{attrs.get('method', 'HTTP')} {attrs.get('endpoint')}"
        )
        spans = [
            ReadableSpan(
                name,
                root,
                remote,
                self._resource,
                genai | _root_attributes(trace, status),
                kind=SpanKind.SERVER,
                status=Status(StatusCode.ERROR) if status >= 500 else Status(StatusCode.UNSET),
                start_time=start,
                end_time=max(end, start),
                instrumentation_scope=self._scope,
            )
        ]
        for index, span in enumerate(trace.spans):
            upstream = span.name == UPSTREAM_SPAN
            provider = self._provider(span.attrs.get("provider")) if upstream else None
            span_attrs = _stage_attributes(span, operation, model, provider) if upstream else _prefixed(span.attrs)
            failed = span.status != "ok"
            if failed:
                span_attrs["error.type"] = str(span.attrs.get("error") or "error")
            spans.append(
                ReadableSpan(
                    f"{operation} {model}" if upstream and operation and model else span.name,
                    SpanContext(trace_id, int(context.span_id(index), 16), False, flags),
                    root,
                    self._resource,
                    span_attrs,
                    kind=SpanKind.CLIENT if upstream else SpanKind.INTERNAL,
                    status=Status(StatusCode.ERROR) if failed else Status(StatusCode.UNSET),
                    start_time=trace.epoch_ns(span.start),
                    end_time=trace.epoch_ns(span.end if span.end is not None else span.start),
                    instrumentation_scope=self._scope,
                )
            )
        return spans

    def _provider(self, name: Any) -> ProviderEndpoint | None:
        return self._providers(name) if isinstance(name, str) and name else None


def _genai_attributes(
    attrs: dict[str, Any], operation: str | None, model: Any, provider: ProviderEndpoint | None
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if operation is None:
        return found
    found["gen_ai.operation.name"] = operation
    if provider is not None:
        found["gen_ai.provider.name"] = found["gen_ai.system"] = provider.system
    if isinstance(model, str):
        found["gen_ai.request.model"] = model
    for key, name in (
        ("response_model", "gen_ai.response.model"),
        ("max_tokens", "gen_ai.request.max_tokens"),
        ("temperature", "gen_ai.request.temperature"),
        ("prompt_tokens", "gen_ai.usage.input_tokens"),
        ("completion_tokens", "gen_ai.usage.output_tokens"),
    ):
        value = attrs.get(key)
        if value is not None and _attribute_value(value) is not None:
            found[name] = _attribute_value(value)
    if "gen_ai.response.model" not in found and isinstance(attrs.get("model"), str) and attrs.get("provider"):
        found["gen_ai.response.model"] = attrs["model"]
    return found


def _root_attributes(trace: Trace, status: int) -> dict[str, Any]:
    attrs = trace.attrs
    found: dict[str, Any] = {"aigw.request_id": trace.request_id}
    if isinstance(attrs.get("method"), str):
        found["http.request.method"] = attrs["method"]
    if status:
        found["http.response.status_code"] = status
    if status >= 400:
        found["error.type"] = str(attrs.get("error_code") or status)
    for key in _GATEWAY_ATTRIBUTES:
        value = _attribute_value(attrs.get(key))
        if value is not None:
            found["aigw." + key] = value
    pii = attrs.get("pii")
    if isinstance(pii, dict):
        for kind, count in pii.items():
            if isinstance(count, int):
                found[f"aigw.pii.{kind}"] = count
    return found


def _stage_attributes(
    span: Span, operation: str | None, model: Any, provider: ProviderEndpoint | None
) -> dict[str, Any]:
    found = _prefixed(span.attrs)
    if operation is not None:
        found["gen_ai.operation.name"] = operation
    if isinstance(model, str):
        found["gen_ai.request.model"] = model
    if provider is not None:
        found["gen_ai.provider.name"] = found["gen_ai.system"] = provider.system
        if provider.address:
            found["server.address"] = provider.address
        if provider.port:
            found["server.port"] = provider.port
    return found


def _prefixed(attrs: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for key, value in attrs.items():
        converted = _attribute_value(value)
        if converted is not None:
            found["aigw." + key] = converted
    return found


def _attribute_value(value: Any) -> Any:
    """An OTel attribute value: a scalar, or a tuple of strings; anything else as text."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

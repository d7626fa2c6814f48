"""Pure ASGI middleware around every HTTP request: request id, trace, metrics, access log.

A finished trace of the traced endpoints (chat, embeddings, models, tasks) is handed to the trace
writer (`aigw.store.traces`: one append, written to the database in the background) with what the
call learnt (latency, provider time, tokens, cost, fallback, user) and, with
`AI_TRACE_PAYLOADS=masked`, the masked previews the orchestrator gathered (`CallInfo`); and, when
OpenTelemetry export is on, to the exporter, after continuing the caller's `traceparent`. With
`AI_TRACING_ENABLED=false` neither is done.

A client that goes away before it has sent its whole body (starlette's `ClientDisconnect`, from
any route) is a client event, not a server error: no traceback, and it is counted and logged as
499, nginx's "client closed request", never as a 500.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.observability.logging import AccessLog
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.otel import OtelExport
from aigw.observability.propagation import TraceContext, current_trace, parse_traceparent
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.store.traces import TraceWriter
from aigw.types import CallInfo

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ENDPOINTS = {
    "/v1/chat/completions": "chat",
    "/chat/completions": "chat",
    "/v1/embeddings": "embeddings",
    "/embeddings": "embeddings",
    "/v1/models": "models",
    "/models": "models",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
}
CLIENT_CLOSED_REQUEST = 499
_MODEL_PATHS = ("/v1/models/", "/models/")
_TASK_PATHS = ("/v1/tasks/", "/tasks/")
_TRACED = frozenset({"chat", "embeddings", "models", "tasks"})
_UNLOGGED = frozenset({"healthz", "readyz", "metrics"})


@dataclass(slots=True)
class RequestState:
    """What handlers learn about a request that the access log and trace must report."""

    request_id: str
    trace: Trace
    info: CallInfo = field(default_factory=CallInfo)
    error_code: str | None = None
    stream: bool = False
    extra_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    caller: Caller | None = None  # once authenticated


def request_state(scope: Scope) -> RequestState:
    state = scope["aigw"]
    assert isinstance(state, RequestState)
    return state


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        metrics: GatewayMetrics,
        access_log: AccessLog,
        traces: TraceWriter | None = None,
        otel: OtelExport | None = None,
    ) -> None:
        """`traces` None: nothing is persisted (`AI_TRACING_ENABLED=false`); `otel` None: no export."""
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self.traces = traces
        self.otel = otel
        self.preview_chars = traces.settings.preview_chars if traces is not None and traces.settings.previews else 0
        self.worker = f"{socket.gethostname()}:{os.getpid()}"  # which replica and process served a trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        endpoint = ENDPOINTS.get(path) or _endpoint_of(path)
        request_id = _request_id(scope)
        state = RequestState(request_id, Trace(request_id, method=scope["method"], endpoint=endpoint))
        scope["aigw"] = state
        if self.preview_chars:
            state.info.preview_chars = self.preview_chars
        if self.otel is not None and endpoint in _TRACED:
            state.trace.context = _trace_context(scope)
            current_trace.set(state.trace)
        status = 500
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header, *state.extra_headers]
            await send(message)

        if self.metrics.enabled:
            self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST  # nobody is left to answer
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics.enabled:
                self.metrics.in_flight.dec()
            self.metrics.observe_request(endpoint, status, elapsed)
            if endpoint in _TRACED:
                self._keep_trace(state, status, elapsed)
            if endpoint not in _UNLOGGED and self.access_log.enabled:
                self.access_log.write(_log_fields(state, scope, status, elapsed))

    def _keep_trace(self, state: RequestState, status: int, elapsed: float) -> None:
        trace = state.trace
        info = state.info
        trace.status = "ok" if status < 400 else "error"
        attrs = trace.attrs
        attrs.update(
            http_status=status,
            provider=info.provider,
            deployment=info.deployment,
            model=info.model,
            attempts=info.attempts,
            stream=state.stream,
            latency_ms=round(elapsed * 1000, 3),
            worker=self.worker,
        )
        if info.latency_ms is not None:
            attrs["upstream_ms"] = round(info.latency_ms, 3)
        if info.usage is not None:
            attrs["prompt_tokens"] = info.usage.prompt_tokens
            attrs["completion_tokens"] = info.usage.completion_tokens
        if info.cost_usd is not None:
            attrs["cost_usd"] = float(info.cost_usd)
        if info.fallback_from:
            attrs["fallback_from"] = info.fallback_from
        if state.caller is not None and state.caller.user:
            attrs["user"] = state.caller.user
        if state.error_code:
            attrs["error_code"] = state.error_code
        if self.traces is not None:
            self.traces.submit(trace, info.prompt_preview, info.answer_preview)
        if self.otel is not None:
            self.otel.submit(trace)


def _log_fields(state: RequestState, scope: Scope, status: int, elapsed: float) -> dict[str, Any]:
    info = state.info
    fields: dict[str, Any] = {
        "request_id": state.request_id,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "latency_ms": round(elapsed * 1000, 3),
        "provider": info.provider,
        "deployment": info.deployment,
        "model": info.model,
        "stream": state.stream,
        "attempts": info.attempts,
    }
    if info.usage is not None:
        fields.update(
            prompt_tokens=info.usage.prompt_tokens,
            completion_tokens=info.usage.completion_tokens,
            total_tokens=info.usage.total_tokens,
        )
    if info.fallback_from:
        fields["fallback_from"] = info.fallback_from
    if state.error_code:
        fields["error_code"] = state.error_code
    return fields


def _endpoint_of(path: str) -> str:
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith(_TASK_PATHS):
        return "tasks"
    return "models" if path.startswith(_MODEL_PATHS) else "other"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return os.urandom(16).hex()


def _trace_context(scope: Scope) -> TraceContext:
    """The caller's W3C trace context, continued; a new one when it sent none or an invalid one."""
    parent = state = None
    for name, value in scope["headers"]:
        if name == b"traceparent":
            parent = value.decode("latin-1")
        elif name == b"tracestate":
            state = value.decode("latin-1")
    return parse_traceparent(parent, state)

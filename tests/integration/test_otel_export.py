"""OpenTelemetry export through a real gateway process to a real OTLP/HTTP receiver: the test runs
a small aiohttp server that decodes `ExportTraceServiceRequest` (opentelemetry-proto) and checks
the GenAI attribute names, the caller's trace continued, and the traceparent sent upstream."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import MockUpstream, free_port

trace_service_pb2 = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SERVER, CLIENT = 2, 3  # Span.SpanKind in the protocol


class Receiver:
    """An OTLP/HTTP trace receiver on a free port, in a thread with its own event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.spans: list[Any] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = trace_service_pb2.ExportTraceServiceRequest()
        export.ParseFromString(body)
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type="application/x-protobuf")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/traces", self._receive)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()  # its self-pipe sockets otherwise leak into a later test's ResourceWarning

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def wait_for(self, trace_id: str, count: int, timeout: float = 15) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in list(self.spans) if s.trace_id.hex() == trace_id]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} spans of {trace_id} exported: {len(self.spans)} spans in all")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def attributes(span: Any) -> dict[str, Any]:
    found = {}
    for item in span.attributes:
        value = item.value
        found[item.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return found


def test_spans_carry_genai_attributes_and_continue_the_callers_trace(
    upstream: MockUpstream, receiver: Receiver, gateway_factory: GatewayFactory
) -> None:
    env = openai_env(upstream, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100")
    gateway = gateway_factory(env)
    before = len(upstream.recorded())
    answer = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 50,
            "temperature": 0.5,
        },
        headers={**AUTH, "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "vendor=abc"},
    )
    assert answer.status_code == 200
    spans = receiver.wait_for(TRACE_ID, 5)
    (root,) = [s for s in spans if s.kind == SERVER]
    assert root.parent_span_id.hex() == PARENT_ID and root.name == "chat gpt-4o-mini"
    usage = answer.json()["usage"]
    assert (
        attributes(root).items()
        >= {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": answer.json()["model"],
            "gen_ai.request.max_tokens": 50,
            "gen_ai.request.temperature": 0.5,
            "gen_ai.usage.input_tokens": usage["prompt_tokens"],
            "gen_ai.usage.output_tokens": usage["completion_tokens"],
            "http.request.method": "POST",
            "http.response.status_code": 200,
        }.items()
    )
    (client,) = [s for s in spans if s.kind == CLIENT]
    assert client.parent_span_id == root.span_id and client.name == "chat gpt-4o-mini"
    assert (
        attributes(client).items()
        >= {
            "gen_ai.provider.name": "openai",
            "server.address": "127.0.0.1",
            "server.port": upstream.port,
        }.items()
    )
    assert {s.name for s in spans} >= {"auth", "parse", "route", "response"}
    assert all(s.parent_span_id == root.span_id for s in spans if s is not root)
    assert all(s.start_time_unix_nano <= s.end_time_unix_nano for s in spans)

    (sent,) = upstream.recorded()[before:]
    assert sent["headers"]["traceparent"] == f"00-{TRACE_ID}-{client.span_id.hex()}-01"
    assert sent["headers"]["tracestate"] == "vendor=abc"


def test_an_invalid_traceparent_starts_a_new_trace_and_errors_are_marked(
    upstream: MockUpstream, receiver: Receiver, gateway_factory: GatewayFactory
) -> None:
    env = openai_env(upstream, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100")
    gateway = gateway_factory(env)
    upstream.configure(error_rate=1.0, error_status=500)
    before = len(upstream.recorded())
    bad = f"00-{TRACE_ID.upper()}-{PARENT_ID}-01"  # upper-case hex is not valid
    answer = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={**AUTH, "traceparent": bad, "x-request-id": "otel-failed"},
    )
    assert answer.status_code == 502
    sent = upstream.recorded()[before:][0]["headers"]["traceparent"]
    new_trace = sent.split("-")[1]
    assert new_trace != TRACE_ID.lower() and len(new_trace) == 32
    spans = receiver.wait_for(new_trace, 3)
    (root,) = [s for s in spans if s.kind == SERVER]
    assert root.parent_span_id == b""  # a root: the invalid header was ignored
    assert root.status.code == 2  # STATUS_CODE_ERROR: a 5xx
    root_attributes = attributes(root)
    assert root_attributes["error.type"] and root_attributes["aigw.request_id"] == "otel-failed"
    (client,) = [s for s in spans if s.kind == CLIENT]
    assert client.status.code == 2 and attributes(client)["error.type"] == "http_500"


def test_without_an_endpoint_the_exporter_is_never_imported() -> None:
    """(redis-py imports the OpenTelemetry API when it is installed; the SDK's tracing and the OTLP
    exporter are ours to load.)"""
    program = (
        "import sys, tempfile;"
        "from aigw.settings import Settings; from aigw.configfile import load_config;"
        "from aigw.gateway import Gateway; from aigw.api.app import create_app;"
        "s = Settings(state_dir=tempfile.mkdtemp());"
        "create_app(Gateway(s, load_config(s)));"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.exporter', 'opentelemetry.sdk.trace'))))"
    )
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

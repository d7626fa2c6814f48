"""Hostile request data against a real gateway: a 100 KiB path, a model name with a line break or
outside Latin-1, two requests sharing an X-Request-ID. Each gets a quick, well-formed answer, and
the access log, traces and headers stay bounded."""

from __future__ import annotations

import http.client
import json
import time

import httpx
import pytest

from tests.conftest import GatewayFactory, openai_env
from tests.support.processes import GatewayProcess, MockUpstream
from tests.support.traces import TRACE_ENV, stored_traces

pytestmark = pytest.mark.integration
MASTER_KEY = "sk-observability-bounds-" + "4f1c9a" * 7
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(openai_env(upstream, AI_MASTER_KEY=MASTER_KEY, **TRACE_ENV))


def _get(gateway: GatewayProcess, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)  # httpx caps URLs at 64 KiB
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize("kib", [60, 100])
def test_a_long_path_is_answered_quickly_and_logged_cut(gateway: GatewayProcess, kib: int) -> None:
    """The access log's e-mail pattern spent 15 s on a 100 KiB path, on the event loop, before auth.
    (Past 64 KiB the HTTP parser refuses the request line itself, before the gateway sees it.)"""
    path = "/v1/" + "a" * kib * 1024
    started = time.perf_counter()
    status, body = _get(gateway, path)
    # The gateway is not busy with it: the next request is answered at once.
    assert httpx.get(gateway.url + "/healthz", timeout=10).status_code == 200
    assert time.perf_counter() - started < 2
    if kib > 64:
        assert status == 400
        return
    assert status == 404 and set(json.loads(body)) == {"error"}
    assert len(body) < 1024  # the message does not echo the whole path back
    (line,) = [entry for entry in gateway.access_lines(1) if entry["path"].startswith("/v1/aaa")]
    assert len(line["path"]) < 300 and line["path"].endswith("more chars]")


@pytest.mark.parametrize(
    ("model", "header"),
    [("gpt\r\nx-injected: 1", "gpt%0D%0Ax-injected: 1"), ("模型", "%E6%A8%A1%E5%9E%8B"), ("m\n" * 100, None)],
)
def test_a_hostile_model_name_gets_a_well_formed_answer(
    gateway: GatewayProcess, model: str, header: str | None
) -> None:
    """A line break in `x-aigw-model` dropped the connection after the upstream call was paid for."""
    answer = httpx.post(
        f"{gateway.url}/v1/chat/completions", json={"model": model, "messages": USER}, headers=AUTH, timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["role"] == "assistant"
    assert "x-injected" not in answer.headers
    value = answer.headers["x-aigw-model"]
    assert value.isascii() and value.isprintable() and len(value) <= 256
    if header is not None:
        assert value == header


def test_two_requests_sharing_a_request_id_keep_both_traces(gateway: GatewayProcess) -> None:
    chat = {"model": "gpt-4o-mini", "messages": USER}
    headers = {**AUTH, "x-request-id": "shared-id"}
    assert httpx.post(f"{gateway.url}/v1/chat/completions", json=chat, headers=headers).status_code == 200
    assert (
        httpx.post(f"{gateway.url}/v1/embeddings", json={"model": "m", "input": "x"}, headers=headers).status_code
        == 200
    )
    shared = stored_traces(gateway.url, "shared-id", AUTH, count=2)
    assert [t["endpoint"] for t in shared] == ["embeddings", "chat"]
    listing = httpx.get(f"{gateway.url}/admin/api/traces", params={"request_id": "shared-id"}, headers=AUTH).json()
    assert [t["endpoint"] for t in listing["data"]] == ["embeddings", "chat"]

"""Fault injection over real HTTP: retries, Retry-After, timeouts, broken answers, cut streams,
the circuit breaker opening and recovering, and fallback to another provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import GatewayProcess, MockUpstream
from tests.support.scripted_upstream import Answer, ScriptedUpstream
from tests.support.traces import TRACE_ENV, stored_traces

pytestmark = pytest.mark.chaos
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    server = ScriptedUpstream().start()
    yield server
    server.stop()


def scripted_env(server: ScriptedUpstream, **extra: str) -> dict[str, str]:
    return {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": "sk-up",
        "AI_OPENAI_BASE_URL": server.url,
        "AI_RETRY_BACKOFF_BASE": "0.01",
        **TRACE_ENV,
        **extra,
    }


def chat(gateway: GatewayProcess, body: dict[str, object] | None = None, timeout: float = 30) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/chat/completions", json=body or CHAT, headers=AUTH, timeout=timeout)


def trace_of(gateway: GatewayProcess, response: httpx.Response) -> dict[str, object]:
    return stored_traces(gateway.url, response.headers["x-request-id"], AUTH)[0]


def test_retries_retryable_failures_then_succeeds(scripted: ScriptedUpstream, gateway_factory: GatewayFactory) -> None:
    scripted.then(Answer(503), Answer(502))
    gateway = gateway_factory(scripted_env(scripted, AI_OPENAI_MAX_RETRIES="3"))
    response = chat(gateway)
    assert response.status_code == 200
    assert len(scripted.arrivals) == 3
    spans = trace_of(gateway, response)["spans"]
    attempts = [s for s in spans if s["name"] == "provider_attempt"]  # type: ignore[index]
    assert [a["status"] for a in attempts] == ["error", "error", "ok"]
    assert sum(1 for s in spans if s["name"] == "backoff") == 2  # type: ignore[index]


@pytest.mark.parametrize(("upstream_status", "client_status"), [(400, 400), (401, 502), (403, 502)])
def test_never_retries_client_errors(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory, upstream_status: int, client_status: int
) -> None:
    scripted.then(Answer(upstream_status))
    gateway = gateway_factory(scripted_env(scripted, AI_OPENAI_MAX_RETRIES="3"))
    response = chat(gateway)
    assert response.status_code == client_status
    assert len(scripted.arrivals) == 1
    error = response.json()["error"]
    if upstream_status == 400:
        assert error["message"] == "scripted 400"  # the upstream's own error is relayed
    else:
        assert error["code"] == "upstream_auth_failed"


def test_honours_retry_after(scripted: ScriptedUpstream, gateway_factory: GatewayFactory) -> None:
    scripted.then(Answer(429, headers={"retry-after": "1"}))
    gateway = gateway_factory(scripted_env(scripted, AI_OPENAI_MAX_RETRIES="2"))
    assert chat(gateway).status_code == 200
    assert len(scripted.arrivals) == 2
    gap = scripted.arrivals[1] - scripted.arrivals[0]
    assert gap >= 0.95, f"retried after {gap:.3f}s despite Retry-After: 1"


def test_retry_after_beyond_the_cap_is_passed_to_the_caller(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    scripted.then(Answer(429, headers={"retry-after": "30"}))
    gateway = gateway_factory(scripted_env(scripted, AI_OPENAI_MAX_RETRIES="3", AI_RETRY_MAX_DELAY="5"))
    started = time.monotonic()
    response = chat(gateway)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert len(scripted.arrivals) == 1
    assert time.monotonic() - started < 3


def test_persistent_500_is_retried_then_answered_502(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_OPENAI_MAX_RETRIES="2", AI_RETRY_BACKOFF_BASE="0.01"))
    upstream.configure(error_rate=1.0, error_status=500)
    before = upstream.stats()["errors_injected"]
    response = chat(gateway)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "api_error"
    assert upstream.stats()["errors_injected"] - before == 3


def test_hanging_upstream_times_out(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_OPENAI_TIMEOUT="0.5"))
    upstream.configure(hang_rate=1.0)
    started = time.monotonic()
    response = chat(gateway)
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"
    assert 0.4 <= elapsed < 3, f"answered after {elapsed:.2f}s with a 0.5 s timeout"


def test_malformed_json_is_a_bad_gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    upstream.configure(malformed_rate=1.0)
    response = chat(gateway)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_bad_response"


def test_dropped_connection_is_a_bad_gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    upstream.configure(disconnect_rate=1.0)
    response = chat(gateway)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"


def test_stream_cut_midway_ends_with_an_error_event(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    scripted.then(Answer(stream_chunks=5, cut_after=2))
    gateway = gateway_factory(scripted_env(scripted, AI_OPENAI_MAX_RETRIES="0"))
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH) as r:
        assert r.status_code == 200
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert len(events) == 4, events
    assert '"w0 "' in events[0] and '"w1 "' in events[1]
    assert '"error"' in events[2] and "upstream_unreachable" in events[2]
    assert events[3] == "data: [DONE]"  # the stream ends as OpenAI's do, after the error event

    scripted.then(Answer(stream_chunks=5, cut_after=2))
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)
    try:
        with pytest.raises(openai.APIError):
            for _ in client.chat.completions.create(model="m", messages=CHAT["messages"], stream=True):  # type: ignore[arg-type]
                pass
    finally:
        client.close()


def test_circuit_breaker_opens_and_recovers(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(
        openai_env(
            upstream,
            AI_CIRCUIT_BREAKER_MIN_CALLS="4",
            AI_CIRCUIT_BREAKER_FAILURE_RATE="0.5",
            AI_CIRCUIT_BREAKER_COOLDOWN="1",
        )
    )
    upstream.configure(error_rate=1.0, error_status=500)
    assert [chat(gateway).status_code for _ in range(4)] == [502] * 4
    before = upstream.stats()["errors_injected"]
    refused = chat(gateway)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "circuit_open"
    assert int(refused.headers["retry-after"]) >= 1
    assert upstream.stats()["errors_injected"] == before, "an open circuit must not call the upstream"
    providers = httpx.get(f"{gateway.url}/admin/api/providers", headers=AUTH).json()["data"]
    assert providers[0]["circuit"]["state"] == "open"
    assert 'aigw_circuit_state{provider="openai"} 2.0' in httpx.get(f"{gateway.url}/metrics", headers=AUTH).text

    upstream.configure(error_rate=0.0)
    time.sleep(1.1)
    assert chat(gateway).status_code == 200  # the half-open probe succeeds
    providers = httpx.get(f"{gateway.url}/admin/api/providers", headers=AUTH).json()["data"]
    assert providers[0]["circuit"]["state"] == "closed"
    assert 'aigw_circuit_state{provider="openai"} 0.0' in httpx.get(f"{gateway.url}/metrics", headers=AUTH).text


def _two_provider_config(tmp_path: Path, upstream: MockUpstream) -> Path:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"""
providers:
  - name: primary
    type: openai
    base_url: {upstream.url}/v1
    api_key_env: AI_PROVIDER_PRIMARY_KEY
    headers: {{x-mock-error: "500"}}
    retry: {{max_retries: 1, backoff_base: 0.01}}
  - name: secondary
    type: openai
    base_url: {upstream.url}/v1
    api_key: sk-second
models:
  smart:
    - {{provider: primary, model: gpt-4o}}
    - {{provider: secondary, model: gpt-4o-mini}}
fallback_order: [primary, secondary]
"""
    )
    return config


def test_falls_back_to_the_next_provider(
    tmp_path: Path, upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    config = _two_provider_config(tmp_path, upstream)
    gateway = gateway_factory(
        {"AI_MASTER_KEY": MASTER_KEY, "AI_PROVIDER_PRIMARY_KEY": "sk-first"}, "--config", str(config)
    )
    response = chat(gateway)
    assert response.status_code == 200
    assert response.headers["x-aigw-provider"] == "secondary"
    alias = chat(gateway, {**CHAT, "model": "smart"})
    assert alias.status_code == 200
    assert alias.headers["x-aigw-deployment"] == "secondary/gpt-4o-mini"
    assert alias.json()["model"] == "gpt-4o-mini"
    logged = gateway.access_lines(2)
    assert [line["fallback_from"] for line in logged] == ["primary", "primary"]


def test_no_fallback_when_disabled(tmp_path: Path, upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    config = _two_provider_config(tmp_path, upstream)
    gateway = gateway_factory(
        {"AI_MASTER_KEY": MASTER_KEY, "AI_PROVIDER_PRIMARY_KEY": "sk-first", "AI_FALLBACK_ENABLED": "false"},
        "--config",
        str(config),
    )
    assert chat(gateway).status_code == 502

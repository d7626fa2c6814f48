"""The HTTP surface over a real socket: error format, limits, request ids, auth, admin, metrics."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import GatewayProcess, MockUpstream
from tests.support.traces import TRACE_ENV, stored_traces

pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
RAW_JSON = {**AUTH, "content-type": "application/json"}  # for raw `content=` bodies: httpx labels only `json=`
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(openai_env(upstream, AI_MAX_BODY_BYTES="4096", **TRACE_ENV))


def _error(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def test_malformed_json_is_400(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions", content=b'{"model": ', headers=RAW_JSON)
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"", b"\xff\xfe"])
def test_non_object_bodies_are_400(gateway: GatewayProcess, body: bytes) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions", content=body, headers=RAW_JSON)
    assert response.status_code == 400
    assert _error(response)["type"] == "invalid_request_error"


def test_invalid_fields_name_the_param(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "temperature": 7}, headers=AUTH)
    assert response.status_code == 400
    assert _error(response)["param"] == "temperature"
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions", json={"model": "m", "messages": [{"role": "wizard"}]}, headers=AUTH
    )
    assert response.status_code == 400
    assert str(_error(response)["param"]).startswith("messages.0.role")


def test_body_limit_is_413(gateway: GatewayProcess) -> None:
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json=big, headers=AUTH)
    assert response.status_code == 413
    assert _error(response)["code"] == "request_too_large"

    def chunks():  # no Content-Length: the limit holds while reading
        yield b'{"model": "m", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}]}'

    response = httpx.post(f"{gateway.url}/v1/chat/completions", content=chunks(), headers=RAW_JSON)
    assert response.status_code == 413


def test_unknown_path_and_wrong_method(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/v1/nothing-here", headers=AUTH)
    assert response.status_code == 404
    assert _error(response)["type"] == "not_found_error"
    response = httpx.get(f"{gateway.url}/v1/chat/completions", headers=AUTH)
    assert response.status_code == 405
    _error(response)


def test_unknown_model_is_404_when_providers_declare_models(
    upstream: MockUpstream, gateway_factory: GatewayFactory, tmp_path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"providers:\n  - {{name: up, type: openai, base_url: '{upstream.url}/v1', models: [gpt-4o-mini]}}\n"
    )
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY}, "--config", str(config))
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "model": "gpt-5"}, headers=AUTH)
    assert response.status_code == 404
    assert _error(response)["code"] == "model_not_found"
    assert httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200


def test_auth_is_required_with_a_master_key(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert _error(response)["code"] == "missing_api_key"
    assert httpx.get(f"{gateway.url}/admin/api/traces").status_code == 401
    assert httpx.get(f"{gateway.url}/admin/api/traces", headers={"authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200  # probes need no key


def test_request_id_is_echoed_or_generated(gateway: GatewayProcess) -> None:
    given = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    assert len(made.headers["x-request-id"]) == 32
    hostile = httpx.post(
        f"{gateway.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "x-request-id": "a b<script>"}
    )
    assert hostile.headers["x-request-id"] != "a b<script>"


def test_traces_record_each_stage(gateway: GatewayProcess) -> None:
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "x-request-id": "t-1"})
    assert response.status_code == 200
    (trace,) = stored_traces(gateway.url, "t-1", AUTH)
    names = [s["name"] for s in trace["spans"]]
    assert names == ["auth", "parse", "route", "provider_attempt", "response"]
    assert all(s["duration_ms"] >= 0 for s in trace["spans"])
    assert trace["status"] == "ok" and trace["provider"] == "openai"
    listing = httpx.get(f"{gateway.url}/admin/api/traces", params={"limit": 5}, headers=AUTH).json()
    assert listing["data"][0]["request_id"] == "t-1"
    missing = httpx.get(f"{gateway.url}/admin/api/traces/nope", headers=AUTH)
    assert missing.status_code == 404
    bad = httpx.get(f"{gateway.url}/admin/api/traces", params={"limit": 0}, headers=AUTH)
    assert bad.status_code == 400
    assert _error(bad)["param"] == "limit"


def test_readiness_and_metrics(gateway: GatewayProcess) -> None:
    ready = httpx.get(f"{gateway.url}/readyz").json()
    assert ready["status"] == "ready"
    assert ready["providers"][0]["circuit"]["state"] == "closed"
    httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    text = httpx.get(f"{gateway.url}/metrics", headers=AUTH).text
    assert 'aigw_requests_total{endpoint="chat",status="200"} 1.0' in text
    assert 'aigw_upstream_attempts_total{outcome="ok",provider="openai"} 1.0' in text
    assert 'aigw_tokens_total{kind="completion",model="gpt-4o-mini",provider="openai"} 20.0' in text


def test_kill_switch(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_GATEWAY_ENABLED="false"))
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 503
    assert _error(response)["code"] == "gateway_disabled"


def test_two_workers_share_one_metrics_view(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream), "--workers", "2")
    with httpx.Client() as client:
        for _ in range(40):  # new connections, so both workers take some
            assert client.post(
                f"{gateway.url}/v1/chat/completions", json=CHAT, headers={**AUTH, "connection": "close"}
            ).is_success
    text = httpx.get(f"{gateway.url}/metrics", headers=AUTH).text
    assert 'aigw_requests_total{endpoint="chat",status="200"} 40.0' in text

"""The HTTP edge against hostile requests, over real sockets (`aigw serve`, uvicorn, free loopback ports).

Body limits and JSON content types on every route, nesting depth, keyless mode (Host allow-list,
no made-up keys), who reads /metrics, X-Forwarded-For from trusted proxies only, throttled key
guessing, short master keys, clients that vanish mid-body, the kill switch's Retry-After,
`GET /v1/models/{id}` and a degraded /readyz.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.helpers import ADMIN, CHAT, wait_until
from tests.support.processes import AIGW, GatewayProcess, MockUpstream

pytestmark = pytest.mark.integration
BAD_KEY = {"authorization": "Bearer sk-wrong-key-0123456789abcdef0123456789"}
JSON = {"content-type": "application/json"}
LIMIT, COLLECTION_LIMIT = 4096, 65536


def nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def _code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return str(body["error"]["code"])


@pytest.fixture
def gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(
        openai_env(upstream, AI_MAX_BODY_BYTES=str(LIMIT), AI_MAX_COLLECTION_BODY_BYTES=str(COLLECTION_LIMIT))
    )


# Item 2: one body limit for every route, enforced while reading, before authentication.
BODY_ROUTES = [
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/embeddings"),
    ("POST", "/admin/api/keys"),
    ("PUT", "/admin/api/config/rate_limit_per_ip"),
    ("PUT", "/admin/api/flags/ai_enabled"),
    ("POST", "/v1/tasks/semantic_search"),
    ("PUT", "/v1/collections/shop"),
]


def test_every_route_refuses_a_body_over_the_limit_before_authentication(gateway: GatewayProcess) -> None:
    big = b'{"value": "' + b"x" * LIMIT + b'"}'

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(8):
            yield b"x" * 1000

    for method, path in BODY_ROUTES:
        size = COLLECTION_LIMIT + 10 if path.startswith("/v1/collections") else len(big)
        body = b'{"v": "' + b"x" * size + b'"}'
        declared = httpx.request(method, gateway.url + path, content=body, headers={**BAD_KEY, **JSON})
        assert declared.status_code == 413, (path, declared.text)
        assert _code(declared) == "request_too_large"
        if not path.startswith("/v1/collections"):
            streamed = httpx.request(method, gateway.url + path, content=chunked(), headers={**BAD_KEY, **JSON})
            assert streamed.status_code == 413, (path, streamed.text)


def test_collections_take_larger_bodies(gateway: GatewayProcess) -> None:
    url = f"{gateway.url}/v1/collections/shop"
    assert httpx.put(url, json={}, headers=ADMIN).status_code == 201
    items = [{"id": f"i{n}", "text": f"item number {n} " + "y" * 200} for n in range(100)]  # ~25 KB
    assert httpx.post(f"{url}/items", json={"items": items}, headers=ADMIN).status_code == 200


# Item 4: a JSON content type on every route that takes a body.
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_every_body_must_be_labelled_json(gateway: GatewayProcess, content_type: str | None) -> None:
    headers = {**ADMIN, **({"content-type": content_type} if content_type else {})}
    for method, path in BODY_ROUTES:
        response = httpx.request(method, gateway.url + path, content=b"{}", headers=headers)
        assert response.status_code == 415, (path, response.text)
        assert _code(response) == "unsupported_media_type"
    labelled = {**ADMIN, "content-type": "application/json; charset=utf-8"}
    ok = httpx.post(
        f"{gateway.url}/v1/chat/completions", content=httpx.Request("POST", "/", json=CHAT).content, headers=labelled
    )
    assert ok.status_code == 200


# Item 11: nesting bounded where every JSON body is parsed; a 400, never a 500.
def test_deeply_nested_json_is_a_400_on_every_route(gateway: GatewayProcess) -> None:
    deep = nested(300)  # orjson reads it, but cannot write it again
    bodies = {
        "/v1/chat/completions": b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "x": '
        + deep
        + b"}",
        "/v1/tasks/semantic_search": b'{"collection": "c", "query": "q", "filters": {"a": ' + deep + b"}}",
        "/admin/api/keys": b'{"name": "k", "settings": ' + deep + b"}",
    }
    for path, body in bodies.items():
        response = httpx.post(gateway.url + path, content=body, headers={**ADMIN, **JSON})
        assert response.status_code == 400, (path, response.text)
        assert _code(response) == "json_too_deep"
    config = httpx.put(
        f"{gateway.url}/admin/api/config/fallback_order", content=b'{"value": ' + deep + b"}", headers={**ADMIN, **JSON}
    )
    assert config.status_code == 400 and _code(config) == "json_too_deep"
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200


# Items 4 and 13: keyless mode.
@pytest.fixture
def keyless(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    env = {k: v for k, v in openai_env(upstream).items() if k != "AI_MASTER_KEY"}
    return gateway_factory({**env, "AI_ALLOWED_HOSTS": "gw.internal"})


def test_keyless_mode_answers_loopback_and_allowed_host_names_only(keyless: GatewayProcess) -> None:
    port = keyless.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "gw.internal", f"GW.internal:{port}"):
        assert httpx.get(f"{keyless.url}/v1/models", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}"):
        refused = httpx.get(f"{keyless.url}/v1/models", headers={"host": host})
        assert refused.status_code == 400 and _code(refused) == "host_not_allowed"


def test_keyless_mode_refuses_made_up_keys_and_keeps_virtual_keys_limits(keyless: GatewayProcess) -> None:
    url = keyless.url
    assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200  # no key: the anonymous admin
    bogus = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-bogus"})
    assert bogus.status_code == 401 and _code(bogus) == "invalid_api_key"
    assert httpx.get(f"{url}/admin/api/keys", headers={"authorization": "Bearer sk-bogus"}).status_code == 401
    created = httpx.post(f"{url}/admin/api/keys", json={"name": "narrow", "models": ["gpt-4o-mini"]})
    assert created.status_code == 201, created.text
    key = {"authorization": f"Bearer {created.json()['key']}"}
    assert httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=key).status_code == 200
    other_model = {**CHAT, "model": "gpt-4o"}
    assert httpx.post(f"{url}/v1/chat/completions", json=other_model, headers=key).status_code == 403
    assert httpx.get(f"{url}/admin/api/keys", headers=key).status_code == 403


# Item 12: /metrics access.
def test_metrics_need_the_master_key_by_default(gateway: GatewayProcess) -> None:
    refused = httpx.get(f"{gateway.url}/metrics")
    assert refused.status_code == 401
    assert "aigw_requests_total" in httpx.get(f"{gateway.url}/metrics", headers=ADMIN).text


@pytest.mark.parametrize(("access", "anonymous", "with_key"), [("off", 404, 404), ("open", 200, 200)])
def test_metrics_access_setting(
    upstream: MockUpstream, gateway_factory: GatewayFactory, access: str, anonymous: int, with_key: int
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_METRICS_ACCESS=access))
    assert httpx.get(f"{gateway.url}/metrics").status_code == anonymous
    assert httpx.get(f"{gateway.url}/metrics", headers=ADMIN).status_code == with_key


# Item 12: the client address behind trusted proxies, per-IP limits and throttled key guessing.
def forwarded(client: str, auth: dict[str, str] = ADMIN) -> dict[str, str]:
    return {**auth, "x-forwarded-for": f"6.6.6.6, {client}"}


def test_trusted_proxies_give_each_client_its_own_limits(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    env = openai_env(upstream, AI_TRUSTED_PROXIES="127.0.0.1", AI_RATE_LIMIT_PER_IP="2", AI_AUTH_FAILURE_LIMIT="3")
    gateway = gateway_factory(env)
    chat = f"{gateway.url}/v1/chat/completions"
    assert [httpx.post(chat, json=CHAT, headers=forwarded("198.51.100.1")).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert httpx.post(chat, json=CHAT, headers=forwarded("198.51.100.2")).status_code == 200
    for _ in range(3):
        assert httpx.post(chat, json=CHAT, headers=forwarded("203.0.113.1", BAD_KEY)).status_code == 401
    throttled = httpx.post(chat, json=CHAT, headers=forwarded("203.0.113.1"))
    assert throttled.status_code == 429 and _code(throttled) == "too_many_failed_authentications"
    assert 0 < int(throttled.headers["retry-after"]) <= 60
    assert httpx.post(chat, json=CHAT, headers=forwarded("203.0.113.2")).status_code == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_RATE_LIMIT_PER_IP="2", AI_AUTH_FAILURE_LIMIT="2"))
    chat = f"{gateway.url}/v1/chat/completions"
    codes = [httpx.post(chat, json=CHAT, headers=forwarded(f"198.51.100.{n}")).status_code for n in range(3)]
    assert codes == [200, 200, 429]
    for n in range(2):
        httpx.get(f"{gateway.url}/v1/models", headers=forwarded(f"203.0.113.{n}", BAD_KEY))
    assert httpx.get(f"{gateway.url}/v1/models", headers=forwarded("203.0.113.9")).status_code == 429


def test_a_short_master_key_stops_start_up(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
    result = subprocess.run(
        [str(AIGW), "serve", "--port", "1"],
        env={**clean, "AI_MASTER_KEY": "sk-short-key"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "AI_MASTER_KEY" in result.stderr and "32 characters" in result.stderr
    assert "sk-short-key" not in result.stderr


# Item 14: a client gone mid-body is a client event.
def send_half_a_body(gateway: GatewayProcess, method: str, path: str) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {MASTER_KEY}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"model": "gpt-4o-mini", "mess')


def test_a_client_gone_mid_body_is_a_499_without_a_traceback(gateway: GatewayProcess) -> None:
    send_half_a_body(gateway, "POST", "/v1/chat/completions")
    send_half_a_body(gateway, "POST", "/admin/api/keys")

    def counted() -> str:
        return httpx.get(f"{gateway.url}/metrics", headers=ADMIN).text

    wait_until(lambda: 'endpoint="admin",status="499"' in counted(), 10)
    text = counted()
    assert 'aigw_requests_total{endpoint="chat",status="499"} 1.0' in text
    assert 'status="500"' not in text
    logs = gateway.logs()
    assert "Traceback" not in logs and "unhandled error" not in logs


# Item 15: the kill switch answers 503 with Retry-After; tasks keep off the provider.
def test_the_kill_switch_says_when_to_retry(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_GATEWAY_ENABLED="false"))
    for path, body in (("/v1/chat/completions", CHAT), ("/v1/embeddings", {"model": "m", "input": "hi"})):
        response = httpx.post(gateway.url + path, json=body, headers=ADMIN)
        assert response.status_code == 503 and _code(response) == "gateway_disabled"
        assert int(response.headers["retry-after"]) > 0
    url = f"{gateway.url}/v1/collections/shop"
    assert httpx.put(url, json={}, headers=ADMIN).status_code == 201
    items = [{"id": "a", "text": "red trail running shoes"}, {"id": "b", "text": "blue leather sofa"}]
    assert httpx.post(f"{url}/items", json={"items": items}, headers=ADMIN).status_code == 200
    before = upstream.stats()["requests"] + 1  # this call counts too
    search = {"collection": "shop", "query": "running shoes", "k": 1}
    answer = httpx.post(f"{gateway.url}/v1/tasks/semantic_search", json=search, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["served_by"] != "provider"
    assert {"path": "provider", "reason": "flag_off"} in answer.json()["fallbacks"]
    assert upstream.stats()["requests"] == before


def test_a_task_with_no_path_left_says_when_to_retry(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    env = openai_env(upstream, AI_GATEWAY_ENABLED="false", AI_FALLBACK_ENABLED="false")
    gateway = gateway_factory(env)
    assert httpx.put(f"{gateway.url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    search = {"collection": "shop", "query": "shoes"}
    answer = httpx.post(f"{gateway.url}/v1/tasks/semantic_search", json=search, headers=ADMIN)
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) > 0


# Item 18: one model by id, and a readiness that names open circuits.
def test_models_retrieve_with_the_openai_sdk(gateway: GatewayProcess) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)
    listed = [m.id for m in client.models.list()]
    assert listed
    for model_id in listed:
        model = client.models.retrieve(model_id)
        assert (model.id, model.object) == (model_id, "model")
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"
    bare = httpx.get(f"{gateway.url}/models/{listed[0]}", headers=ADMIN)
    assert bare.status_code == 200 and bare.json()["id"] == listed[0]
    assert httpx.get(f"{gateway.url}/v1/models/{listed[0]}").status_code == 401
    long_id = httpx.get(f"{gateway.url}/v1/models/{'m' * 5000}", headers=ADMIN)
    assert long_id.status_code == 404 and len(long_id.json()["error"]["message"]) < 400


def test_readyz_names_the_providers_whose_circuit_is_open(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    env = openai_env(upstream, AI_CIRCUIT_BREAKER_MIN_CALLS="1", AI_CIRCUIT_BREAKER_COOLDOWN="600")
    gateway = gateway_factory(env)
    assert httpx.get(f"{gateway.url}/readyz").json()["status"] == "ready"
    upstream.configure(error_rate=1.0)
    assert httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=ADMIN).status_code >= 500
    ready = httpx.get(f"{gateway.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["degraded"] == {"circuit_open": ["openai"]}

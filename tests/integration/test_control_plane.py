"""Keys, flags and policy config over real HTTP, shared by two gateway processes on PostgreSQL and
Redis; the hot path keeps serving cached keys when the database goes away."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import openai
import pytest

from tests.conftest import GatewayFactory, openai_env
from tests.support.databases import PG_ADMIN_DSN, postgres_database
from tests.support.helpers import ADMIN, CHAT, wait_until
from tests.support.processes import AIGW, GatewayProcess, MockUpstream

pytestmark = pytest.mark.integration
PROPAGATION_BOUND_S = 5.0


def chat(gateway: GatewayProcess, key: str, body: dict[str, object] | None = None) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/chat/completions", json=body or CHAT, headers={"authorization": f"Bearer {key}"}, timeout=10
    )


def test_keys_through_the_admin_api(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    created = httpx.post(
        f"{gateway.url}/admin/api/keys", json={"user": "alice", "models": ["gpt-4o-mini"], "rpm": 20}, headers=ADMIN
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("sk-aigw-")
    listed = httpx.get(f"{gateway.url}/admin/api/keys", headers=ADMIN).json()["data"]
    assert [k["user"] for k in listed] == ["alice"]
    assert key not in str(listed)  # only the prefix is ever shown again

    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    try:
        assert client.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"]).choices  # type: ignore[arg-type]
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.chat.completions.create(model="gpt-4o", messages=CHAT["messages"])  # type: ignore[arg-type]
        assert denied.value.code == "model_not_allowed"
        assert chat(gateway, key).status_code == 200
        assert httpx.get(f"{gateway.url}/admin/api/keys", headers={"authorization": f"Bearer {key}"}).status_code == 403

        revoked = httpx.delete(f"{gateway.url}/admin/api/keys/{created.json()['id']}", headers=ADMIN)
        assert revoked.status_code == 200
        with pytest.raises(openai.AuthenticationError) as refused:
            client.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"])  # type: ignore[arg-type]
        assert refused.value.code == "key_revoked"
    finally:
        client.close()
    audit = httpx.get(f"{gateway.url}/admin/api/audit", headers=ADMIN).json()["data"]
    assert [entry["action"] for entry in audit] == ["key.revoke", "key.create"]
    assert all(entry["actor"] == "admin:master" for entry in audit)


def test_policy_config_is_validated(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    bad = httpx.put(f"{gateway.url}/admin/api/config/rate_limit_per_ip", json={"value": -3}, headers=ADMIN)
    assert bad.status_code == 400
    unknown = httpx.put(f"{gateway.url}/admin/api/config/nonsense", json={"value": 1}, headers=ADMIN)
    assert unknown.status_code == 400
    good = httpx.put(f"{gateway.url}/admin/api/config/rate_limit_per_ip", json={"value": 100}, headers=ADMIN)
    assert good.status_code == 200
    shown = httpx.get(f"{gateway.url}/admin/api/config", headers=ADMIN).json()
    assert shown["effective"]["rate_limit_per_ip"] == 100 and shown["stored"] == {"rate_limit_per_ip": 100}


def test_two_replicas_share_flags_and_keys(
    upstream: MockUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str], tmp_path: Path
) -> None:
    env = openai_env(upstream, **shared_stores)
    first = gateway_factory(env)
    second = gateway_factory(env)
    key = httpx.post(f"{first.url}/admin/api/keys", json={"user": "bob"}, headers=ADMIN).json()["key"]
    waited = wait_until(lambda: chat(second, key).status_code == 200, PROPAGATION_BOUND_S)
    print(f"key created on one replica usable on the other after {waited:.2f}s")

    # The kill switch from the CLI, as an operator would flip it.
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")} | shared_stores
    flipped = subprocess.run(
        [str(AIGW), "flags", "set", "ai_enabled", "false"],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flipped.returncode == 0, flipped.stderr
    off_first = wait_until(lambda: chat(first, key).status_code == 503, PROPAGATION_BOUND_S)
    off_second = wait_until(lambda: chat(second, key).status_code == 503, PROPAGATION_BOUND_S)
    print(f"kill switch seen after {off_first:.2f}s and {off_second:.2f}s")
    assert chat(second, key).json()["error"]["code"] == "gateway_disabled"

    httpx.put(f"{second.url}/admin/api/flags/ai_enabled", json={"enabled": True}, headers=ADMIN)
    back = wait_until(lambda: chat(first, key).status_code == 200, PROPAGATION_BOUND_S)
    print(f"flag flipped on one replica seen by the other after {back:.2f}s")


def test_cached_keys_keep_working_while_the_database_is_away(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    with postgres_database() as database_url:
        gateway = gateway_factory(openai_env(upstream, AI_DATABASE_URL=database_url, AI_CONFIG_POLL_INTERVAL="0.2"))
        key = httpx.post(f"{gateway.url}/admin/api/keys", json={"user": "carol"}, headers=ADMIN).json()["key"]
        assert chat(gateway, key).status_code == 200
        name = database_url.rsplit("/", 1)[1]

        async def drop() -> None:
            conn = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())
        time.sleep(1.0)  # several failed refreshes
        assert [chat(gateway, key).status_code for _ in range(5)] == [200] * 5
        assert chat(gateway, "sk-aigw-unknown").status_code == 401
        ready = httpx.get(f"{gateway.url}/readyz").json()
        assert ready["control_plane"]["sync_error"] is not None


async def _burst(urls: list[str], key: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as client:
        calls = [
            client.post(
                f"{urls[i % len(urls)]}/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {key}"}
            )
            for i in range(count)
        ]
        return list(await asyncio.gather(*calls))


def test_a_20_rpm_key_gets_exactly_20_across_two_replicas(
    upstream: MockUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str]
) -> None:
    env = openai_env(upstream, **shared_stores)
    first, second = gateway_factory(env), gateway_factory(env)
    key = httpx.post(f"{first.url}/admin/api/keys", json={"user": "dave", "rpm": 20}, headers=ADMIN).json()["key"]
    wait_until(lambda: httpx.get(f"{second.url}/readyz").json()["control_plane"]["keys"] == 1, PROPAGATION_BOUND_S)

    # 8 calls on each replica first, so that both hold part of the 20; then 44 at once on both.
    warmup = asyncio.run(_burst([first.url], key, 8)) + asyncio.run(_burst([second.url], key, 8))
    assert [r.status_code for r in warmup] == [200] * 16, "the first 16 calls of a 20 rpm key pass"
    answers = warmup + asyncio.run(_burst([first.url, second.url], key, 44))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 20, f"{statuses.count(200)} successes for a 20 rpm key (bound: exactly 20)"
    assert statuses.count(429) == 40
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit-requests"] == "20"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    ok = next(r for r in answers if r.status_code == 200)
    assert int(ok.headers["x-ratelimit-remaining-requests"]) < 20


def test_rate_limit_in_one_process_without_redis(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    key = httpx.post(f"{gateway.url}/admin/api/keys", json={"rpm": 5}, headers=ADMIN).json()["key"]
    statuses = [r.status_code for r in asyncio.run(_burst([gateway.url], key, 12))]
    assert sorted(statuses) == [200] * 5 + [429] * 7
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    try:
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"])  # type: ignore[arg-type]
    finally:
        client.close()

"""Hot reload on two replicas sharing PostgreSQL and Redis: fallback order within 10 s, a provider
configuration swap within 5 s that lets a call in flight finish (30 s grace), and an invalid
configuration refused before it is stored. Each test prints the propagation time it measured."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.databases import postgres_database
from tests.support.helpers import ADMIN, CHAT, wait_until
from tests.support.processes import MockUpstream, free_port, start_mock

pytestmark = pytest.mark.integration
CONFIG_BOUND_S = 5.0
FALLBACK_ORDER_BOUND_S = 10.0


@pytest.fixture
def slow_stream_upstream() -> Iterator[MockUpstream]:
    mock = start_mock(None, "--stream-chunks", "20", "--chunk-delay-ms", "150")  # a 3 s stream
    yield mock
    mock.stop()


def provider(name: str, url: str, **extra: object) -> dict[str, object]:
    return {"name": name, "type": "openai", "base_url": f"{url}/v1", "api_key_env": "AI_OPENAI_API_KEY", **extra}


def served_by(url: str) -> str:
    answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=ADMIN, timeout=10)
    return answer.headers.get("x-aigw-provider", "") if answer.status_code == 200 else f"error {answer.status_code}"


def env_for(stores: dict[str, str]) -> dict[str, str]:
    return {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_MAX_RETRIES": "0",
        "AI_OPENAI_TIMEOUT": "5",
        "AI_CIRCUIT_BREAKER_ENABLED": "false",
        **stores,
    }


def set_config(url: str, key: str, value: object) -> httpx.Response:
    return httpx.put(f"{url}/admin/api/config/{key}", json={"value": value}, headers=ADMIN, timeout=10)


def test_fallback_order_changes_on_every_replica_within_10_s(
    upstream: MockUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str]
) -> None:
    first, second = gateway_factory(env_for(shared_stores)), gateway_factory(env_for(shared_stores))
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    routing = {"providers": [provider("primary", dead), provider("backup", upstream.url)]}
    assert set_config(first.url, "routing", routing).status_code == 200
    waited = wait_until(lambda: served_by(second.url) == "backup", CONFIG_BOUND_S)
    print(f"provider configuration seen by the other replica after {waited:.2f}s")
    before = httpx.post(f"{second.url}/v1/chat/completions", json=CHAT, headers=ADMIN, timeout=10)
    assert before.headers["x-aigw-fallback-from"] == "primary", "primary is tried first and fails over"

    assert set_config(second.url, "fallback_order", ["backup", "primary"]).status_code == 200

    def primary_skipped(url: str) -> bool:
        answer = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=ADMIN, timeout=10)
        served = answer.status_code == 200 and answer.headers["x-aigw-deployment"] == "backup/gpt-4o-mini"
        return served and "x-aigw-fallback-from" not in answer.headers  # served first, not after primary failed

    took = wait_until(lambda: primary_skipped(first.url), FALLBACK_ORDER_BOUND_S)
    print(f"fallback order seen by the other replica after {took:.2f}s (bound {FALLBACK_ORDER_BOUND_S}s)")


def test_provider_swap_keeps_calls_in_flight_and_reaches_every_replica(
    upstream: MockUpstream,
    slow_stream_upstream: MockUpstream,
    gateway_factory: GatewayFactory,
    shared_stores: dict[str, str],
) -> None:
    first, second = gateway_factory(env_for(shared_stores)), gateway_factory(env_for(shared_stores))
    assert (
        set_config(first.url, "routing", {"providers": [provider("old", slow_stream_upstream.url)]}).status_code == 200
    )
    wait_until(lambda: served_by(first.url) == "old" and served_by(second.url) == "old", CONFIG_BOUND_S)

    chunks: list[str] = []
    errors: list[BaseException] = []
    started = threading.Event()

    def stream_through_second() -> None:
        client = openai.OpenAI(base_url=f"{second.url}/v1", api_key=MASTER_KEY, max_retries=0)
        try:
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "long answer"}], stream=True
            )
            for chunk in stream:
                started.set()
                if chunk.choices and chunk.choices[0].delta.content:
                    chunks.append(chunk.choices[0].delta.content)
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)
        finally:
            started.set()
            client.close()

    reader = threading.Thread(target=stream_through_second)
    reader.start()
    assert started.wait(10), "the stream started"
    swapped = set_config(first.url, "routing", {"providers": [provider("new", upstream.url)]})
    assert swapped.status_code == 200
    waited = wait_until(lambda: served_by(second.url) == "new", CONFIG_BOUND_S)
    print(f"provider swap seen by the other replica after {waited:.2f}s (bound {CONFIG_BOUND_S}s)")
    reader.join(30)
    assert not errors, f"the call in flight during the swap failed: {errors[0]!r}"
    assert len(chunks) == 20, "the call in flight got its whole answer from the replaced provider"

    providers = httpx.get(f"{second.url}/admin/api/providers", headers=ADMIN).json()["data"]
    assert [p["name"] for p in providers] == ["new"]


def test_invalid_routing_is_refused_before_it_is_stored(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(env_for({}))
    bad_type = set_config(gateway.url, "routing", {"providers": [{"name": "x", "type": "nope"}]})
    assert bad_type.status_code == 400 and bad_type.json()["error"]["code"] == "invalid_config"
    inline_key = set_config(
        gateway.url, "routing", {"providers": [{"name": "x", "type": "openai", "api_key": "sk-inline-secret"}]}
    )
    assert inline_key.status_code == 400
    assert "api_key_env" in inline_key.json()["error"]["message"]
    assert "sk-inline-secret" not in inline_key.text
    unknown_alias_target = set_config(
        gateway.url,
        "routing",
        {"providers": [provider("a", upstream.url)], "models": {"smart": [{"provider": "b", "model": "m"}]}},
    )
    assert unknown_alias_target.status_code == 400
    stored = httpx.get(f"{gateway.url}/admin/api/config", headers=ADMIN).json()["stored"]
    assert "routing" not in stored


@pytest.mark.parametrize("channel", ["postgres_notify", "polling_only"])
def test_kill_switch_reaches_the_other_replica_without_redis(
    channel: str, upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    """PostgreSQL LISTEN/NOTIFY without Redis; and SQLite shared by two processes, where only the
    poll (AI_CONFIG_POLL_INTERVAL, 2 s by default) carries the change: both well within 5 s."""
    with contextlib.ExitStack() as stack:
        stores = {}
        if channel == "postgres_notify":
            stores["AI_DATABASE_URL"] = stack.enter_context(postgres_database())
        env = {**env_for(stores), "AI_OPENAI_BASE_URL": f"{upstream.url}/v1"}
        first, second = gateway_factory(env), gateway_factory(env)
        assert served_by(second.url) == "openai"
        httpx.put(f"{first.url}/admin/api/flags/ai_enabled", json={"enabled": False}, headers=ADMIN, timeout=10)
        took = wait_until(lambda: served_by(second.url) == "error 503", CONFIG_BOUND_S)
        print(f"kill switch over {channel} seen by the other replica after {took:.2f}s (bound {CONFIG_BOUND_S}s)")

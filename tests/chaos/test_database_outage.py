"""PostgreSQL goes away under a running gateway (its connections cut by a TCP proxy): valid keys
keep being served from the cache, spend is spooled to disk, and when the database returns the
spooled spend is written, once."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import GatewayFactory, openai_env
from tests.support.databases import postgres_database
from tests.support.helpers import ADMIN, CHAT, wait_until
from tests.support.processes import MockUpstream
from tests.support.tcp_proxy import TcpProxy

RECOVERY_BOUND_S = 15.0
SPOOL_BOUND_S = 10.0


@pytest.fixture
def database_behind_proxy() -> Iterator[tuple[str, TcpProxy]]:
    with postgres_database() as url:
        proxy = TcpProxy("127.0.0.1", 5432)
        proxy.start()
        try:
            yield url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), proxy
        finally:
            proxy.close()


def chat(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {key}"}, timeout=10)


def spooled_lines(state_dir: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in state_dir.glob("spend-spool-*"))


def test_valid_keys_are_served_and_spend_is_kept_while_the_database_is_away(
    upstream: MockUpstream,
    gateway_factory: GatewayFactory,
    database_behind_proxy: tuple[str, TcpProxy],
    tmp_path: Path,
) -> None:
    url, proxy = database_behind_proxy
    gateway = gateway_factory(openai_env(upstream, AI_DATABASE_URL=url, AI_CONFIG_POLL_INTERVAL="0.3"))
    key = httpx.post(f"{gateway.url}/admin/api/keys", json={"user": "olga"}, headers=ADMIN).json()["key"]
    before = [chat(gateway.url, key) for _ in range(5)]
    assert [r.status_code for r in before] == [200] * 5

    proxy.cut()
    wait_until(lambda: httpx.get(f"{gateway.url}/readyz").json()["control_plane"]["sync_error"], SPOOL_BOUND_S)
    during = [chat(gateway.url, key) for _ in range(20)]
    assert [r.status_code for r in during] == [200] * 20, "a valid key is served while the database is away"
    assert chat(gateway.url, "sk-aigw-not-a-key").status_code == 401
    state_dir = tmp_path / "state"
    wait_until(lambda: spooled_lines(state_dir) >= 20, SPOOL_BOUND_S)  # bound: spool within SPOOL_BOUND_S

    proxy.start()

    def recorded() -> int:
        answer = httpx.get(f"{gateway.url}/admin/api/usage", headers=ADMIN, timeout=10)
        return int(answer.json()["today"]["global"]["requests"]) if answer.status_code == 200 else -1

    took = wait_until(lambda: recorded() == 25, RECOVERY_BOUND_S)
    print(f"spooled spend written {took:.2f}s after the database came back")
    assert spooled_lines(state_dir) == 0, "the spool is emptied once written"
    report = httpx.get(f"{gateway.url}/admin/api/usage", headers=ADMIN).json()
    expected = sum((Decimal(r.headers["x-aigw-cost-usd"]) for r in before + during), Decimal(0))
    assert Decimal(str(report["today"]["global"]["spent_usd"])) == expected, "every call once, none lost or doubled"

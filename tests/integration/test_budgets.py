"""Budgets end to end: two gateway processes sharing PostgreSQL and Redis, real HTTP to the mock
upstream. Spend never passes a cap, streamed calls are priced like plain ones, every answer says
what it cost, and spend reaches the ledger (`/admin/api/usage`, `aigw usage`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.helpers import ADMIN, CHAT, wait_until
from tests.support.processes import AIGW, MockUpstream

pytestmark = pytest.mark.integration
DAILY_CAP_USD = 0.03
FLUSH_BOUND_S = 10.0


def usage(url: str) -> dict[str, object]:
    answer = httpx.get(f"{url}/admin/api/usage", headers=ADMIN, timeout=10)
    assert answer.status_code == 200, answer.text
    report: dict[str, object] = answer.json()
    return report


def recorded_today(url: str) -> tuple[Decimal, int]:
    today = usage(url)["today"]
    assert isinstance(today, dict)
    return Decimal(str(today["global"]["spent_usd"])), int(today["global"]["requests"])


async def _burst(urls: list[str], count: int, body: dict[str, object]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        calls = [
            client.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=body, headers=ADMIN) for i in range(count)
        ]
        return list(await asyncio.gather(*calls))


def test_300_concurrent_calls_on_two_replicas_never_pass_a_daily_budget(
    upstream: MockUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str]
) -> None:
    env = openai_env(upstream, AI_BUDGET_DAILY=str(DAILY_CAP_USD), **shared_stores)
    first, second = gateway_factory(env), gateway_factory(env)
    # ~2,000 output tokens of gpt-4o reserved per call ($0.02): only one call at a time fits the cap.
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 2000}
    answers = asyncio.run(_burst([first.url, second.url], 300, body))

    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 429}, sorted(set(statuses))
    refused = [r for r in answers if r.status_code == 429]
    assert refused, "300 concurrent calls against a cap that holds one worst case: some must be refused"
    assert all(r.json()["error"]["code"] == "budget_exceeded" for r in refused)
    assert refused[0].headers["x-should-retry"] == "false"
    served = [r for r in answers if r.status_code == 200]
    assert served, "calls fit under the cap one after another"
    costs = [Decimal(r.headers["x-aigw-cost-usd"]) for r in served]
    assert all(c > 0 for c in costs)

    expected = sum(costs, Decimal(0))
    wait_until(lambda: recorded_today(second.url)[1] == len(served), FLUSH_BOUND_S)
    spent, _ = recorded_today(first.url)
    assert spent == expected, "the ledger holds exactly what the answers said they cost"
    assert spent <= Decimal(str(DAILY_CAP_USD)), f"recorded spend ${spent} must be <= the cap ${DAILY_CAP_USD}"
    live = usage(first.url)["live"]
    assert isinstance(live, list) and live[0]["reserved_usd"] == 0, "every hold was settled"


def test_streamed_calls_are_priced_like_plain_ones(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_BUDGET_DAILY="5"))
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)
    try:
        plain = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "price me"}]
        )
        plain_cost = Decimal(plain.headers["x-aigw-cost-usd"])
        usage_chunk = None
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "price me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            if chunk.usage is not None:
                usage_chunk = chunk.usage
    finally:
        client.close()
    assert usage_chunk is not None
    streamed_cost = Decimal(str((usage_chunk.model_extra or {})["cost_usd"]))
    assert streamed_cost > 0, "a streamed call is never free"
    # Same prompt, same model: the cost differs only by what the mock's completion counts differ.
    assert plain_cost > 0
    wait_until(lambda: recorded_today(gateway.url)[1] == 2, FLUSH_BOUND_S)
    spent, _ = recorded_today(gateway.url)
    assert abs(spent - (plain_cost + streamed_cost)) < Decimal("0.000001"), "both calls reached the ledger"


def test_a_key_budget_refuses_with_budget_exceeded(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    created = httpx.post(
        f"{gateway.url}/admin/api/keys", json={"user": "erin", "budget_daily": "0.0001"}, headers=ADMIN
    ).json()
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=created["key"], max_retries=0)
    try:
        with pytest.raises(openai.RateLimitError) as refused:  # 4,096 output tokens of gpt-4o > $0.0001
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert refused.value.code == "budget_exceeded"
        ok = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=50
        )
        assert Decimal(ok.headers["x-aigw-cost-usd"]) > 0
    finally:
        client.close()


def test_per_request_cost_cap(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_MAX_REQUEST_COST="0.001"))
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0)
    try:
        with pytest.raises(openai.BadRequestError) as refused:  # gpt-4o, 4,096 output tokens: ~$0.04
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert refused.value.code == "request_cost_too_high"
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=20)
    finally:
        client.close()


def test_spend_survives_a_graceful_stop_and_aigw_usage_reports_it(
    upstream: MockUpstream, gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    env = openai_env(upstream, AI_BUDGET_DAILY="1")
    gateway = gateway_factory(env)
    answers = asyncio.run(_burst([gateway.url], 40, CHAT))
    assert [r.status_code for r in answers] == [200] * 40
    expected = sum((Decimal(r.headers["x-aigw-cost-usd"]) for r in answers), Decimal(0))
    gateway.stop()  # SIGTERM: the spend still in memory is written before the process exits

    cli_env = {**os.environ, **env, "AI_STATE_DIR": str(tmp_path / "state")}  # the gateway's SQLite database
    shown = subprocess.run([AIGW, "usage", "--json"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    report = orjson.loads(shown.stdout)
    assert report["today"]["global"]["requests"] == 40, "no call's spend was lost at shutdown"
    assert Decimal(str(report["today"]["global"]["spent_usd"])) == expected
    assert report["today"]["global"]["cap_usd"] == 1.0
    table = subprocess.run([AIGW, "usage"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert "today" in table.stdout and "of $1" in table.stdout, table.stdout

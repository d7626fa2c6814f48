"""End to end: what a budget holds for a call is priced from exactly what goes upstream. A key with a
budget sends `"n": 128.0` (a float that lax validation used to accept, priced as one choice while
the provider was asked for 128): refused with 400 before anything leaves the gateway. An accepted
call's reservation, read from the live budget while the call is in flight, equals the worst case
of the body the mock upstream recorded. Real gateway process, the shared mock with `--record`."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

import httpx
import pytest

from aigw.context.bounds import output_cap, prompt_token_bound
from aigw.policy.pricing import PriceTable
from aigw.types import ChatRequest
from tests.conftest import GatewayFactory, openai_env
from tests.support.helpers import ADMIN, wait_until
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration
MODEL = "gpt-4o-mini"
LATENCY_MS = 1500


def key_with_budget(url: str) -> dict[str, str]:
    created = httpx.post(f"{url}/admin/api/keys", json={"user": "fay", "budget_daily": "5"}, headers=ADMIN, timeout=10)
    assert created.status_code in (200, 201), created.text
    return {"authorization": f"Bearer {created.json()['key']}"}


def sent_upstream(upstream: MockUpstream, marker: str) -> list[dict[str, Any]]:
    """The chat bodies the mock received whose prompt carries `marker`."""
    bodies = [json.loads(r["body"]) for r in upstream.recorded() if r["path"].endswith("/chat/completions")]
    return [b for b in bodies if marker in json.dumps(b["messages"])]


def global_reserved_micros(url: str) -> int:
    live = httpx.get(f"{url}/admin/api/usage", headers=ADMIN, timeout=10).json()["live"]
    daily = next(entry for entry in live if entry["period"].startswith("daily"))
    return round(daily["reserved_usd"] * 1_000_000)


@pytest.mark.parametrize(
    "params",
    [{"n": 128.0}, {"n": 128.0, "max_tokens": 100}, {"max_tokens": 100.0}, {"max_completion_tokens": 1e6}],
)
def test_a_float_count_is_refused_before_anything_goes_upstream(
    upstream: MockUpstream, gateway_factory: GatewayFactory, params: dict[str, Any]
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_BUDGET_DAILY="5"))
    marker = secrets.token_hex(8)
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"hello {marker}"}], **params}
    answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=key_with_budget(gateway.url))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_value", next(iter(params)))
    assert sent_upstream(upstream, marker) == [], "nothing was sent for a request the budget could misprice"


def test_the_reservation_is_the_worst_case_of_the_body_sent_upstream(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_BUDGET_DAILY="5"))
    headers = key_with_budget(gateway.url)
    marker = secrets.token_hex(8)
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"hello {marker}"}], "n": 4}
    upstream.configure(latency_ms=LATENCY_MS)  # the call stays in flight while its hold is read
    answers: list[httpx.Response] = []
    call = threading.Thread(
        target=lambda: answers.append(
            httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
        )
    )
    call.start()
    try:
        wait_until(lambda: sent_upstream(upstream, marker), 10.0)
        reserved = global_reserved_micros(gateway.url)
    finally:
        call.join(30)
    assert answers and answers[0].status_code == 200, answers[0].text if answers else "no answer"

    [sent] = sent_upstream(upstream, marker)
    params = {k: v for k, v in sent.items() if k not in ("model", "messages", "stream", "stream_options")}
    assert type(sent["n"]) is int and sent["n"] == 4
    as_sent = ChatRequest(MODEL, sent["messages"], params)
    allowed = output_cap(as_sent)
    assert allowed is not None and allowed <= 4096, "the output cap the gateway set covers every choice"
    worst = PriceTable.load().worst_case_micros(MODEL, prompt_token_bound(as_sent), allowed)
    assert reserved == worst, f"reserved {reserved} micro-dollars, the body sent may cost {worst}"

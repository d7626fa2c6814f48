"""Task calls while the provider dies: the mock upstream is killed in the middle of a run of
semantic searches and brought back later. At least 99 % of the calls succeed, none waits past its
deadline, the local paths serve (and say why) while the provider is gone, and the circuit closes
again once it is back."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import GatewayFactory, openai_env
from tests.support.helpers import ADMIN, wait_until
from tests.support.processes import MockUpstream, start_mock

pytestmark = pytest.mark.chaos

CALLS = 300
DEADLINE_S = 1.0
LATE_MARGIN_S = 0.5  # HTTP and scheduling on a loaded 2-core machine, on top of the task's deadline
WORDS = ["trail", "leather", "steel", "cotton", "wireless", "compact", "family", "travel", "garden", "office"]
QUALITIES = [
    f"{a}{b}"
    for a in ("mini", "maxi", "ultra")
    for b in ("lite", "pro", "plus", "max", "air", "go", "one", "neo", "duo", "x")
]
THINGS = ["shoes", "sofa", "kettle", "shirt", "headphones", "camera", "tent", "backpack", "lamp", "desk"]


def catalog() -> list[dict[str, object]]:
    return [
        {"id": f"i{n}", "text": f"{WORDS[n % 10]} {THINGS[(n // 10) % 10]} model {n}", "metadata": {"n": n}}
        for n in range(300)
    ]


def circuit(url: str) -> str:
    providers = httpx.get(f"{url}/admin/api/providers", headers=ADMIN).json()["data"]
    return str(providers[0]["circuit"]["state"])


def test_searches_survive_the_provider_dying_and_the_circuit_closes_after(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    mock = start_mock()
    env = openai_env(
        mock,
        AI_TASK_DEADLINE=str(DEADLINE_S),
        AI_OPENAI_TIMEOUT="2",
        AI_CIRCUIT_BREAKER_MIN_CALLS="5",
        AI_CIRCUIT_BREAKER_FAILURE_RATE="0.3",  # the successes before the outage still count in the window
        AI_CIRCUIT_BREAKER_COOLDOWN="1",
    )
    gateway = gateway_factory(env)
    url = gateway.url
    assert httpx.put(f"{url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    assert httpx.post(f"{url}/v1/collections/shop/items", json={"items": catalog()}, headers=ADMIN).status_code == 200

    def search(i: int) -> tuple[int, float, str, str]:
        started = time.monotonic()
        # each query once: a repeated one would be answered from the response cache, provider or not
        body = {"collection": "shop", "query": f"{WORDS[i % 10]} {THINGS[i % 7]} {QUALITIES[i % 30]} {i}", "k": 5}
        try:
            answer = httpx.post(f"{url}/v1/tasks/semantic_search", json=body, headers=ADMIN, timeout=10)
        except httpx.HTTPError as exc:
            return 0, time.monotonic() - started, "", type(exc).__name__
        data = answer.json() if answer.status_code == 200 else {}
        reasons = ",".join(f["reason"] for f in data.get("fallbacks", []))
        return answer.status_code, time.monotonic() - started, data.get("served_by", ""), reasons

    wait_until(lambda: search(0)[2] == "provider", 15.0)  # the provider's index of the catalog is built
    results = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        results += list(pool.map(search, range(100)))
        mock.stop()  # the provider dies in the middle of the run
        results += list(pool.map(search, range(100, 200)))
        assert circuit(url) in ("open", "half_open")  # tripped; past its 1 s cool-down it probes again
        mock = start_mock(port=mock.port)  # and comes back
        results += list(pool.map(search, range(200, CALLS)))

    ok = [r for r in results if r[0] == 200]
    assert len(ok) >= 0.99 * CALLS, f"{len(ok)}/{CALLS} succeeded, at least 99 % expected"
    slowest = max(r[1] for r in results)
    assert slowest <= DEADLINE_S + LATE_MARGIN_S, f"slowest call {slowest:.2f}s, deadline {DEADLINE_S}s"
    during = Counter(r[2] for r in results[100:200])
    assert during["provider"] == 0 and during["local_embeddings"] + during["fuzzy"] >= 99, during
    reasons = Counter(reason.split(",")[0] for _, _, _, reason in results[100:200])
    assert set(reasons) <= {"circuit_open", "provider_error", "timeout"}, reasons
    assert reasons["circuit_open"] > 0, reasons  # the breaker opened: later calls did not even try
    fresh = iter(range(CALLS, CALLS + 1000))
    waited = wait_until(lambda: search(next(fresh))[2] == "provider" and circuit(url) == "closed", 15.0)
    print(f"provider served again and the circuit closed {waited:.2f}s after the run; outcomes {during}, {reasons}")
    mock.stop()

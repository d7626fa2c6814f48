"""Persisted traces through real gateway processes (`aigw serve`, SQLite in the test's state dir):
any worker finds any trace, traces survive a restart, sampling keeps every error and refusal,
previews are masked and hidden unless an admin asks (audited), and the dashboard summary counts
a known load whatever the sample rate."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import MockUpstream
from tests.support.traces import TRACE_ENV, listed_traces, stored_traces

pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
FRESH = {**AUTH, "connection": "close"}  # a new connection per request: every worker takes some
PLANTED_EMAIL = "jane.planted@example.org"


def chat(url: str, request_id: str, content: str = "hi", **extra: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers={**FRESH, "x-request-id": request_id})


def test_any_worker_finds_any_trace_and_traces_survive_a_restart(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, **TRACE_ENV), "--workers", "2")
    ids = [f"wired-{i}" for i in range(30)]
    for request_id in ids:
        assert chat(gateway.url, request_id).status_code == 200
    writers: dict[str, list[str]] = {}
    for request_id in ids:
        (trace,) = stored_traces(gateway.url, request_id, FRESH)
        writers.setdefault(trace["attributes"]["worker"], []).append(request_id)
    assert len(writers) == 2, f"one worker took every request: {writers.keys()}"
    for written in writers.values():  # each worker's traces, asked for again and again on new connections
        for request_id in written[:5]:
            for _ in range(4):
                answer = httpx.get(f"{gateway.url}/admin/api/traces/{request_id}", headers=FRESH)
                assert answer.status_code == 200 and answer.json()["data"][0]["request_id"] == request_id

    gateway.stop()  # the writer flushes what waits on a graceful stop
    again = gateway_factory(openai_env(upstream, **TRACE_ENV))
    for written in writers.values():
        assert stored_traces(again.url, written[-1], AUTH)[0]["request_id"] == written[-1]
    page = httpx.get(f"{again.url}/admin/api/traces", params={"limit": 200}, headers=AUTH).json()
    assert {t["request_id"] for t in page["data"]} == set(ids)


def test_errors_and_refusals_are_always_kept_and_previews_are_masked_and_hidden(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, **{**TRACE_ENV, "AI_TRACE_SAMPLE_RATE": "0"}))
    for i in range(10):
        assert chat(gateway.url, f"ok-{i}", f"write to {PLANTED_EMAIL}").status_code == 200
    refused = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": []},
        headers={"authorization": "Bearer sk-not-a-key", "x-request-id": "refused-1"},
    )
    assert refused.status_code == 401
    upstream.configure(error_rate=1.0, error_status=500)
    assert chat(gateway.url, "failed-1", f"mail {PLANTED_EMAIL} please").status_code == 502
    upstream.reset()

    kept = listed_traces(gateway.url, AUTH, count=2)
    assert {t["request_id"] for t in kept} == {"refused-1", "failed-1"}
    assert httpx.get(f"{gateway.url}/admin/api/traces/ok-3", headers=AUTH).status_code == 404
    assert _metric(gateway.url, "aigw_traces_sampled_out_total") == 10
    (refusal,) = stored_traces(gateway.url, "refused-1", AUTH)
    assert refusal["http_status"] == 401 and refusal["error_code"] == "invalid_api_key"

    (failed,) = stored_traces(gateway.url, "failed-1", AUTH)
    assert "prompt_preview" not in failed and "answer_preview" not in failed  # hidden unless asked
    assert all("prompt_preview" not in t for t in kept)
    (shown,) = stored_traces(gateway.url, "failed-1", AUTH, previews="true")
    assert shown["prompt_preview"] == "user: mail <EMAIL_1> please"
    found = httpx.get(f"{gateway.url}/admin/api/traces", params={"text": "<EMAIL_1>"}, headers=AUTH).json()
    assert [t["request_id"] for t in found["data"]] == ["failed-1"]
    audit = httpx.get(f"{gateway.url}/admin/api/audit", headers=AUTH).json()["data"]
    assert any(e["action"] == "reveal_trace_previews" and e["target"] == "trace:failed-1" for e in audit)
    everything = str(listed_traces(gateway.url, AUTH, count=2, previews="true")) + str(shown)
    assert PLANTED_EMAIL not in everything and "jane.planted" not in everything


def test_stream_previews_hold_the_first_characters_of_the_answer(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, **TRACE_ENV, AI_TRACE_PREVIEW_CHARS="12"))
    streamed = chat(gateway.url, "stream-1", "tell me", stream=True)
    assert streamed.status_code == 200
    text = "".join(_deltas(streamed.text))
    (trace,) = stored_traces(gateway.url, "stream-1", AUTH, previews="true")
    assert trace["answer_preview"] == text[:12] and len(text) > 12
    assert trace["prompt_preview"] == "user: tell m"


def test_the_summary_counts_a_known_load_whatever_the_sample_rate(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, **{**TRACE_ENV, "AI_TRACE_SAMPLE_RATE": "0.3"}))
    answers = [chat(gateway.url, f"load-{i}") for i in range(12)]
    assert all(a.status_code == 200 for a in answers)
    prompt = sum(a.json()["usage"]["prompt_tokens"] for a in answers)
    completion = sum(a.json()["usage"]["completion_tokens"] for a in answers)
    cost = sum(float(a.headers["x-aigw-cost-usd"]) for a in answers)
    codes = []
    for i in range(2):
        refused = httpx.post(
            f"{gateway.url}/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": "not a list"},
            headers={**AUTH, "x-request-id": f"refused-{i}"},
        )
        assert refused.status_code == 400
        codes.append(refused.json()["error"]["code"])

    deadline = time.monotonic() + 10
    while True:
        points = _points(httpx.get(f"{gateway.url}/admin/api/metrics/summary", headers=AUTH).json())
        if sum(p["requests"] for p in points) >= 14 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sum(p["requests"] for p in points) == 14
    assert sum(p["refusals"] for p in points) == 2 and sum(p["errors"] for p in points) == 0
    reasons: dict[str, int] = {}
    for point in points:
        for reason, count in point["refusals_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    assert reasons == {codes[0]: 2} and codes[0] == codes[1]
    assert sum(p["prompt_tokens"] for p in points) == prompt
    assert sum(p["completion_tokens"] for p in points) == completion
    assert sum(p["cost_usd"] for p in points) == pytest.approx(cost, rel=1e-6)
    served = [p for p in points if p["requests"] and p["added_latency_ms"]["p50"] is not None]
    assert served and all(p["added_latency_ms"]["p95"] >= p["added_latency_ms"]["p50"] for p in served)
    hourly = httpx.get(f"{gateway.url}/admin/api/metrics/summary", params={"window": "7d", "step": "1h"}, headers=AUTH)
    assert sum(p["requests"] for p in _points(hourly.json())) == 14
    bad = httpx.get(f"{gateway.url}/admin/api/metrics/summary", params={"window": "1y"}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "window"


def test_trace_search_filters_and_pages_with_a_cursor(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, **TRACE_ENV))
    for i in range(7):
        assert chat(gateway.url, f"page-{i}").status_code == 200
    httpx.post(
        f"{gateway.url}/v1/embeddings", json={"model": "e", "input": "x"}, headers={**AUTH, "x-request-id": "e-1"}
    )
    listed_traces(gateway.url, AUTH, count=8)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "provider": "openai", "status": "ok"}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{gateway.url}/admin/api/traces", params=params, headers=AUTH).json()
        seen += [t["request_id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["e-1", *[f"page-{i}" for i in reversed(range(7))]]
    only = httpx.get(f"{gateway.url}/admin/api/traces", params={"request_id": "page-2"}, headers=AUTH).json()
    assert [t["request_id"] for t in only["data"]] == ["page-2"]
    assert httpx.get(f"{gateway.url}/admin/api/traces", params={"cursor": "!!"}, headers=AUTH).status_code == 400
    assert httpx.get(f"{gateway.url}/admin/api/traces", params={"model": "m" * 300}, headers=AUTH).status_code == 400
    assert httpx.get(f"{gateway.url}/admin/api/traces", params={"sql": "1"}, headers=AUTH).status_code == 400
    assert httpx.get(f"{gateway.url}/admin/api/traces").status_code == 401


def _points(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [point for series in summary["series"] for point in series["points"]]


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", headers=AUTH).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def _deltas(sse: str) -> list[str]:
    pieces = []
    for line in sse.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                pieces.append(choice.get("delta", {}).get("content") or "")
    return pieces

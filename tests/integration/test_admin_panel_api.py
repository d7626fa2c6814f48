"""The admin panel's own API over real `aigw serve` processes: provider health and the health check,
the effective policy with budgets against caps, the usage export as CSV, configuration sources,
and audit-log paging."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import GatewayProcess, MockUpstream

pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
FAST_TRACES = {"AI_TRACE_FLUSH_INTERVAL": "0.2", "AI_TRACE_SAMPLE_RATE": "1"}


def _chat(gateway: GatewayProcess, key: str = MASTER_KEY, count: int = 1) -> None:
    for _ in range(count):
        response = httpx.post(
            f"{gateway.url}/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text


def _get(gateway: GatewayProcess, path: str, **params: Any) -> Any:
    response = httpx.get(f"{gateway.url}{path}", headers=AUTH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _create_key(gateway: GatewayProcess, **spec: Any) -> dict[str, Any]:
    response = httpx.post(f"{gateway.url}/admin/api/keys", json=spec, headers=AUTH)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(openai_env(upstream, AI_BUDGET_DAILY="5", **FAST_TRACES))


def test_every_panel_route_needs_a_principal(gateway: GatewayProcess) -> None:
    for method, path in [
        ("GET", "/admin/api/providers/health"),
        ("POST", "/admin/api/providers/openai/check"),
        ("GET", "/admin/api/policy"),
        ("GET", "/admin/api/usage/export.csv"),
        ("GET", "/admin/api/config/sources"),
    ]:
        assert httpx.request(method, gateway.url + path).status_code == 401, path
    key = _create_key(gateway)["key"]
    refused = httpx.post(f"{gateway.url}/admin/api/providers/openai/check", headers={"authorization": f"Bearer {key}"})
    assert refused.status_code == 403  # a virtual key is a caller, not an admin
    assert refused.json()["error"]["code"] == "admin_only"


def test_provider_health_counts_every_call_from_the_rollups(gateway: GatewayProcess, upstream: MockUpstream) -> None:
    _chat(gateway, count=4)
    upstream.configure(error_rate=1.0, error_status=500)  # AI_OPENAI_MAX_RETRIES=0: one failed call each
    for _ in range(2):
        httpx.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=AUTH)

    def persisted() -> dict[str, Any] | None:
        entry = _get(gateway, "/admin/api/providers/health")["data"][0]
        return entry if entry["source"] == "rollups" and entry["calls"] == 6 else None

    entry = _eventually(persisted)
    assert entry is not None, str(_get(gateway, "/admin/api/providers/health")["data"][0])
    assert entry["name"] == "openai" and entry["circuit"]["state"] == "closed"
    assert entry["errors"] == 2 and entry["error_rate"] == pytest.approx(2 / 6, abs=1e-3)
    assert entry["latency_ms"]["p50"] is not None and entry["latency_ms"]["p95"] >= entry["latency_ms"]["p50"]


def test_the_health_check_reports_and_leaves_the_breaker_alone(gateway: GatewayProcess, upstream: MockUpstream) -> None:
    url = f"{gateway.url}/admin/api/providers/openai/check"
    answered = httpx.post(url, headers=AUTH).json()
    assert answered["ok"] is True and answered["task"] == "chat" and answered["latency_ms"] >= 0
    sent = json.loads(upstream.recorded()[-1]["body"])
    assert sent.get("max_tokens") == 1  # one output token: the cheapest call that proves the provider answers

    upstream.configure(error_rate=1.0, error_status=503)
    failed = httpx.post(url, headers=AUTH).json()
    assert failed["ok"] is False and "503" in failed["error"]
    circuit = _get(gateway, "/admin/api/providers/health")["data"][0]["circuit"]
    assert circuit["window_calls"] == 0 and circuit["window_failures"] == 0  # the probe is not traffic

    upstream.configure(error_rate=0.0, latency_ms=8000)
    started = time.monotonic()
    slow = httpx.post(url, headers=AUTH, timeout=20).json()
    assert slow["ok"] is False and "5 s" in slow["error"] and time.monotonic() - started < 7
    missing = httpx.post(f"{gateway.url}/admin/api/providers/nope/check", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "provider_not_found"


def test_policy_shows_limits_and_every_capped_budget_with_its_spend(gateway: GatewayProcess) -> None:
    key = _create_key(gateway, name="team", user="alice", rpm=30, budget_daily="2")
    _chat(gateway, key["key"], count=2)

    def spent() -> dict[str, Any] | None:
        policy = _get(gateway, "/admin/api/policy")
        rows = {(b["scope"], b["period"].split(":")[0]): b for b in policy["budgets"]}
        ours = rows.get((f"key:{key['id']}", "daily"))
        return policy if ours and ours["spent_usd"] > 0 else None

    policy = _eventually(spent)
    assert policy is not None
    assert policy["caps"]["budget_daily"] == 5
    budgets = {(b["scope"], b["period"].split(":")[0]): b for b in policy["budgets"]}
    mine, everyone = budgets[(f"key:{key['id']}", "daily")], budgets[("global", "daily")]
    assert mine["cap_usd"] == 2 and everyone["cap_usd"] == 5
    assert mine["percent"] == pytest.approx(100 * mine["spent_usd"] / 2, abs=1e-4)
    assert mine["spent_usd"] > 0
    assert everyone["spent_usd"] >= mine["spent_usd"]
    shown = next(k for k in policy["keys"] if k["id"] == key["id"])
    assert shown["rpm"] == 30 and shown["user"] == "alice" and "key" not in shown  # never the secret


def _csv(gateway: GatewayProcess, **params: str) -> list[list[str]]:
    response = httpx.get(f"{gateway.url}/admin/api/usage/export.csv", headers=AUTH, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


def test_usage_export_groups_the_spend_ledger_and_defuses_formulas(gateway: GatewayProcess) -> None:
    hostile = _create_key(gateway, user='=HYPERLINK("http://evil")', name="x")
    plain = _create_key(gateway, user="bob")
    _chat(gateway, hostile["key"], count=2)
    _chat(gateway, plain["key"], count=1)

    def by_user() -> list[list[str]] | None:
        rows = _csv(gateway, by="user")
        return rows if sum(int(r[1]) for r in rows[1:]) == 3 else None

    rows = _eventually(by_user)
    assert rows is not None, _csv(gateway, by="user")
    assert rows[0] == ["user", "requests", "prompt_tokens", "completion_tokens", "cost_usd", "estimated_requests"]
    users = {row[0]: row for row in rows[1:]}
    assert users['\'=HYPERLINK("http://evil")'][1] == "2"  # a quote first: text, never a formula
    assert users["bob"][1] == "1"
    days = _csv(gateway, by="day")
    assert len(days) == 2 and days[1][0] == time.strftime("%Y-%m-%d", time.gmtime()) and days[1][1] == "3"
    keys = {row[0]: row for row in _csv(gateway, by="key")[1:]}
    assert keys[hostile["id"]][1] == "2"
    models = _csv(gateway, by="model")
    assert [row[1] for row in models[1:]] == ["3"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "before"),
        ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "366"),
        ({"by": "provider"}, ""),
    ],
)
def test_usage_export_refuses_a_bad_range_or_grouping(
    gateway: GatewayProcess, params: dict[str, str], message: str
) -> None:
    response = httpx.get(f"{gateway.url}/admin/api/usage/export.csv", headers=AUTH, params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_config_sources_name_where_each_value_comes_from(
    upstream: MockUpstream, gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("AI_RATE_LIMIT_PER_IP=77\nAI_CACHE_TTL=60\n")  # the gateway runs in tmp_path
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"providers:\n  - name: main\n    type: openai\n    base_url: {upstream.url}/v1\n"
        "    api_key_env: AI_PROVIDER_MAIN_KEY\n"
    )
    env = openai_env(
        upstream,
        AI_BUDGET_DAILY="5",
        AI_CACHE_TTL="120",
        AI_CONFIG_FILE=str(config),
        AI_PROVIDER_MAIN_KEY="sk-provider-secret-123456",
    )
    gateway = gateway_factory(env)

    def sources() -> dict[tuple[str, str], dict[str, Any]]:
        data = _get(gateway, "/admin/api/config/sources")["data"]
        return {(v["group"], v["name"]): v for v in data}

    shown = sources()
    assert shown[("settings", "master_key")]["value"] == "***"
    assert shown[("settings", "master_key")]["source"] == "environment"
    assert shown[("settings", "openai_api_key")]["value"] == "***"
    assert shown[("settings", "rate_limit_per_ip")] | {"value": 77} == shown[("settings", "rate_limit_per_ip")]
    assert shown[("settings", "rate_limit_per_ip")]["source"] == ".env"
    assert shown[("settings", "cache_ttl")]["source"] == "environment"
    assert shown[("settings", "cache_ttl")]["shadows"] == [".env"]
    assert shown[("settings", "keepalive_timeout")]["source"] == "default"
    assert shown[("policy", "budget_daily")]["source"] == "environment"
    assert shown[("routing", "providers")]["source"] == "yaml"
    assert shown[("routing", "providers")]["value"][0]["name"] == "main"
    assert shown[("routing", "models")]["source"] == "default"
    text = str(shown)
    assert MASTER_KEY not in text and "sk-provider-secret" not in text

    changed = httpx.put(f"{gateway.url}/admin/api/config/budget_daily", json={"value": 9}, headers=AUTH)
    assert changed.status_code == 200, changed.text
    after = _eventually(lambda: (s := sources()) and s[("policy", "budget_daily")]["source"] == "runtime" and s)
    assert after, sources()[("policy", "budget_daily")]
    assert after[("policy", "budget_daily")]["value"] == 9
    assert after[("policy", "budget_daily")]["shadows"] == ["environment"]  # where drift starts: shown


def test_secrets_in_urls_are_masked_in_config_sources(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_ALERT_WEBHOOK_URL="https://hooks.example/x?token=s3cr3t-value"))
    data = _get(gateway, "/admin/api/config/sources")["data"]
    webhook = next(v for v in data if v["group"] == "settings" and v["name"] == "alert_webhook_url")
    assert webhook["value"] == "https://hooks.example/x?token=***"
    assert "s3cr3t-value" not in str(data)


def test_the_audit_log_pages_by_entry_id(gateway: GatewayProcess) -> None:
    for enabled in (False, True, False):
        response = httpx.put(f"{gateway.url}/admin/api/flags/chat_enabled", json={"enabled": enabled}, headers=AUTH)
        assert response.status_code == 200
    first = _get(gateway, "/admin/api/audit", limit=2)
    assert len(first["data"]) == 2 and first["next_before"] == first["data"][-1]["id"]
    second = _get(gateway, "/admin/api/audit", limit=2, before=first["next_before"])
    assert len(second["data"]) == 1 and second["next_before"] is None
    ids = [e["id"] for e in first["data"] + second["data"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert [e["new"] for e in first["data"] + second["data"]] == [False, True, False]


PAGES = [
    "/admin",
    "/admin/providers",
    "/admin/policy",
    "/admin/keys",
    "/admin/traces",
    "/admin/flags",
    "/admin/config",
    "/admin/audit",
    "/admin/traces/some-request-id",
]


def test_pages_are_served_signed_in_with_security_headers(gateway: GatewayProcess) -> None:
    for path in PAGES:
        anonymous = httpx.get(gateway.url + path)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/admin/login"), path
        page = httpx.get(gateway.url + path, headers=AUTH)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"  # a page carries its CSRF token
        assert MASTER_KEY not in page.text
    asset = httpx.get(f"{gateway.url}/admin/static/panel.js")
    assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    assert asset.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert httpx.get(f"{gateway.url}/admin/static/../../settings.py").status_code == 404
    unknown = httpx.get(f"{gateway.url}/admin/nope", headers=AUTH)
    assert unknown.status_code == 404, unknown.text

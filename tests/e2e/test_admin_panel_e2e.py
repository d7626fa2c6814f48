"""The admin panel as an operator uses it, in Chromium: sign in, read the overview after a known load
(it agrees with /metrics), find a request and open its waterfall, create and revoke a key, pull the
kill switch and see the API refuse provider calls, and as a viewer find every control disabled and
every change refused (403) even when sent from the page by hand."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import ADMIN, MASTER_KEY, VIEWER, Panel, screenshot, sign_in

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
CHAT = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Where is my order? Mail me at jo@example.com"}],
}
TRACED_ENDPOINTS = {"chat", "embeddings", "models"}  # the requests the dashboard counts


def _chat(panel: Panel, key: str = MASTER_KEY, request_id: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    if request_id:
        headers["x-request-id"] = request_id
    return httpx.post(f"{panel.url}/v1/chat/completions", json=CHAT, headers=headers, timeout=10)


def _metrics_requests(panel: Panel) -> int:
    text = httpx.get(f"{panel.url}/metrics", headers=AUTH).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "aigw_requests_total" and sample.labels.get("endpoint") in TRACED_ENDPOINTS:
                total += sample.value
    return int(total)


def _until(check: Any, timeout: float = 10.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def test_the_overview_agrees_with_metrics_after_a_known_load(context: Any, panel: Panel) -> None:
    page = sign_in(context, panel, None, MASTER_KEY)  # the master key, through the sign-in form
    before = _metrics_requests(panel)
    load = 12
    for _ in range(load):
        assert _chat(panel).status_code == 200
    assert _metrics_requests(panel) == before + load

    def shown() -> int | None:
        page.reload()
        page.wait_for_selector("body[data-loads]")
        value = int(page.text_content("[data-stat='requests']").replace(",", ""))
        return value if value == _metrics_requests(panel) else None

    assert _until(shown) == before + load
    assert page.text_content("[data-stat='error-rate']") == "0.00 %"
    assert page.locator("#chart-rate svg path.line").count() == 1
    assert page.text_content("#user-role") == "admin" and page.text_content("#user-name") == "master"
    assert page.text_content("#health-badge") == "ready"
    screenshot(page, "overview")
    assert page.errors == []


def test_find_a_request_by_its_id_and_open_its_waterfall(context: Any, panel: Panel) -> None:
    page = sign_in(context, panel, *ADMIN)
    request_id = f"e2e-{uuid.uuid4().hex[:12]}"
    assert _chat(panel, request_id=request_id).status_code == 200
    page.goto(f"{panel.url}/admin/traces")
    page.fill("input[name='request_id']", request_id)

    def found() -> bool:
        loads = page.get_attribute("body", "data-loads")
        page.click("#search-button")
        page.wait_for_function("n => document.body.dataset.loads !== n", arg=loads)
        return page.locator(f"a:text-is('{request_id}')").count() == 1

    assert _until(found), "the trace was not found by its request id"
    page.click(f"a:text-is('{request_id}')")
    page.wait_for_url(f"**/admin/traces/{request_id}")
    page.wait_for_selector(".waterfall svg rect.bar")
    labels = page.locator(".waterfall text.row-label").all_text_contents()
    assert "provider_attempt" in labels
    assert page.locator(".waterfall rect.bar").count() == len(labels)
    page.click("[data-previews]")  # admins only, and the reveal is audited
    prompt = page.locator("[data-preview='prompt']")
    prompt.wait_for()
    assert "jo@example.com" not in prompt.text_content()  # masked
    screenshot(page, "trace-waterfall")
    assert page.errors == []


def test_keys_are_created_shown_once_and_revoked_from_the_page(context: Any, panel: Panel) -> None:
    page = sign_in(context, panel, *ADMIN)
    page.goto(f"{panel.url}/admin/keys")
    page.click("#create-key")
    page.fill("#create-form input[name='name']", "e2e-key")
    page.fill("#create-form input[name='rpm']", "60")
    page.click("#create-submit")
    secret = page.locator("[data-secret]")
    secret.wait_for()
    token = secret.input_value()
    assert token.startswith("sk-aigw-")
    screenshot(page, "key-created")
    page.click("dialog[open] button[type='submit']")
    assert httpx.get(f"{panel.url}/v1/models", headers={"authorization": f"Bearer {token}"}).status_code == 200
    page.wait_for_selector("td:has-text('e2e-key')")
    assert token not in page.content()  # the list never shows a secret
    page.locator("tr:has(td:has-text('e2e-key')) button[data-admin-only]").click()
    page.click("dialog[open] [data-confirm-ok]")
    page.wait_for_selector("tr:has(td:has-text('e2e-key')) >> text=Revoke", state="detached")
    revoked = _until(
        lambda: httpx.get(f"{panel.url}/v1/models", headers={"authorization": f"Bearer {token}"}).status_code == 401
    )
    assert revoked
    assert page.errors == []


def test_the_kill_switch_stops_provider_calls_and_starts_them_again(context: Any, panel: Panel) -> None:
    page = sign_in(context, panel, *ADMIN)
    page.goto(f"{panel.url}/admin/flags")
    page.wait_for_selector("#kill-switch[data-enabled='true']")

    def flip() -> None:
        page.click("#kill-toggle")
        confirm = page.locator("dialog[open] [data-confirm-ok]")
        assert confirm.is_disabled()  # the flag's name must be typed first
        page.fill("dialog[open] [data-confirm-input]", "ai_enable")
        assert confirm.is_disabled()
        page.fill("dialog[open] [data-confirm-input]", "ai_enabled")
        confirm.click()

    flip()
    page.wait_for_selector("#kill-switch[data-enabled='false']")
    refused = _until(lambda: (r := _chat(panel)).status_code == 503 and r, timeout=5)
    assert refused, "provider calls were not refused within 5 s"
    assert refused.json()["error"]["type"]
    screenshot(page, "kill-switch-off")
    flip()
    page.wait_for_selector("#kill-switch[data-enabled='true']")
    assert _until(lambda: _chat(panel).status_code == 200, timeout=5)
    page.goto(f"{panel.url}/admin/audit")
    page.wait_for_selector("td:has-text('flag:ai_enabled')")
    assert page.locator("tr:has(td:has-text('flag:ai_enabled')) >> text=admin:ada").count() >= 2
    assert page.errors == []


_CHANGES = [
    ("PUT", "/admin/api/flags/ai_enabled", {"enabled": False}),
    ("POST", "/admin/api/keys", {"name": "by-a-viewer"}),
    ("DELETE", "/admin/api/keys/anything", None),
    ("PUT", "/admin/api/config/budget_daily", {"value": 1}),
    ("DELETE", "/admin/api/config/budget_daily", None),
    ("POST", "/admin/api/providers/openai/check", None),
]
_FETCH = """async ([method, path, body]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const init = {method, headers: {"x-csrf-token": csrf, "content-type": "application/json"}};
  if (body !== null) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  return [response.status, (await response.json()).error?.code ?? null];
}"""


def test_a_viewer_sees_everything_and_changes_nothing(context: Any, panel: Panel) -> None:
    httpx.post(f"{panel.url}/admin/api/keys", json={"name": "seen-by-viewer"}, headers=AUTH)  # a revoke button to check
    page = sign_in(context, panel, *VIEWER)
    assert page.text_content("#user-role") == "viewer"
    ready = {
        "": "body[data-loads]",
        "providers": "[data-provider] button",
        "keys": "td:has-text('seen-by-viewer')",
        "flags": "#flags button",
        "policy": "#limits dt",
        "traces": "body[data-loads]",
        "config": "[data-group='settings'] tbody tr",
        "audit": "body[data-loads]",
    }
    for slug, selector in ready.items():
        page.goto(f"{panel.url}/admin/{slug}".rstrip("/"))
        page.wait_for_selector(selector)
        controls = page.locator("[data-admin-only]")
        for index in range(controls.count()):
            control = controls.nth(index)
            assert control.is_disabled(), f"{slug}: an enabled control for a viewer"
            assert control.get_attribute("title") == "viewers cannot change settings"
        if slug == "flags":
            assert controls.count() >= 2
            screenshot(page, "viewer-flags")
    for change in _CHANGES:
        status, code = page.evaluate(_FETCH, list(change))
        assert status == 403, (change, status, code)
        assert code == "admin_only"
    assert httpx.get(f"{panel.url}/admin/api/flags", headers=AUTH).json()["effective"]["ai_enabled"] is True
    page.click("#sign-out")
    page.wait_for_url("**/admin/login**")
    page.goto(f"{panel.url}/admin/keys")
    page.wait_for_url("**/admin/login**")  # the session is over
    assert page.errors == []

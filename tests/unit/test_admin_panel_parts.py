"""Pure parts of the admin panel: provider health figures, the usage export's cells and ranges, the
attribution of failed requests to a provider, and the pages' safety rules (viewers' controls disabled,
no inline script, data never written as HTML)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from aigw.admin_ui import NAVIGATION, STATIC_DIR, render
from aigw.admin_ui.pages import TRACE_DETAIL
from aigw.api.admin_access import Principal
from aigw.breaker import CircuitBreaker
from aigw.client import AIClient
from aigw.control.provider_health import process_window
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.providers.stub import StubProvider, StubProviderConfig
from aigw.retry import RetryPolicy
from aigw.store.traces.record import facts_of
from aigw.store.usage_export import MAX_RANGE, InvalidRange, safe_cell, usage_range

VIEWER = Principal("bob", "viewer", "session", "csrf-token-of-bob")
ADMIN = Principal("alice", "admin", "session", "csrf-token-of-alice")


def test_a_request_failed_on_every_provider_counts_against_the_last_one_tried() -> None:
    trace = Trace("r1", http_status=502)
    trace.span("provider_attempt", provider="primary", attempt=1).fail("http_500")
    trace.span("provider_attempt", provider="backup", attempt=1).fail("timeout")
    trace.status = "error"
    facts = facts_of(trace)
    assert facts.provider == "backup" and facts.error
    assert facts_of(Trace("r2", http_status=401)).provider == ""  # refused before any provider


def test_process_figures_come_from_the_breaker_window_and_the_latency_histogram() -> None:
    metrics = GatewayMetrics()
    client = AIClient(StubProvider(StubProviderConfig(name="stub")), RetryPolicy(0, 0, 0), CircuitBreaker(), metrics)
    assert process_window(client, metrics)["latency_ms"] == {"p50": None, "p95": None}
    for seconds in [0.003] * 90 + [0.7] * 10:
        metrics.observe_attempt("stub", "ok", seconds)
    for _ in range(3):
        client.breaker.record_success()
    client.breaker.record_failure()
    figures = process_window(client, metrics)
    assert figures["calls"] == 4 and figures["errors"] == 1 and figures["error_rate"] == 0.25
    assert 2.5 <= figures["latency_ms"]["p50"] <= 5.0  # inside the 2.5-5 ms bucket
    assert 500 <= figures["latency_ms"]["p95"] <= 1000


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["alice", "a=b", "", None, 12, "0.5"])
def test_other_cells_are_kept(value: object) -> None:
    assert safe_cell(value) == ("" if value is None else str(value))


def test_export_ranges_default_to_30_days_and_are_bounded() -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert usage_range(None, None, now) == (now - dt.timedelta(days=30), now)
    naive = dt.datetime(2026, 5, 1)
    assert usage_range(naive, None, now)[0] == naive.replace(tzinfo=dt.UTC)
    with pytest.raises(InvalidRange):
        usage_range(now, now)
    with pytest.raises(InvalidRange):
        usage_range(now - MAX_RANGE - dt.timedelta(seconds=1), now)


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.admin_only: list[dict[str, str | None]] = []
        self.inline_scripts = 0
        self.meta_csrf: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-admin-only" in found:
            self.admin_only.append(found)
        if tag == "script" and "src" not in found:
            self.inline_scripts += 1
        if tag == "meta" and found.get("name") == "csrf-token":
            self.meta_csrf = found.get("content")
        if any(name.startswith("on") for name in found):
            self.inline_scripts += 1  # an inline handler is inline script too


def _pages(principal: Principal) -> list[_Controls]:
    parsed = []
    for page in (*NAVIGATION, TRACE_DETAIL):
        html = render(
            page,
            principal=principal,
            is_admin=principal.is_admin,
            csrf_token=principal.csrf_token,
            version="0",
            request_id="<script>alert(1)</script>",
        )
        assert "<script>alert(1)</script>" not in html  # data is escaped
        controls = _Controls()
        controls.feed(html)
        parsed.append(controls)
    return parsed


def test_a_viewer_gets_every_control_disabled_with_the_reason() -> None:
    pages = _pages(VIEWER)
    controls = [c for page in pages for c in page.admin_only]
    assert len(controls) >= 2  # create key, the kill switch
    for control in controls:
        assert "disabled" in control and control.get("title") == "viewers cannot change settings"
    assert all(page.meta_csrf == "csrf-token-of-bob" for page in pages)


def test_an_admin_gets_the_controls_enabled() -> None:
    controls = [c for page in _pages(ADMIN) for c in page.admin_only]
    assert controls and not any("disabled" in control for control in controls)


def test_pages_have_no_inline_script() -> None:
    assert all(page.inline_scripts == 0 for page in _pages(ADMIN) + _pages(VIEWER))


def test_scripts_never_write_data_as_html() -> None:
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\"on"
    )
    for script in STATIC_DIR.glob("*.js"):
        assert not sinks.search(script.read_text()), script.name

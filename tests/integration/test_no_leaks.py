"""Planted secrets and personal data never reach the logs or the stored traces."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory, openai_env
from tests.support.processes import MockUpstream
from tests.support.traces import TRACE_ENV, listed_traces

pytestmark = pytest.mark.integration

PLANTED = [
    "jane.doe+vip@example.org",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "sk-proj-PLANTEDsecret0123456789abcdef",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
]


def test_secrets_and_pii_stay_out_of_logs_and_traces(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_LOG_LEVEL="DEBUG", **TRACE_ENV))
    auth = {"authorization": f"Bearer {MASTER_KEY}"}
    text = "Contact " + ", ".join(PLANTED)
    ok = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "user": PLANTED[0]},
        headers=auth,
    )
    assert ok.status_code == 200
    streamed = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "stream": True},
        headers=auth,
    )
    assert streamed.status_code == 200
    # A wrong key that is itself a secret, a model name and a path carrying personal data.
    httpx.post(
        f"{gateway.url}/v1/chat/completions", json={"model": "m"}, headers={"authorization": f"Bearer {PLANTED[3]}"}
    )
    httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": PLANTED[0], "messages": [{"role": "user", "content": "x"}], "temperature": PLANTED[1]},
        headers=auth,
    )
    httpx.get(f"{gateway.url}/v1/{PLANTED[0]}/{PLANTED[2].replace(' ', '-')}", headers=auth)
    upstream.configure(error_rate=1.0, error_status=500)
    httpx.post(f"{gateway.url}/v1/embeddings", json={"model": "e", "input": text}, headers=auth)

    traces = listed_traces(gateway.url, auth, count=5, limit=100, previews="true")
    full_traces = [
        httpx.get(f"{gateway.url}/admin/api/traces/{t['request_id']}", params={"previews": "true"}, headers=auth).text
        for t in traces
    ]
    assert any(t.get("prompt_preview") for t in traces)  # the previews were looked at, and hold none of them
    gateway.stop()  # flushes the log writer
    logs = gateway.logs()
    assert logs.count('"msg":"request"') >= 6, logs
    stored = logs + "\n".join(full_traces)
    for secret in [*PLANTED, MASTER_KEY, UPSTREAM_KEY, PLANTED[2].replace(" ", "-"), "jane.doe"]:
        assert secret not in stored, f"{secret!r} leaked"

"""The admin API cannot route the gateway's own secrets to a provider, and shows no secret of a
routing entry: not in its answer to the change, not in the config view, not in the audit log."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.helpers import ADMIN
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration
HEADER_SECRET = "hdr-secret-5f0e1d"
QUERY_SECRET = "qp-secret-9a8b7c"


def set_routing(url: str, value: object) -> httpx.Response:
    return httpx.put(f"{url}/admin/api/config/routing", json={"value": value}, headers=ADMIN, timeout=10)


def test_routing_may_not_read_the_master_key(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY})
    for name in ("AI_MASTER_KEY", "AI_DATABASE_URL", "HOME"):
        refused = set_routing(
            gateway.url,
            {"providers": [{"name": "exfil", "type": "openai", "base_url": f"{upstream.url}/v1", "api_key_env": name}]},
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid_config"
        assert "api_key_env" in refused.json()["error"]["message"]
    stored = httpx.get(f"{gateway.url}/admin/api/config", headers=ADMIN, timeout=10).json()["stored"]
    assert "routing" not in stored


def test_config_view_and_audit_mask_header_and_query_secrets(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY, "AI_OPENAI_API_KEY": UPSTREAM_KEY})
    routing = {
        "providers": [
            {
                "name": "proxy",
                "type": "openai",
                "base_url": f"{upstream.url}/v1",
                "api_key_env": "AI_OPENAI_API_KEY",
                "headers": {"X-Api-Key": HEADER_SECRET, "X-Team": "search"},
                "query_params": {"api-version": "2024-10-21", "key": QUERY_SECRET},
            }
        ]
    }
    changed = set_routing(gateway.url, routing)
    assert changed.status_code == 200, changed.text
    shown = httpx.get(f"{gateway.url}/admin/api/config", headers=ADMIN, timeout=10)
    audit = httpx.get(f"{gateway.url}/admin/api/audit", headers=ADMIN, timeout=10)
    unset = httpx.delete(f"{gateway.url}/admin/api/config/routing", headers=ADMIN, timeout=10)
    for answer in (changed, shown, audit, unset):
        assert answer.status_code == 200
        assert HEADER_SECRET not in answer.text and QUERY_SECRET not in answer.text
        assert UPSTREAM_KEY not in answer.text
    stored = shown.json()["stored"]["routing"]["providers"][0]
    assert stored["headers"] == {"X-Api-Key": "***", "X-Team": "search"}
    assert stored["query_params"] == {"api-version": "2024-10-21", "key": "***"}
    assert shown.json()["effective"]["routing"]["providers"][0]["headers"]["X-Api-Key"] == "***"
    entry = next(e for e in audit.json()["data"] if e["target"] == "config:routing")
    assert entry["new"]["providers"][0]["headers"] == {"X-Api-Key": "***", "X-Team": "search"}

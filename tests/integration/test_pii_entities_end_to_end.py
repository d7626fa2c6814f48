"""Names and addresses through a running gateway: a key created with `pii_entities: all` (what `aigw keys
create --pii-entities all` stores) has them masked before the upstream sees them, a key without it
does not; `pii_entities` set at run time (`aigw config set`, the admin API) applies to every call."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
TICKET = (
    "Hi Anna,\nplease send the replacement to\nHauptstraße 5\n10115 Berlin\n"
    "and copy anna.schmidt@example.de.\n\nBest regards,\nJohn Smith"
)
NAMES_AND_ADDRESS = ("Anna", "Hauptstraße 5", "10115 Berlin", "John Smith")


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


def _env(scripted: ScriptedUpstream) -> dict[str, str]:
    return {"AI_MASTER_KEY": MASTER_KEY, "AI_OPENAI_API_KEY": UPSTREAM_KEY, "AI_OPENAI_BASE_URL": scripted.url}


def _chat(url: str, token: str) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": TICKET}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {token}"}, timeout=30)


def test_a_key_with_all_entities_masks_names_and_addresses(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(_env(scripted))
    created = httpx.post(
        f"{gateway.url}/admin/api/keys", json={"user": "u", "settings": {"pii_entities": "all"}}, headers=AUTH
    )
    assert created.status_code in (200, 201), created.text
    plain = httpx.post(f"{gateway.url}/admin/api/keys", json={"user": "v"}, headers=AUTH).json()["key"]
    scripted.then(Answer(echo=True), Answer(echo=True))

    assert _chat(gateway.url, created.json()["key"]).status_code == 200
    masked = json.dumps(scripted.bodies[0], ensure_ascii=False)
    assert [v for v in NAMES_AND_ADDRESS if v in masked] == []
    assert "<PERSON_1>" in masked and "<ADDRESS_1>" in masked and "<EMAIL_1>" in masked

    assert _chat(gateway.url, plain).status_code == 200
    default = json.dumps(scripted.bodies[1], ensure_ascii=False)
    assert "John Smith" in default and "Hauptstraße 5" in default and "<EMAIL_1>" in default

    bad = httpx.post(f"{gateway.url}/admin/api/keys", json={"settings": {"pii_entities": "names"}}, headers=AUTH)
    assert bad.status_code == 400 and "unknown PII type 'names'" in bad.text


def test_pii_entities_set_at_run_time_apply_to_every_call(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(_env(scripted))
    changed = httpx.put(f"{gateway.url}/admin/api/config/pii_entities", json={"value": "all"}, headers=AUTH)
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 15
    while True:  # the change reaches the serving process within a poll interval
        scripted.then(Answer(echo=True))
        assert _chat(gateway.url, MASTER_KEY).status_code == 200
        sent = json.dumps(scripted.bodies[-1], ensure_ascii=False)
        if "<PERSON_1>" in sent or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [v for v in NAMES_AND_ADDRESS if v in sent] == []
    refused = httpx.put(f"{gateway.url}/admin/api/config/pii_entities", json={"value": "NAMES"}, headers=AUTH)
    assert refused.status_code == 400 and "unknown PII type" in refused.text

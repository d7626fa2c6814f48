"""Prompt templates from the configuration on two replicas sharing PostgreSQL and Redis: a new
version defined and made active on one replica renders on the other within 5 s; a definition that
does not compile, or an active version that does not exist, is refused before it is stored."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.helpers import ADMIN, wait_until
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration
CONFIG_BOUND_S = 5.0

GREETING_V2 = {
    "name": "greeting",
    "version": 2,
    "variables": {"who": {"type": "str"}},
    "messages": [{"role": "system", "content": "Greet {{ who }} in one word."}],
}


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


def env_for(upstream: ScriptedUpstream, stores: dict[str, str]) -> dict[str, str]:
    return {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": upstream.url,
        "AI_OPENAI_MAX_RETRIES": "0",
        **stores,
    }


def set_config(url: str, key: str, value: object) -> httpx.Response:
    return httpx.put(f"{url}/admin/api/config/{key}", json={"value": value}, headers=ADMIN, timeout=10)


def render(url: str, template: str, **variables: object) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "template": template, "variables": variables}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=ADMIN, timeout=10)


def test_a_template_version_set_on_one_replica_renders_on_the_other_within_5_s(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str]
) -> None:
    first, second = gateway_factory(env_for(scripted, shared_stores)), gateway_factory(env_for(scripted, shared_stores))
    scripted.then(*[Answer() for _ in range(200)])
    assert render(second.url, "greeting", who="Ada").json()["error"]["code"] == "invalid_template"
    assert set_config(first.url, "prompt_templates", {"greeting@2": GREETING_V2}).status_code == 200
    assert set_config(first.url, "template_versions", {"greeting": 2}).status_code == 200
    waited = wait_until(lambda: render(second.url, "greeting", who="Ada").status_code == 200, CONFIG_BOUND_S)
    print(f"template seen by the other replica after {waited:.2f}s")
    assert scripted.bodies[-1]["messages"] == [{"role": "system", "content": "Greet Ada in one word."}]
    assert "template" not in scripted.bodies[-1] and "variables" not in scripted.bodies[-1]


def test_templates_that_do_not_work_are_refused_before_they_are_stored(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(env_for(scripted, {}))
    broken = {**GREETING_V2, "messages": [{"role": "system", "content": "{{ who "}]}
    refused = set_config(gateway.url, "prompt_templates", {"greeting@2": broken})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_config"
    missing = set_config(gateway.url, "template_versions", {"summarize": 7})
    assert missing.status_code == 400 and "no version" in missing.json()["error"]["message"]
    stored = httpx.get(f"{gateway.url}/admin/api/config", headers=ADMIN).json()["stored"]
    assert "prompt_templates" not in stored and "template_versions" not in stored

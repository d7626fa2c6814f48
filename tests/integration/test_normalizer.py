"""Answers in one shape over real HTTP: the metadata headers on every answer, usage present even
when the provider sent none, and `response_format` answers checked with one repair call; hostile
schemas refused before any provider call (the scripted upstream records every body it receives),
references never fetched (a real HTTP server counts its hits), a backtracking pattern judged at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.counting_http import CountingServer
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}}
METADATA = (
    "x-request-id",
    "x-aigw-provider",
    "x-aigw-deployment",
    "x-aigw-model",
    "x-aigw-attempts",
    "x-aigw-latency-ms",
    "x-aigw-fallback",
    "x-aigw-cost-usd",
)


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def gateway_url(scripted: ScriptedUpstream, gateway_factory: GatewayFactory) -> str:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": scripted.url,
        "AI_OPENAI_MAX_RETRIES": "0",
    }
    return gateway_factory(env).url


def chat(url: str, **body: object) -> httpx.Response:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Biggest city of Japan?"}], **body}
    return httpx.post(f"{url}/v1/chat/completions", json=payload, headers=AUTH, timeout=10)


def test_every_answer_carries_the_same_metadata(scripted: ScriptedUpstream, gateway_url: str) -> None:
    scripted.then(Answer(), Answer(stream_chunks=3, stream_usage=True))
    plain = chat(gateway_url)
    with httpx.stream(
        "POST",
        f"{gateway_url}/v1/chat/completions",
        headers=AUTH,
        json={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as streamed:
        events = [json.loads(line[6:]) for line in streamed.iter_lines() if line.startswith("data: {")]
    assert "cost_usd" in events[-1]["usage"]  # a stream's cost comes in its usage chunk, after the headers
    for answer in (plain, streamed):
        assert answer.status_code == 200
        expected = METADATA if answer is plain else [h for h in METADATA if h != "x-aigw-cost-usd"]
        missing = [h for h in expected if h not in answer.headers]
        assert missing == [], missing
        assert answer.headers["x-aigw-fallback"] == "false" and answer.headers["x-aigw-model"] == "gpt-4o-mini"
        assert float(answer.headers["x-aigw-latency-ms"]) >= 0
    assert plain.headers["x-aigw-usage"] == "provider"


def test_usage_is_estimated_when_the_provider_sends_none(scripted: ScriptedUpstream, gateway_url: str) -> None:
    scripted.then(Answer(content="Tokyo is the largest city.", usage=False))
    answer = chat(gateway_url)
    assert answer.status_code == 200
    usage = answer.json()["usage"]
    assert answer.headers["x-aigw-usage"] == "estimated"
    assert (
        usage["completion_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    )


def test_a_valid_json_schema_answer_passes_with_no_extra_call(scripted: ScriptedUpstream, gateway_url: str) -> None:
    scripted.then(Answer(content=json.dumps({"city": "Tokyo", "population": 14000000})))
    answer = chat(gateway_url, response_format=FORMAT)
    assert answer.status_code == 200
    assert json.loads(answer.json()["choices"][0]["message"]["content"])["city"] == "Tokyo"
    assert len(scripted.bodies) == 1


def test_an_invalid_answer_is_repaired_once_and_both_calls_are_counted(
    scripted: ScriptedUpstream, gateway_url: str
) -> None:
    scripted.then(
        Answer(content='{"city": "Tokyo", "population": "many"}'),
        Answer(content=json.dumps({"city": "Tokyo", "population": 14000000})),
    )
    client = OpenAI(base_url=f"{gateway_url}/v1", api_key=MASTER_KEY, max_retries=0)
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Biggest city of Japan?"}],
        response_format=FORMAT,  # type: ignore[arg-type]
    )
    assert json.loads(completion.choices[0].message.content or "") == {"city": "Tokyo", "population": 14000000}
    assert completion.usage is not None and completion.usage.total_tokens == 8  # 4 + 4: both calls
    assert len(scripted.bodies) == 2
    repair = scripted.bodies[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"city": "Tokyo", "population": "many"}'}
    assert "population" in repair[-1]["content"] and "integer" in repair[-1]["content"]


def test_still_invalid_after_the_repair_is_a_clear_502(scripted: ScriptedUpstream, gateway_url: str) -> None:
    scripted.then(Answer(content="Sure! Tokyo."), Answer(content="Tokyo, about 14 million"))
    answer = chat(gateway_url, response_format={"type": "json_object"})
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["code"] == "invalid_response_format"
    assert "not valid JSON" in error["message"] and "Tokyo" not in error["message"]  # says why, never the content
    assert len(scripted.bodies) == 2


def test_a_schema_that_is_not_json_schema_is_a_400_before_any_call(
    scripted: ScriptedUpstream, gateway_url: str
) -> None:
    bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "no-such-type"}}}
    answer = chat(gateway_url, response_format=bad)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "response_format"
    assert scripted.bodies == []


def json_schema(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}


def test_hostile_schemas_are_refused_before_any_provider_call(scripted: ScriptedUpstream, gateway_url: str) -> None:
    with CountingServer({"type": "string"}) as schemas:
        refused = {
            f"{schemas.url}/s.json": {"$ref": f"{schemas.url}/s.json"},
            "#/$defs/missing": {"$ref": "#/$defs/missing"},
            "file:///etc/hostname": {"$ref": "file:///etc/hostname"},
            "loops back": {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
            "RE2 cannot run": {"type": "string", "pattern": "^(a)\\1$"},
            "more than 2000 values": {"enum": list(range(3_000))},
        }
        for named, schema in refused.items():
            answer = chat(gateway_url, response_format=json_schema(schema))
            assert answer.status_code == 400, answer.text
            error = answer.json()["error"]
            assert (error["type"], error["param"], error["code"]) == (
                "invalid_request_error",
                "response_format",
                "invalid_value",
            )
            assert named in error["message"]
        assert schemas.hits == []
    assert scripted.bodies == []


def test_a_backtracking_pattern_is_judged_at_once(scripted: ScriptedUpstream, gateway_url: str) -> None:
    crafted = json.dumps("a" * 40 + "!")  # 2^40 steps for a backtracking engine
    scripted.then(Answer(content=crafted), Answer(content=crafted))
    started = time.monotonic()
    answer = chat(gateway_url, response_format=json_schema({"type": "string", "pattern": "^(a+)+$"}))
    assert time.monotonic() - started < 5
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "invalid_response_format"
    assert "fails 'pattern'" in answer.json()["error"]["message"]
    assert len(scripted.bodies) == 2  # the answer, then one repair

    scripted.then(Answer(content=json.dumps("aaaa")))
    assert chat(gateway_url, response_format=json_schema({"type": "string", "pattern": "^(a+)+$"})).status_code == 200

"""PII through a running gateway over real HTTP: in `mask` mode nothing planted reaches the upstream
(everything it received is recorded by the mock's --record), the logs or the stored traces; `restore`
puts the originals back into plain and streamed answers; `block` refuses and sends nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from faker import Faker

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory, openai_env
from tests.support.processes import MockUpstream
from tests.support.scripted_upstream import Answer, ScriptedUpstream
from tests.support.traces import TRACE_ENV, listed_traces, stored_traces

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}


def planted_values(seed: int = 7) -> list[str]:
    """Structured personal data and secrets, generated (several locales), as they would be written."""
    fake = Faker(["en_US", "de_DE", "fr_FR", "nl_NL"])
    fake.seed_instance(seed)
    return [
        fake["en_US"].email(),
        fake["de_DE"].email(),
        "+49 30 901820",
        "+1 (415) 555-2671",
        fake["en_US"].credit_card_number(card_type="visa16"),
        "5500-0000-0000-0004",
        fake["de_DE"].iban(),
        fake["nl_NL"].iban(),
        fake["en_US"].ssn(),
        "203.0.113.77",
        "2001:db8:85a3::8a2e:370:7334",
        "sk-proj-" + fake.pystr(min_chars=40, max_chars=40),
        "AKIA" + fake.pystr(min_chars=16, max_chars=16).upper(),
        "ghp_" + fake.pystr(min_chars=36, max_chars=36),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ]


@pytest.fixture
def planted() -> list[str]:
    return planted_values()


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


def prose(values: list[str]) -> str:
    return "Customer file: " + "; ".join(f"item {i}: {v}" for i, v in enumerate(values)) + ". Please summarise."


def test_mask_mode_sends_no_planted_value_anywhere(
    upstream: MockUpstream, gateway_factory: GatewayFactory, planted: list[str]
) -> None:
    upstream.reset()
    assert upstream.record is not None
    upstream.record.write_text("")
    gateway = gateway_factory(openai_env(upstream, AI_LOG_LEVEL="DEBUG", **TRACE_ENV))
    text = prose(planted)
    half = len(planted) // 2
    calls = [
        {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": text}, {"role": "user", "content": "go"}]},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "stream": True},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]},
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "user", "content": "file it"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "store", "arguments": json.dumps({"values": planted[:half]})},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"stored": planted[half:]})},
            ],
        },
    ]
    for body in calls:
        answer = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=AUTH)
        assert answer.status_code == 200, answer.text
    embedded = httpx.post(
        f"{gateway.url}/v1/embeddings", json={"model": "text-embedding-3-small", "input": [text, "x"]}, headers=AUTH
    )
    assert embedded.status_code == 200, embedded.text

    received = upstream.recorded()
    assert len(received) == len(calls) + 1  # every call reached the upstream ...
    sent = json.dumps(received)
    assert "<EMAIL_1>" in sent and "<SECRET_1>" in sent  # ... masked
    traces = listed_traces(gateway.url, AUTH, count=len(calls) + 1, limit=50, previews="true")
    stored = [trace for t in traces for trace in stored_traces(gateway.url, t["request_id"], AUTH, previews="true")]
    pii_counts = [t["pii"] for t in stored if t.get("pii")]
    assert len(pii_counts) == len(calls) + 1 and all(counts["EMAIL"] >= 1 for counts in pii_counts)
    gateway.stop()
    everything = sent + gateway.logs() + json.dumps(stored)
    leaked = [v for v in planted if v in everything or v.replace(" ", "") in everything]
    assert leaked == [], f"{len(leaked)} planted values found: {leaked}"
    for secret in (MASTER_KEY, UPSTREAM_KEY):
        assert secret not in gateway.logs() + json.dumps(stored)


def test_restore_mode_puts_originals_back_in_plain_and_streamed_answers(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory, planted: list[str]
) -> None:
    gateway = gateway_factory(
        {
            "AI_MASTER_KEY": MASTER_KEY,
            "AI_OPENAI_API_KEY": UPSTREAM_KEY,
            "AI_OPENAI_BASE_URL": scripted.url,
            "AI_OPENAI_MAX_RETRIES": "0",
            "AI_PII_MODE": "restore",
        }
    )
    text = prose(planted)
    scripted.then(Answer(echo=True), Answer(echo=True, stream_chunks=97))
    plain = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
        headers=AUTH,
    )
    assert plain.status_code == 200, plain.text
    assert plain.json()["choices"][0]["message"]["content"] == text
    with httpx.stream(
        "POST",
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "stream": True},
        headers=AUTH,
    ) as streamed:
        lines = [line for line in streamed.iter_lines() if line.startswith("data: {")]
    pieces = [json.loads(line[6:])["choices"] for line in lines]
    assert "".join(c[0]["delta"].get("content") or "" for c in pieces if c) == text
    upstream_saw = json.dumps(scripted.bodies)
    assert [v for v in planted if v in upstream_saw] == []  # what left was masked all the same


def test_a_key_in_block_mode_is_refused_and_nothing_is_sent(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory, planted: list[str]
) -> None:
    gateway = gateway_factory(
        {"AI_MASTER_KEY": MASTER_KEY, "AI_OPENAI_API_KEY": UPSTREAM_KEY, "AI_OPENAI_BASE_URL": scripted.url}
    )
    created = httpx.post(
        f"{gateway.url}/admin/api/keys", json={"user": "u", "settings": {"pii_mode": "block"}}, headers=AUTH
    )
    assert created.status_code in (200, 201), created.text
    key = created.json()["key"]
    refused = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prose(planted[:3])}]},
        headers={"authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "pii_detected" and "EMAIL: 2" in error["message"]
    assert all(v not in refused.text for v in planted)
    clean = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "nothing personal here"}]},
        headers={"authorization": f"Bearer {key}"},
    )
    assert clean.status_code == 200
    assert len(scripted.bodies) == 1  # only the clean call went out
    bad = httpx.post(f"{gateway.url}/admin/api/keys", json={"settings": {"pii_mode": "shout"}}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"

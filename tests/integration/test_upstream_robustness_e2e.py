"""Through a running gateway over real HTTP, with an upstream that writes raw bytes: a malformed
answer is retried into a 200, a stream that breaks half-way ends with an error event and
`data: [DONE]`, a `retry-after: inf` is a clean 429, and text in tool descriptions and metadata
reaches the upstream masked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory
from tests.support.processes import GatewayProcess
from tests.support.raw_upstream import RawAnswer, RawUpstream, chunk_event, http_answer, sse_answer

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
EMAIL = "jane.doe@example.com"


@pytest.fixture
def raw() -> Iterator[RawUpstream]:
    server = RawUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def gateway(raw: RawUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(
        {
            "AI_MASTER_KEY": MASTER_KEY,
            "AI_OPENAI_API_KEY": "sk-up",
            "AI_OPENAI_BASE_URL": raw.url,
            "AI_OPENAI_MAX_RETRIES": "1",
            "AI_RETRY_BACKOFF_BASE": "0.01",
            "AI_OPENAI_TIMEOUT": "5",
            "AI_CACHE_ENABLED": "false",
        }
    )


def post(gateway: GatewayProcess, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers=AUTH, timeout=30)


def test_a_malformed_answer_is_retried_into_a_200(raw: RawUpstream, gateway: GatewayProcess) -> None:
    raw.then(RawAnswer((b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",)))
    response = post(gateway, CHAT)
    assert response.status_code == 200, response.text
    assert raw.arrivals == 2


def test_malformed_answers_every_time_are_a_clean_502(raw: RawUpstream, gateway: GatewayProcess) -> None:
    raw.then(*[RawAnswer((b"HTTP/1.1 twohundred\r\n\r\n",)) for _ in range(2)])
    response = post(gateway, CHAT)
    assert response.status_code == 502
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert response.json()["error"]["code"] == "upstream_bad_response"


def events_of(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]


@pytest.mark.parametrize(
    "broken",
    [b"{not json", b"x" * (9 * 1024 * 1024)],
    ids=["event not JSON", "event over 8 MiB"],
)
def test_a_stream_broken_half_way_ends_with_an_error_event_and_done(
    raw: RawUpstream, gateway: GatewayProcess, broken: bytes
) -> None:
    raw.then(sse_answer(chunk_event("Hello"), broken))
    response = post(gateway, {**CHAT, "stream": True})
    assert response.status_code == 200
    events = events_of(response)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "Hello"
    error = json.loads(events[1])["error"]
    assert error["code"] == "upstream_bad_response"
    assert events[2:] == ["[DONE]"]


def test_an_sse_line_over_512_kib_is_streamed(raw: RawUpstream, gateway: GatewayProcess) -> None:
    big = "y" * (700 * 1024)
    raw.then(sse_answer(chunk_event(big)))
    response = post(gateway, {**CHAT, "stream": True})
    events = events_of(response)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == big
    assert events[-1] == "[DONE]"


@pytest.mark.parametrize("value", ["inf", "nan", "1e999", "-inf", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_hostile_retry_after_is_a_clean_429(raw: RawUpstream, gateway: GatewayProcess, value: str) -> None:
    error = json.dumps({"error": {"message": "slow down", "type": "rate_limit", "code": None}}).encode()
    limited = http_answer(error, status="429 Too Many Requests")
    head, _, body = limited.pieces[0].partition(b"\r\n\r\n")
    raw.then(*[RawAnswer((head + f"\r\nretry-after: {value}\r\n\r\n".encode() + body,)) for _ in range(2)])
    response = post(gateway, CHAT)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "upstream_rate_limited"
    retry_after = response.headers.get("retry-after")
    assert retry_after is None or 1 <= int(retry_after) <= 86_400


def test_tool_descriptions_and_metadata_reach_the_upstream_masked(raw: RawUpstream, gateway: GatewayProcess) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "notify",
            "description": f"Notify {EMAIL} when done",
            "parameters": {"type": "object", "properties": {"to": {"type": "string", "description": f"e.g. {EMAIL}"}}},
        },
    }
    body = {**CHAT, "tools": [tool], "metadata": {"owner": EMAIL}, "user": EMAIL}
    response = post(gateway, body)
    assert response.status_code == 200, response.text
    sent = raw.requests[-1].decode()
    assert EMAIL not in sent
    assert "<EMAIL_1>" in sent
    assert json.loads(sent)["tools"][0]["function"]["name"] == "notify"

"""The Bedrock mock refuses what the real runtime refuses (unsigned or badly signed calls, bodies
Converse rejects) and frames its streams so that botocore's own parser reads them: an adapter that
passes the conformance suite against it sends what Bedrock accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.eventstream import EventStreamBuffer

from aigw.providers.bedrock_auth import sign
from tests.support.mock_bedrock import MockBedrock
from tests.support.mock_bedrock_wire import ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN

pytestmark = pytest.mark.integration

MODEL = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0"
VALID: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
CREDENTIALS = ReadOnlyCredentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockBedrock]:
    server = MockBedrock().start()
    yield server
    server.stop()


def post(
    mock: MockBedrock,
    body: Any,
    operation: str = "converse",
    credentials: ReadOnlyCredentials = CREDENTIALS,
    region: str = REGION,
    tamper: dict[str, str] | None = None,
) -> httpx.Response:
    url = f"{mock.url}/model/{quote(MODEL, safe='')}/{operation}"
    raw = json.dumps(body).encode()
    headers = {
        k.lower(): v for k, v in sign(credentials, region, url, raw, {"content-type": "application/json"}).items()
    }
    return httpx.post(url, content=raw, headers={**headers, **(tamper or {})}, timeout=10)


def test_a_signed_valid_request_is_answered(mock: MockBedrock) -> None:
    answer = post(mock, VALID)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"]["message"]["content"] == [{"text": "You said: hi"}]
    assert answer.json()["stopReason"] == "end_turn" and mock.models[-1] == MODEL


@pytest.mark.parametrize(
    ("credentials", "region", "tamper", "error"),
    [
        (CREDENTIALS, REGION, {"authorization": ""}, "MissingAuthenticationTokenException"),
        (ReadOnlyCredentials("AKIAOTHER", SECRET_KEY, SESSION_TOKEN), REGION, {}, "UnrecognizedClientException"),
        (ReadOnlyCredentials(ACCESS_KEY, "wrong-secret", SESSION_TOKEN), REGION, {}, "InvalidSignatureException"),
        (ReadOnlyCredentials(ACCESS_KEY, SECRET_KEY, "other-token"), REGION, {}, "UnrecognizedClientException"),
        (CREDENTIALS, "eu-west-1", {}, "InvalidSignatureException"),
        (CREDENTIALS, REGION, {"x-amz-date": "20200101T000000Z"}, "IncompleteSignatureException"),
        (CREDENTIALS, REGION, {"content-type": "application/x-amz-json-1.1"}, "InvalidSignatureException"),
    ],
)
def test_a_bad_signature_is_403_as_aws_answers(
    mock: MockBedrock, credentials: ReadOnlyCredentials, region: str, tamper: dict[str, str], error: str
) -> None:
    answer = post(mock, VALID, credentials=credentials, region=region, tamper=tamper)
    assert answer.status_code == 403
    assert answer.headers["x-amzn-errortype"].split(":")[0] == error and answer.json()["message"]


def test_a_body_changed_after_signing_is_refused(mock: MockBedrock) -> None:
    url = f"{mock.url}/model/{quote(MODEL, safe='')}/converse"
    headers = sign(CREDENTIALS, REGION, url, json.dumps(VALID).encode(), {"content-type": "application/json"})
    changed = json.dumps({"messages": [{"role": "user", "content": [{"text": "other"}]}]}).encode()
    assert httpx.post(url, content=changed, headers=headers, timeout=10).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
        {"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]},
        {"messages": [{"role": "user", "content": [{"text": "  "}]}]},
        {"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]},
        {"messages": [{"role": "user", "content": [{"image": {"format": "bmp", "source": {"bytes": "AA=="}}}]}]},
        {
            "messages": [
                {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "*not base64*"}}}]}
            ]
        },
        {"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "x", "content": []}}]}]},
        {**VALID, "inferenceConfig": {"temperature": 1.5}},
        {**VALID, "inferenceConfig": {"max_tokens": 5}},
        {**VALID, "max_tokens": 5},
        {**VALID, "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": {}}}}}},
        {
            "messages": [
                {"role": "user", "content": [{"text": "a"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "r"}]}}]},
            ]
        },
    ],
)
def test_what_converse_refuses_is_refused(mock: MockBedrock, body: dict[str, Any]) -> None:
    answer = post(mock, body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["x-amzn-errortype"].startswith("ValidationException:") and answer.json()["message"]


def test_the_stream_frames_are_read_by_botocores_parser(mock: MockBedrock) -> None:
    answer = post(mock, VALID, operation="converse-stream")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(answer.content)
    messages = list(buffer)
    names = [m.headers[":event-type"] for m in messages]
    assert names == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert all(m.headers[":message-type"] == "event" for m in messages)
    payloads = [json.loads(m.payload) for m in messages]
    assert "".join(p["delta"]["text"] for p in payloads if "delta" in p) == "You said: hi"
    assert payloads[-1]["usage"]["totalTokens"] > 0 and all("p" in p for p in payloads)


def test_an_unencoded_arn_is_not_an_operation(mock: MockBedrock) -> None:
    url = f"{mock.url}/model/{MODEL}/converse"
    raw = json.dumps(VALID).encode()
    headers = sign(CREDENTIALS, REGION, url, raw, {"content-type": "application/json"})
    assert httpx.post(url, content=raw, headers=headers, timeout=10).status_code == 404

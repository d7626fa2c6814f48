"""The Anthropic mock refuses what the real Messages API refuses, so an adapter that passes the
conformance suite against it sends what Anthropic accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.mock_anthropic import MockAnthropic
from tests.support.processes import http_json

pytestmark = pytest.mark.integration

HEADERS = {"x-api-key": "sk-ant-mock", "anthropic-version": "2023-06-01"}
VALID: dict[str, Any] = {"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockAnthropic]:
    server = MockAnthropic().start()
    yield server
    server.stop()


def test_a_valid_request_is_answered(mock: MockAnthropic) -> None:
    status, body = http_json("POST", f"{mock.url}/v1/messages", VALID, HEADERS)
    assert status == 200 and body["type"] == "message" and body["content"][0]["text"] == "You said: hi"


@pytest.mark.parametrize(
    ("change", "headers", "status"),
    [
        ({}, {"x-api-key": "wrong", "anthropic-version": "2023-06-01"}, 401),
        ({}, {"x-api-key": "sk-ant-mock"}, 400),
        ({"max_tokens": None}, HEADERS, 400),
        ({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}, HEADERS, 400),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}, HEADERS, 400),
        ({"messages": [{"role": "user", "content": ""}]}, HEADERS, 400),
        ({"temperature": 1.5}, HEADERS, 400),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "r"}]}]},
            HEADERS,
            400,
        ),
    ],
)
def test_what_the_real_api_refuses_is_refused(
    mock: MockAnthropic, change: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    request = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    answered, body = http_json("POST", f"{mock.url}/v1/messages", request, headers)
    assert answered == status
    assert body["type"] == "error" and body["error"]["type"] in ("invalid_request_error", "authentication_error")

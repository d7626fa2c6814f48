"""One alias, two provider families: `gpt-4o` → the OpenAI mock, then Anthropic's mock. Both
ingress formats (OpenAI's chat completions, Anthropic's messages) are served by either family,
and every answer says which served it (`x-aigw-provider`, `x-aigw-fallback-from`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory
from tests.support.cross_family import ANTHROPIC_KEY, CLAUDE_MODEL, cross_family_env
from tests.support.mock_anthropic import MockAnthropic
from tests.support.processes import GatewayProcess, MockUpstream

pytestmark = pytest.mark.integration
HELLO = [{"role": "user", "content": "hello across families"}]


@pytest.fixture
def claude_mock() -> Iterator[MockAnthropic]:
    mock = MockAnthropic(api_key=ANTHROPIC_KEY)
    mock.start()
    yield mock
    mock.stop()


@pytest.fixture
def gateway(
    upstream: MockUpstream,
    claude_mock: MockAnthropic,
    gateway_factory: GatewayFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> GatewayProcess:
    return gateway_factory(cross_family_env(tmp_path_factory.mktemp("config"), f"{upstream.url}/v1", claude_mock.url))


def clients(gateway: GatewayProcess) -> tuple[openai.OpenAI, anthropic.Anthropic]:
    return (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=10),
        anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0, timeout=10),
    )


def test_the_first_family_serves_while_it_is_up(gateway: GatewayProcess, claude_mock: MockAnthropic) -> None:
    oai, ant = clients(gateway)
    chat = oai.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    with ant.messages.with_streaming_response.create(model="gpt-4o", max_tokens=32, messages=HELLO) as message:  # type: ignore[arg-type]
        assert message.parse().content[0].type == "text"
    for raw in (chat, message):
        assert raw.headers["x-aigw-provider"] == "openai"
        assert raw.headers["x-aigw-fallback"] == "false" and "x-aigw-fallback-from" not in raw.headers
    assert chat.parse().choices[0].message.content
    assert claude_mock.requests == []


def test_the_other_family_serves_when_the_first_fails_in_the_callers_format(
    gateway: GatewayProcess, upstream: MockUpstream, claude_mock: MockAnthropic
) -> None:
    upstream.configure(error_rate=1.0, error_status=500)
    oai, ant = clients(gateway)
    chat = oai.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    with ant.messages.with_streaming_response.create(model="gpt-4o", max_tokens=32, messages=HELLO) as message:  # type: ignore[arg-type]
        answered = message.parse()
    with ant.messages.stream(model="gpt-4o", max_tokens=32, messages=HELLO) as stream:  # type: ignore[arg-type]
        streamed = stream.get_final_message()
    for raw in (chat, message):
        assert raw.headers["x-aigw-provider"] == "claude"
        assert raw.headers["x-aigw-deployment"] == f"claude/{CLAUDE_MODEL}"
        assert raw.headers["x-aigw-fallback-from"] == "openai"
    # The OpenAI caller gets OpenAI's shape, the Anthropic caller Anthropic's, whoever served.
    assert chat.parse().choices[0].message.content == "You said: hello across families"
    assert answered.content[0].text == "You said: hello across families"  # type: ignore[union-attr]
    assert streamed.content[0].text == "You said: hello across families"  # type: ignore[union-attr]
    assert streamed.usage.output_tokens > 0
    sent = [request["body"] for request in claude_mock.requests]
    assert len(sent) == 3 and all(body["model"] == CLAUDE_MODEL for body in sent)
    assert [body.get("stream", False) for body in sent] == [False, False, True]


def test_tool_use_crosses_families(gateway: GatewayProcess, claude_mock: MockAnthropic) -> None:
    """An Anthropic caller's tool loop served by the Anthropic family through the canonical request."""
    _, ant = clients(gateway)
    weather = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
    first = ant.messages.create(
        model="claude",
        max_tokens=64,
        tools=[weather],
        messages=[{"role": "user", "content": "use the tool"}],  # type: ignore[list-item]
    )
    assert first.stop_reason == "tool_use"
    call = first.content[-1]
    assert call.type == "tool_use" and call.input == {"city": "Paris"}
    second = ant.messages.create(
        model="claude",
        max_tokens=64,
        tools=[weather],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "use the tool"},
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},  # type: ignore[misc]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}]},
        ],
    )
    assert second.content[0].text == "The tool said: 18C"  # type: ignore[union-attr]
    assert json.dumps(claude_mock.requests[-1]["body"]["messages"][1]["content"][-1]["input"]) == '{"city": "Paris"}'

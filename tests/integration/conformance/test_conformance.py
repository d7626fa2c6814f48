"""One conformance suite for every provider family: the same cases, through a real gateway process
with the official `openai` SDK as the client, against each family's mock server (real HTTP, the
vendor's wire format). A family that cannot serve an optional case must refuse it with a clear 400
naming the parameter. Errors must come out the same for every family: retried or not, and the
status the client gets.

One gateway per family (module scope): the provider has one retry with a 10 ms backoff, a 1 s
timeout and a breaker that does not open during the suite (whether each error counts against
health is checked in test_provider_errors.py, on the provider itself).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
import yaml

from tests.conftest import MASTER_KEY
from tests.support.families import FAMILIES, PNG_BASE64, FamilyHarness, gateway_env
from tests.support.mock_family import MockServer
from tests.support.processes import GatewayProcess, start_gateway

pytestmark = pytest.mark.integration

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}


@dataclass
class Family:
    harness: FamilyHarness
    mock: MockServer
    gateway: GatewayProcess
    client: openai.OpenAI

    def chat(self, content: Any = "Say hello", **params: Any) -> Any:
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": content}]
        return self.client.chat.completions.create(model=self.harness.model, messages=messages, **params)

    def status_error(self, **params: Any) -> openai.APIStatusError:
        with pytest.raises(openai.APIStatusError) as caught:
            self.chat(**params)
        return caught.value

    def refused(self, param: str, **params: Any) -> None:
        """The family cannot serve `param`: a clear 400 naming it, nothing sent upstream."""
        error = self.status_error(**params)
        assert error.status_code == 400
        assert error.response.json()["error"]["param"] == param
        assert self.mock.requests == []


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda harness: harness.name)
def started(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Family]:
    harness: FamilyHarness = request.param
    mock = harness.start()
    tmp_path = tmp_path_factory.mktemp(harness.name)
    provider = {
        "name": "conformance",
        **harness.provider_config(mock),
        "models": [harness.model],
        "timeout": 1.0,
        "retry": {"max_retries": 1, "backoff_base": 0.01, "max_delay": 1.0},
        "breaker": {"min_calls": 1000},
    }
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({"providers": [provider]}))
    env = {"AI_MASTER_KEY": MASTER_KEY, **gateway_env(harness)}
    gateway = start_gateway(tmp_path, env, "--config", str(config))
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=10)
    try:
        yield Family(harness, mock, gateway, client)
    finally:
        client.close()
        gateway.stop()
        mock.stop()


@pytest.fixture
def family(started: Family) -> Family:
    started.mock.reset()
    return started


def test_plain(family: Family) -> None:
    reply = family.chat("Say hello")
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == "You said: Say hello"
    assert choice.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streamed_with_usage_at_the_end(family: Family) -> None:
    chunks = list(family.chat("Say hello", stream=True, stream_options={"include_usage": True}))
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in with_choices) == "You said: Say hello"
    assert with_choices[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tool_call_out_and_tool_result_in(family: Family) -> None:
    if "tools" not in family.harness.supports:
        return family.refused("tools", tools=[WEATHER_TOOL])
    reply = family.chat("Use the tool for Paris", tools=[WEATHER_TOOL])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    messages = [
        {"role": "user", "content": "Use the tool for Paris"},
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
    ]
    answer = family.client.chat.completions.create(model=family.harness.model, messages=messages, tools=[WEATHER_TOOL])
    assert answer.choices[0].message.content == "The tool said: sunny, 21 C"
    assert answer.choices[0].finish_reason == "stop"


def test_streamed_tool_call(family: Family) -> None:
    if "tools" not in family.harness.supports:
        return None
    chunks = list(family.chat("Use the tool", tools=[WEATHER_TOOL], tool_choice="required", stream=True))
    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert calls[0].index == 0 and calls[0].id and calls[0].function.name == "get_weather"
    assert json.loads("".join(call.function.arguments or "" for call in calls)) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_json_mode(family: Family) -> None:
    response_format = {"type": "json_object"}
    if "json_mode" not in family.harness.supports:
        return family.refused("response_format", response_format=response_format)
    reply = family.chat("Answer in JSON", response_format=response_format)
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_json_schema(family: Family) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA}}
    if "json_schema" not in family.harness.supports:
        return family.refused("response_format", response_format=response_format)
    reply = family.chat("Answer in JSON", response_format=response_format)
    assert set(json.loads(reply.choices[0].message.content)) == {"answer", "confidence"}


def test_image_input(family: Family) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_BASE64}"}},
    ]
    if "images" not in family.harness.supports:
        return family.refused("messages[1].content", content=content)
    reply = family.chat(content)
    assert reply.choices[0].message.content.startswith("I see 1 image(s)")
    assert family.harness.image_sent(family.mock.requests[-1]["body"])


def test_n_choices(family: Family) -> None:
    if "n" not in family.harness.supports:
        return family.refused("n", n=2)
    reply = family.chat("Say hello", n=2)
    assert [c.index for c in reply.choices] == [0, 1]


def test_stop_sequences(family: Family) -> None:
    reply = family.chat("one two STOP three", stop=["STOP"])
    assert reply.choices[0].message.content == "You said: one two "
    assert reply.choices[0].finish_reason == "stop"


def test_max_tokens_gives_length(family: Family) -> None:
    reply = family.chat("one two three four five", max_tokens=2)
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    ("status", "times", "headers", "client_status", "attempts"),
    [
        (400, 1, {}, 400, 1),  # the caller's fault: relayed, not retried
        (401, 1, {}, 502, 1),  # the gateway's upstream key refused: not the caller's fault
        (429, 1, {"retry-after": "7"}, 429, 1),  # a wait longer than max_delay: no retry, the wait relayed
        (500, 2, {}, 502, 2),  # retried once, then the gateway's 502
        (529, 1, {}, 200, 2),  # overloaded: retried like a 503, the second attempt answers
    ],
)
def test_upstream_errors(
    family: Family, status: int, times: int, headers: dict[str, str], client_status: int, attempts: int
) -> None:
    family.mock.fail_next(status, times=times, headers=headers)
    if client_status == 200:
        assert family.chat().choices[0].message.content
    else:
        error = family.status_error()
        assert error.status_code == client_status
        body = error.response.json()["error"]
        assert set(body) >= {"message", "type", "param", "code"}
        if status == 429:
            assert error.response.headers["retry-after"] == "7"
    assert len(family.mock.requests) == attempts


def test_upstream_error_before_a_stream_is_retried(family: Family) -> None:
    family.mock.fail_next(529)
    chunks = list(family.chat(stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Say hello"


def test_timeout(family: Family) -> None:
    family.mock.hang_next(times=2)
    assert family.status_error().status_code == 504
    assert len(family.mock.requests) == 2


@pytest.mark.parametrize("fault", ["cut", "error_event"])
def test_stream_broken_mid_way(family: Family, fault: str) -> None:
    if fault == "cut":
        family.mock.cut_stream_next(after_events=3)
    else:
        family.mock.error_event_next(after_events=3)
    received: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in family.chat("a long answer please", stream=True):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "You said: a long answer please" not in "".join(received)

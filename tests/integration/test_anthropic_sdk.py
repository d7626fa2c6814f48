"""The official `anthropic` SDK, unchanged, against the gateway's `/v1/messages`: served by the stub
provider, by the OpenAI mock upstream (../shared/bench/mock_upstream.py) and by an OpenAI upstream
that uses tools, each through a real gateway process."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest

from aigw.context.tokens import count_chat
from tests.conftest import MASTER_KEY, openai_env
from tests.support.openai_tool_upstream import ToolCallingUpstream
from tests.support.processes import GatewayProcess, MockUpstream, start_gateway
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration
HELLO = [{"role": "user", "content": "hello from the anthropic sdk"}]
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _gateway(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator[GatewayProcess]:
    gateway = start_gateway(tmp_path_factory.mktemp("gateway"), env)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def stub_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    yield from _gateway(tmp_path_factory, {"AI_MASTER_KEY": MASTER_KEY})


@pytest.fixture(scope="module")
def mock_gateway(tmp_path_factory: pytest.TempPathFactory, mock_upstream: MockUpstream) -> Iterator[GatewayProcess]:
    yield from _gateway(tmp_path_factory, openai_env(mock_upstream))


@pytest.fixture(scope="module")
def tool_upstream() -> Iterator[ToolCallingUpstream]:
    upstream = ToolCallingUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def tool_gateway(
    tmp_path_factory: pytest.TempPathFactory, tool_upstream: ToolCallingUpstream
) -> Iterator[GatewayProcess]:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": "sk-upstream",
        "AI_OPENAI_BASE_URL": tool_upstream.url,
        "AI_OPENAI_MAX_RETRIES": "0",
    }
    yield from _gateway(tmp_path_factory, env)


@pytest.fixture(params=["stub", "openai-mock"])
def gateway(request: pytest.FixtureRequest, mock_upstream: MockUpstream) -> GatewayProcess:
    mock_upstream.reset()
    return request.getfixturevalue("stub_gateway" if request.param == "stub" else "mock_gateway")


_clients: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def sdk(gateway: GatewayProcess, key: str = MASTER_KEY, max_retries: int = 0) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=max_retries, timeout=10.0)
    _clients.append(client)
    return client


def test_plain_message(gateway: GatewayProcess) -> None:
    raw = sdk(gateway).messages.with_raw_response.create(model="gpt-4o-mini", max_tokens=32, messages=HELLO)
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert raw.headers["x-aigw-provider"] in ("stub", "openai")
    assert raw.headers["x-aigw-deployment"].endswith("/gpt-4o-mini")


def test_streamed_message_text_and_final_message(gateway: GatewayProcess) -> None:
    with sdk(gateway).messages.stream(model="gpt-4o-mini", max_tokens=32, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0


def test_a_system_prompt_and_sampling_settings_reach_the_upstream(
    mock_gateway: GatewayProcess, mock_upstream: MockUpstream
) -> None:
    mock_upstream.reset()
    sdk(mock_gateway).messages.create(
        model="gpt-4o-mini",
        max_tokens=17,
        system="You are terse.",
        messages=HELLO,
        stop_sequences=["\n\n"],
        extra_body={"temperature": 0.25},  # the SDK's create() no longer names it; the API takes it
        metadata={"user_id": "user-42"},
    )
    sent = json.loads(mock_upstream.recorded()[-1]["body"])
    assert sent["messages"] == [{"role": "system", "content": "You are terse."}, *HELLO]
    assert (sent["max_tokens"], sent["stop"], sent["temperature"], sent["user"]) == (17, ["\n\n"], 0.25, "user-42")


def test_tool_use_out_and_tool_result_in(tool_gateway: GatewayProcess, tool_upstream: ToolCallingUpstream) -> None:
    client = sdk(tool_gateway)
    first = client.messages.create(
        model="gpt-4o", max_tokens=64, tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Paris?"}]
    )
    assert first.stop_reason == "tool_use"
    call = first.content[-1]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"city": "Paris"}
    second = client.messages.create(
        model="gpt-4o",
        max_tokens=64,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C and sunny"}]},
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text" and second.content[0].text == "Result: 18C and sunny"
    sent = tool_upstream.bodies[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}


def test_streamed_tool_use(tool_gateway: GatewayProcess) -> None:
    with sdk(tool_gateway).messages.stream(
        model="gpt-4o",
        max_tokens=64,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "input", None)) for b in final.content] == [("tool_use", {"city": "Paris"})]


def test_count_tokens_is_exact_for_openai_encodings(mock_gateway: GatewayProcess) -> None:
    raw = sdk(mock_gateway).messages.with_raw_response.count_tokens(
        model="gpt-4o-mini", system="Be brief.", messages=HELLO, tools=[WEATHER]
    )
    canonical = [{"role": "system", "content": "Be brief."}, *HELLO]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER["input_schema"],
                                                "description": WEATHER["description"]}}]  # fmt: skip
    assert raw.parse().input_tokens == count_chat("gpt-4o-mini", canonical, tools)
    assert raw.headers["x-aigw-usage"] == "exact"


def test_count_tokens_says_when_it_estimates(stub_gateway: GatewayProcess) -> None:
    raw = sdk(stub_gateway).messages.with_raw_response.count_tokens(model="claude-sonnet-4-5", messages=HELLO)
    assert raw.parse().input_tokens > 0
    assert raw.headers["x-aigw-usage"] == "estimated"


def test_a_bad_key_is_an_authentication_error(stub_gateway: GatewayProcess) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        sdk(stub_gateway, key="sk-not-a-key").messages.create(model="gpt-4o-mini", max_tokens=8, messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Incorrect API key provided"},
    }


def test_the_x_api_key_header_authenticates(stub_gateway: GatewayProcess) -> None:
    body = {"model": "gpt-4o-mini", "max_tokens": 8, "messages": HELLO}
    headers = {"anthropic-version": "2023-06-01"}
    good = httpx.post(f"{stub_gateway.url}/v1/messages", json=body, headers={**headers, "x-api-key": MASTER_KEY})
    assert good.status_code == 200 and good.json()["type"] == "message"
    bad = httpx.post(f"{stub_gateway.url}/v1/messages", json=body, headers={**headers, "x-api-key": "nope"})
    assert bad.status_code == 401 and bad.json()["error"]["type"] == "authentication_error"


def test_an_invalid_request_is_a_bad_request_error(stub_gateway: GatewayProcess) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk(stub_gateway).messages.create(
            model="gpt-4o-mini", max_tokens=8, messages=HELLO, extra_body={"temperature": 1.5}
        )
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "temperature: Input should be less than or equal to 1"},
    }


def test_an_upstream_rate_limit_is_a_rate_limit_error(
    mock_gateway: GatewayProcess, mock_upstream: MockUpstream
) -> None:
    mock_upstream.reset()
    mock_upstream.configure(error_rate=1.0, error_status=429)
    try:
        with pytest.raises(anthropic.RateLimitError) as caught:
            sdk(mock_gateway).messages.create(model="gpt-4o-mini", max_tokens=8, messages=HELLO)
    finally:
        mock_upstream.reset()
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_an_unavailable_upstream_is_retried_by_the_sdk_then_a_server_error(
    mock_gateway: GatewayProcess, mock_upstream: MockUpstream
) -> None:
    mock_upstream.reset()
    mock_upstream.configure(error_rate=1.0, error_status=503)
    before = mock_upstream.stats()["errors_injected"]
    try:
        with pytest.raises(anthropic.InternalServerError) as caught:
            sdk(mock_gateway, max_retries=2).messages.create(model="gpt-4o-mini", max_tokens=8, messages=HELLO)
    finally:
        mock_upstream.reset()
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    assert mock_upstream.stats()["errors_injected"] - before == 3  # the SDK's first try and its two retries


def test_a_stream_cut_upstream_ends_with_an_error_event(tmp_path_factory: pytest.TempPathFactory) -> None:
    upstream = ScriptedUpstream().then(Answer(stream_chunks=6, cut_after=2, content="one two three four five six"))
    upstream.start()
    env = {"AI_MASTER_KEY": MASTER_KEY, "AI_OPENAI_API_KEY": "sk-upstream", "AI_OPENAI_BASE_URL": upstream.url}
    gateway_runs = _gateway(tmp_path_factory, {**env, "AI_OPENAI_MAX_RETRIES": "0"})
    gateway = next(gateway_runs)
    try:
        seen: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as caught:  # noqa: SIM117
            with sdk(gateway).messages.stream(model="gpt-4o-mini", max_tokens=8, messages=HELLO) as stream:
                seen.extend(stream.text_stream)
        assert seen  # the text before the cut reached the client, then the error event ended the stream
        assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    finally:
        next(gateway_runs, None)
        upstream.stop()


def test_anthropic_version_is_required_and_checked(stub_gateway: GatewayProcess) -> None:
    message = {"model": "gpt-4o-mini", "max_tokens": 8, "messages": HELLO}
    count = {"model": "gpt-4o-mini", "messages": HELLO}
    for path, body in (("/v1/messages", message), ("/v1/messages/count_tokens", count)):
        missing = httpx.post(f"{stub_gateway.url}{path}", json=body, headers={"x-api-key": MASTER_KEY})
        assert missing.status_code == 400
        assert missing.json()["error"] == {
            "type": "invalid_request_error",
            "message": "anthropic-version: header is required",
        }
        old = {"x-api-key": MASTER_KEY, "anthropic-version": "2023-01-01"}
        refused = httpx.post(f"{stub_gateway.url}{path}", json=body, headers=old)
        assert refused.status_code == 400
        assert "before 2023-06-01 are not served" in refused.json()["error"]["message"]
        later = httpx.post(
            f"{stub_gateway.url}{path}", json=body, headers={"x-api-key": MASTER_KEY, "anthropic-version": "2031-02-03"}
        )
        assert later.status_code == 200  # later versions keep the 2023-06-01 shapes
        hostile = {"x-api-key": MASTER_KEY, "anthropic-version": "<script>" + "9" * 200}
        answer = httpx.post(f"{stub_gateway.url}{path}", json=body, headers=hostile)
        assert answer.status_code == 400 and "<script>" not in answer.text  # never echoed
    unauthenticated = httpx.post(f"{stub_gateway.url}/v1/messages", json=message, headers={"x-api-key": "nope"})
    assert unauthenticated.status_code == 401  # the key is checked first


def test_body_limits_apply(stub_gateway: GatewayProcess) -> None:
    huge = [{"role": "user", "content": "x" * 3_000_000}]
    response = httpx.post(
        f"{stub_gateway.url}/v1/messages",
        json={"model": "gpt-4o-mini", "max_tokens": 8, "messages": huge},
        headers={"x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"  # refused at the edge, in Anthropic's format
    unlabelled = httpx.post(f"{stub_gateway.url}/v1/messages", content=b"{}", headers={"x-api-key": MASTER_KEY})
    assert unlabelled.status_code == 415
    assert unlabelled.json() == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Request bodies must be JSON: send 'Content-Type: application/json'",
        },
    }


def _key(gateway: GatewayProcess, **spec: object) -> str:
    created = httpx.post(f"{gateway.url}/admin/api/keys", json=spec, headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def test_keys_limits_pii_and_the_cache_apply_as_on_the_openai_routes(
    mock_gateway: GatewayProcess, mock_upstream: MockUpstream
) -> None:
    mock_upstream.reset()
    narrow = sdk(mock_gateway, key=_key(mock_gateway, models=["gpt-4o-mini"]))
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        narrow.messages.create(model="gpt-4o", max_tokens=8, messages=HELLO)
    assert refused.value.body["error"]["type"] == "permission_error"  # type: ignore[index]

    planted = "jane.doe@example.com"
    narrow.messages.create(model="gpt-4o-mini", max_tokens=8, messages=[{"role": "user", "content": f"mail {planted}"}])
    assert planted not in mock_upstream.recorded()[-1]["body"]  # masked before it left, as on /v1/chat/completions

    cached = [{"role": "user", "content": "the same question, twice"}]
    for expected in ("miss", "hit"):
        with narrow.messages.with_streaming_response.create(
            model="gpt-4o-mini", max_tokens=8, messages=cached, extra_body={"temperature": 0}
        ) as raw:
            assert raw.parse().content[0].type == "text"
        assert raw.headers["x-aigw-cache"] == expected

    slow = sdk(mock_gateway, key=_key(mock_gateway, rpm=1))
    slow.messages.create(model="gpt-4o-mini", max_tokens=8, messages=HELLO)
    with pytest.raises(anthropic.RateLimitError) as limited:
        slow.messages.create(model="gpt-4o-mini", max_tokens=8, messages=HELLO)
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert int(limited.value.response.headers["retry-after"]) >= 1


def test_count_tokens_counts_against_the_request_rate_limit(mock_gateway: GatewayProcess) -> None:
    client = sdk(mock_gateway, key=_key(mock_gateway, rpm=1))
    assert client.messages.count_tokens(model="gpt-4o-mini", messages=HELLO).input_tokens > 0
    with pytest.raises(anthropic.RateLimitError):
        client.messages.count_tokens(model="gpt-4o-mini", messages=HELLO)

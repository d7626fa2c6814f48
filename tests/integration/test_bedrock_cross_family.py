"""Bedrock behind one alias with another family: `gpt-4o` → an OpenAI-format upstream that is down
(nothing listens on its port), then Bedrock. The OpenAI SDK gets OpenAI's shape from Bedrock with
`x-aigw-fallback-from: openai`; the Anthropic SDK (`/v1/messages`) is served by Bedrock too, plain,
streamed and through a tool loop, with every call SigV4-checked by the mock."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory
from tests.support.mock_bedrock import MockBedrock
from tests.support.mock_bedrock_wire import ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN
from tests.support.processes import GatewayProcess, free_port

pytestmark = pytest.mark.integration
BEDROCK_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HELLO = [{"role": "user", "content": "hello across families"}]
WEATHER = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.fixture
def bedrock() -> Iterator[MockBedrock]:
    mock = MockBedrock().start()
    yield mock
    mock.stop()


@pytest.fixture
def gateway(
    bedrock: MockBedrock, gateway_factory: GatewayFactory, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    config = tmp_path_factory.mktemp("config") / "bedrock-cross-family.yaml"
    config.write_text(
        "providers:\n"
        f"  - {{name: openai, type: openai, base_url: 'http://127.0.0.1:{free_port()}/v1',"
        " api_key_env: AI_OPENAI_API_KEY, timeout: 2, retry: {max_retries: 0}}\n"
        f"  - {{name: bedrock, type: bedrock, region: {REGION}, base_url: '{bedrock.url}',"
        " access_key_id_env: AI_PROVIDER_AWS_KEY_ID, secret_access_key_env: AI_PROVIDER_AWS_SECRET,"
        " session_token_env: AI_PROVIDER_AWS_TOKEN, instance_metadata: false, timeout: 5, retry: {max_retries: 0}}\n"
        "models:\n"
        "  gpt-4o:\n"
        "    - {provider: openai, model: gpt-4o}\n"
        f"    - {{provider: bedrock, model: '{BEDROCK_MODEL}'}}\n"
        "  claude:\n"
        f"    - {{provider: bedrock, model: '{BEDROCK_MODEL}'}}\n"
    )
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": "sk-openai-unused",
        "AI_PROVIDER_AWS_KEY_ID": ACCESS_KEY,
        "AI_PROVIDER_AWS_SECRET": SECRET_KEY,
        "AI_PROVIDER_AWS_TOKEN": SESSION_TOKEN,
        "AI_CONFIG_FILE": str(config),
    }
    return gateway_factory(env)


def test_an_openai_caller_falls_back_to_bedrock_in_openai_shape(gateway: GatewayProcess, bedrock: MockBedrock) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=10)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert raw.headers["x-aigw-provider"] == "bedrock"
    assert raw.headers["x-aigw-fallback-from"] == "openai"
    assert raw.headers["x-aigw-deployment"] == f"bedrock/{BEDROCK_MODEL}"
    reply = raw.parse()
    assert reply.object == "chat.completion" and reply.choices[0].message.content == "You said: hello across families"
    assert reply.usage is not None and reply.usage.total_tokens > 0
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    ) as streamed:
        assert streamed.headers["x-aigw-fallback-from"] == "openai"
        chunks = list(streamed.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: hello across families"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert bedrock.models == [BEDROCK_MODEL, BEDROCK_MODEL]


def test_the_anthropic_messages_api_is_served_by_bedrock(gateway: GatewayProcess, bedrock: MockBedrock) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0, timeout=10)
    raw = client.messages.with_raw_response.create(model="gpt-4o", max_tokens=32, messages=HELLO)  # type: ignore[arg-type]
    assert raw.headers["x-aigw-provider"] == "bedrock" and raw.headers["x-aigw-fallback-from"] == "openai"
    message = raw.parse()
    assert message.type == "message" and message.content[0].text == "You said: hello across families"  # type: ignore[union-attr]
    with client.messages.stream(model="claude", max_tokens=32, messages=HELLO) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    assert final.content[0].text == "You said: hello across families"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0
    first = client.messages.create(
        model="claude",
        max_tokens=64,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "use the tool"}],
    )
    assert first.stop_reason == "tool_use"
    call = first.content[-1]
    assert call.type == "tool_use" and call.input == {"city": "Paris"}
    second = client.messages.create(
        model="claude",
        max_tokens=64,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "use the tool"},
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},  # type: ignore[misc]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}]},
        ],
    )
    assert second.content[0].text == "The tool said: 18C"  # type: ignore[union-attr]
    sent = bedrock.requests[-1]["body"]["messages"]
    assert sent[1]["content"][-1]["toolUse"]["input"] == {"city": "Paris"}
    assert sent[2]["content"][0]["toolResult"]["toolUseId"] == call.id

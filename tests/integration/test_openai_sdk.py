"""The official `openai` SDK, unchanged, against the gateway in front of the mock upstream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import GatewayProcess, MockUpstream

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(upstream: MockUpstream, gateway_factory: GatewayFactory) -> GatewayProcess:
    return gateway_factory(openai_env(upstream))


_open_clients: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open_clients:
        _open_clients.pop().close()


def sdk(gateway: GatewayProcess, key: str = MASTER_KEY, timeout: float = 10.0) -> openai.OpenAI:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0, timeout=timeout)
    _open_clients.append(client)
    return client


def test_chat_completion(gateway: GatewayProcess) -> None:
    reply = sdk(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], max_tokens=16
    )
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.total_tokens > 0
    assert reply.model == "gpt-4o-mini"


def test_chat_completion_raw_headers_name_the_deployment(gateway: GatewayProcess) -> None:
    raw = sdk(gateway).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Request-ID": "req-abc.1"}
    )
    assert raw.headers["x-request-id"] == "req-abc.1"
    assert raw.headers["x-aigw-provider"] == "openai"
    assert raw.headers["x-aigw-deployment"] == "openai/gpt-4o-mini"


def test_streaming_with_usage(gateway: GatewayProcess, upstream: MockUpstream) -> None:
    upstream.configure(stream_chunks=6)
    stream = sdk(gateway).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 6
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == 6
    assert chunks[-1].choices == []  # the usage chunk comes last, as OpenAI sends it


def test_streaming_without_usage_drops_the_usage_chunk(gateway: GatewayProcess, upstream: MockUpstream) -> None:
    upstream.configure(stream_chunks=4)
    chunks = list(
        sdk(gateway).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "count"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_is_relayed_chunk_by_chunk(gateway: GatewayProcess, upstream: MockUpstream) -> None:
    upstream.configure(stream_chunks=5, chunk_delay_ms=300)
    started = time.monotonic()
    stream = sdk(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "slow"}], stream=True
    )
    first = next(iter(stream))
    first_at = time.monotonic() - started
    rest = list(stream)
    total = time.monotonic() - started
    assert first.choices[0].delta.role == "assistant"
    assert len(rest) >= 5
    # 4 gaps of 300 ms follow the first chunk: a buffering gateway would hold it back >= 1.2 s.
    assert first_at < 0.8, f"first chunk after {first_at:.2f}s"
    assert total >= 1.2


def test_embeddings_float_and_base64(gateway: GatewayProcess) -> None:
    client = sdk(gateway)
    # The SDK asks for base64 by default and decodes it itself.
    result = client.embeddings.create(model="text-embedding-3-small", input=["one", "two", "three"])
    assert [d.index for d in result.data] == [0, 1, 2]
    assert len(result.data[0].embedding) == 256
    floats = client.embeddings.create(model="text-embedding-3-small", input="one", encoding_format="float")
    assert len(floats.data[0].embedding) == 256
    assert floats.usage.prompt_tokens > 0


def test_model_list(gateway: GatewayProcess) -> None:
    ids = {m.id for m in sdk(gateway).models.list()}
    assert {"gpt-3.5-turbo", "gpt-4o-mini", "text-embedding-3-small"} <= ids


def test_authentication_error(gateway: GatewayProcess) -> None:
    with pytest.raises(openai.AuthenticationError) as err:
        sdk(gateway, key="sk-wrong").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.status_code == 401
    assert err.value.code == "invalid_api_key"


def test_bad_request_error(gateway: GatewayProcess) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk(gateway).chat.completions.create(model="gpt-4o-mini", messages=[])
    assert err.value.status_code == 400
    assert err.value.param == "messages"


def test_rate_limit_error(upstream: MockUpstream, gateway: GatewayProcess) -> None:
    upstream.configure(error_rate=1.0, error_status=429)
    with pytest.raises(openai.RateLimitError) as err:
        sdk(gateway).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 429
    assert err.value.response.headers.get("retry-after") == "1"


def test_timeout_error(upstream: MockUpstream, gateway: GatewayProcess) -> None:
    upstream.configure(hang_rate=1.0)
    with pytest.raises(openai.APITimeoutError):
        sdk(gateway, timeout=0.5).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )


def test_stub_provider_serves_without_a_key(gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY})
    client = sdk(gateway)
    reply = client.chat.completions.create(model="anything", messages=[{"role": "user", "content": "one two"}])
    assert "stub provider" in (reply.choices[0].message.content or "")
    again = client.chat.completions.create(model="anything", messages=[{"role": "user", "content": "one two"}])
    assert again.choices[0].message.content == reply.choices[0].message.content
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="anything", messages=[{"role": "user", "content": "one two"}], stream=True
        )
        if c.choices
    )
    assert streamed == reply.choices[0].message.content
    vectors = client.embeddings.create(model="stub-embedding", input=["alpha beta", "alpha beta"])
    assert vectors.data[0].embedding == vectors.data[1].embedding
    assert "stub" in gateway.logs()

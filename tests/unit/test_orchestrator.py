"""Orchestrator: routing, fallback to the next deployment, and the errors a request ends with."""

from __future__ import annotations

import pytest

from aigw.breaker import CircuitBreaker
from aigw.client import AIClient
from aigw.config import Deployment, GatewayConfig
from aigw.errors import (
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    RateLimitError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamStatusPassthrough,
    UpstreamTimeoutError,
)
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.caller import ANONYMOUS
from aigw.policy.flags import Flags
from aigw.retry import RetryPolicy
from aigw.routing import Router
from aigw.types import AIResponse, CallInfo, ChatRequest, EmbeddingRequest, TaskKind
from tests.unit.fakes import FakeClock, ScriptedProvider


async def no_sleep(_: float) -> None:
    return None


def chat(model: str = "gpt-4o") -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}])


def build(
    *providers: ScriptedProvider,
    enabled: bool = True,
    fallback_enabled: bool = True,
    models: dict[str, tuple[Deployment, ...]] | None = None,
    max_retries: int = 1,
    min_calls: int = 10,
) -> tuple[Orchestrator, GatewayMetrics]:
    metrics = GatewayMetrics(enabled=True)
    clock = FakeClock()
    config = GatewayConfig(
        providers=tuple(p.config for p in providers),
        models=models or {},
        fallback_order=tuple(p.name for p in providers),
    )
    clients = {
        p.name: AIClient(
            p,
            RetryPolicy(max_retries=max_retries, backoff_base=0.01, max_delay=0.1),
            CircuitBreaker(min_calls=min_calls, cooldown=30.0, clock=clock),
            metrics,
            sleep=no_sleep,
        )
        for p in providers
    }
    capabilities = {p.name: p.get_capabilities() for p in providers}
    router = Router(config, capabilities, fallback_enabled=fallback_enabled)
    flags = Flags({"ai_enabled": enabled})
    return Orchestrator(router, clients, metrics, flags=lambda: flags), metrics


@pytest.mark.parametrize(
    "failure",
    [ProviderStatusError(503, None), ProviderTimeoutError("slow"), ProviderConnectionError("refused"),
     ProviderStatusError(429, None), ProviderStatusError(401, None)],
    ids=["503", "timeout", "connection", "429", "401"],
)  # fmt: skip
async def test_failing_primary_falls_back(failure: ProviderError) -> None:
    primary = ScriptedProvider("primary", [failure] * 5)
    backup = ScriptedProvider("backup")
    orchestrator, metrics = build(primary, backup)
    info = CallInfo()
    result = await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), info)
    assert isinstance(result, AIResponse)
    assert result.body["served_by"] == "backup"
    assert info.provider == "backup"
    assert info.deployment == "backup/gpt-4o"
    assert info.model == "gpt-4o"
    assert info.fallback_from == "primary"
    assert info.usage is not None and info.usage.total_tokens == 8
    assert len(backup.calls) == 1
    fallbacks = metrics.registry.get_sample_value(
        "aigw_fallbacks_total", {"from_provider": "primary", "to_provider": "backup"}
    )
    assert fallbacks == 1
    tokens = metrics.registry.get_sample_value(
        "aigw_tokens_total", {"provider": "backup", "model": "gpt-4o", "kind": "completion"}
    )
    assert tokens == 5


async def test_primary_success_sets_no_fallback() -> None:
    primary, backup = ScriptedProvider("primary"), ScriptedProvider("backup")
    orchestrator, _ = build(primary, backup)
    info = CallInfo()
    await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), info)
    assert (info.provider, info.fallback_from, info.attempts) == ("primary", None, 1)
    assert backup.calls == []


async def test_client_error_from_primary_does_not_fall_back() -> None:
    body = {"error": {"message": "Invalid 'messages'", "type": "invalid_request_error", "code": None}}
    primary = ScriptedProvider("primary", [ProviderStatusError(400, body, provider="primary")])
    backup = ScriptedProvider("backup")
    orchestrator, _ = build(primary, backup)
    info = CallInfo()
    with pytest.raises(UpstreamStatusPassthrough) as raised:
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), info)
    assert raised.value.status == 400
    assert raised.value.to_body() == {"error": {**body["error"], "param": None}}  # relayed, with OpenAI's 4 fields
    assert backup.calls == []
    assert info.fallback_from is None and info.attempts == 1


async def test_unknown_model_is_not_found() -> None:
    only = ScriptedProvider("only", models=("gpt-4o",))
    orchestrator, _ = build(only)
    with pytest.raises(NotFoundError) as raised:
        await orchestrator.chat(chat("claude-3"), ANONYMOUS, Trace("r"), CallInfo())
    assert raised.value.status == 404
    assert raised.value.code == "model_not_found"
    assert raised.value.param == "model"
    assert only.calls == []


async def test_disabled_gateway_refuses_every_call() -> None:
    provider = ScriptedProvider("p")
    orchestrator, _ = build(provider, enabled=False)
    with pytest.raises(ServiceUnavailableError) as raised:
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), CallInfo())
    assert raised.value.status == 503
    assert raised.value.code == "gateway_disabled"
    with pytest.raises(ServiceUnavailableError):
        await orchestrator.embeddings(EmbeddingRequest(model="e", input="x"), ANONYMOUS, Trace("r"), CallInfo())
    assert provider.calls == []


async def test_every_route_failing_ends_with_the_last_real_error() -> None:
    primary = ScriptedProvider("primary", [ProviderStatusError(503, None)] * 5)
    backup = ScriptedProvider("backup", [ProviderTimeoutError("slow", provider="backup")] * 5)
    orchestrator, _ = build(primary, backup)
    info = CallInfo()
    with pytest.raises(UpstreamTimeoutError):
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), info)
    assert info.attempts == 4  # two attempts (one retry) at each provider
    assert info.provider is None


async def test_rate_limited_everywhere_answers_429() -> None:
    limited = [ProviderStatusError(429, None, retry_after=30.0)] * 5  # longer than max_delay: no retry
    orchestrator, _ = build(ScriptedProvider("a", limited), ScriptedProvider("b", list(limited)))
    with pytest.raises(RateLimitError) as raised:
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), CallInfo())
    assert raised.value.headers["retry-after"] == "30"


async def test_all_circuits_open_answers_503_with_retry_after() -> None:
    a = ScriptedProvider("a", [ProviderStatusError(500, None)] * 10)
    b = ScriptedProvider("b", [ProviderStatusError(500, None)] * 10)
    orchestrator, _ = build(a, b, max_retries=0, min_calls=1)
    with pytest.raises(UpstreamError):  # the first request opens both breakers
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), CallInfo())
    with pytest.raises(ServiceUnavailableError) as raised:
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), CallInfo())
    assert raised.value.code == "circuit_open"
    assert raised.value.headers == {"retry-after": "30"}
    assert (len(a.calls), len(b.calls)) == (1, 1)
    status = {s["name"]: s for s in orchestrator.provider_status()}
    assert status["a"]["available"] is False
    assert status["a"]["circuit"]["state"] == "open"


async def test_alias_sends_the_upstream_model_name() -> None:
    provider = ScriptedProvider("azure")
    orchestrator, _ = build(provider, models={"smart": (Deployment(provider="azure", model="gpt-4o-eu"),)})
    info = CallInfo()
    await orchestrator.chat(chat("smart"), ANONYMOUS, Trace("r"), info)
    assert provider.calls[0].model == "gpt-4o-eu"
    assert (info.deployment, info.model) == ("azure/gpt-4o-eu", "gpt-4o-eu")


async def test_fallback_disabled_tries_only_the_primary() -> None:
    primary = ScriptedProvider("primary", [ProviderStatusError(503, None)] * 5)
    backup = ScriptedProvider("backup")
    orchestrator, _ = build(primary, backup, fallback_enabled=False)
    with pytest.raises(UpstreamError, match="503"):
        await orchestrator.chat(chat(), ANONYMOUS, Trace("r"), CallInfo())
    assert backup.calls == []


async def test_embeddings_skip_providers_that_cannot_embed() -> None:
    chat_only = ScriptedProvider("chatonly", tasks=frozenset({TaskKind.CHAT}))
    embedder = ScriptedProvider("embedder")
    orchestrator, _ = build(chat_only, embedder)
    info = CallInfo()
    await orchestrator.embeddings(EmbeddingRequest(model="e", input="x"), ANONYMOUS, Trace("r"), info)
    assert info.provider == "embedder" and info.fallback_from is None
    assert chat_only.calls == []


async def test_list_models_puts_aliases_first_without_duplicates() -> None:
    a = ScriptedProvider("a", models=("m1", "m2"))
    b = ScriptedProvider("b", models=("m2", "m3"))
    orchestrator, _ = build(a, b, models={"smart": (Deployment(provider="a", model="m1"),)})
    listed = await orchestrator.list_models()
    assert [(m["id"], m["owned_by"]) for m in listed] == [("smart", "aigw"), ("m1", "a"), ("m2", "a"), ("m3", "b")]
    assert all(m["object"] == "model" for m in listed)

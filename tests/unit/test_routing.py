"""Router: aliases, the provider chain, declared models, fallback switch, task capabilities."""

from __future__ import annotations

from aigw.config import Deployment, GatewayConfig, ProviderConfigBase
from aigw.routing import Route, Router
from aigw.types import Capabilities, TaskKind

BOTH = frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS})
CHAT = frozenset({TaskKind.CHAT})


def provider(name: str) -> ProviderConfigBase:
    return ProviderConfigBase(type="fake", name=name)


def router(
    caps: dict[str, Capabilities],
    *,
    fallback_order: tuple[str, ...] = (),
    models: dict[str, tuple[Deployment, ...]] | None = None,
    fallback_enabled: bool = True,
) -> Router:
    config = GatewayConfig(
        providers=tuple(provider(n) for n in caps),
        models=models or {},
        fallback_order=fallback_order,
        default_model="gpt-4o-mini",
    )
    return Router(config, caps, fallback_enabled=fallback_enabled)


def test_alias_routes_to_its_deployments_in_order() -> None:
    r = router(
        {"openai": Capabilities(BOTH), "azure": Capabilities(BOTH), "local": Capabilities(BOTH)},
        fallback_order=("local", "openai", "azure"),
        models={
            "smart": (
                Deployment(provider="azure", model="gpt-4o-eu"),
                Deployment(provider="openai", model="gpt-4o"),
            )
        },
    )
    routes = r.routes("smart", TaskKind.CHAT)
    assert routes == [Route("azure", "gpt-4o-eu"), Route("openai", "gpt-4o")]
    assert [route.deployment for route in routes] == ["azure/gpt-4o-eu", "openai/gpt-4o"]
    assert r.public_models() == ["smart"]
    assert r.default_model == "gpt-4o-mini"


def test_undeclared_model_follows_the_fallback_order() -> None:
    r = router(
        {"openai": Capabilities(BOTH), "local": Capabilities(BOTH), "spare": Capabilities(BOTH)},
        fallback_order=("local", "openai"),
    )
    # fallback_order first, then the remaining providers in declaration order
    assert r.routes("any-model", TaskKind.CHAT) == [
        Route("local", "any-model"),
        Route("openai", "any-model"),
        Route("spare", "any-model"),
    ]


def test_fallback_order_entries_that_are_not_providers_are_ignored() -> None:
    r = router({"stub": Capabilities(BOTH)}, fallback_order=("openai", "local"))
    assert r.routes("m", TaskKind.CHAT) == [Route("stub", "m")]


def test_providers_declaring_models_only_serve_those() -> None:
    r = router(
        {
            "openai": Capabilities(BOTH, models=("gpt-4o", "gpt-4o-mini")),
            "local": Capabilities(BOTH, models=("llama3",)),
            "any": Capabilities(BOTH),
        },
        fallback_order=("local", "openai", "any"),
    )
    assert r.routes("gpt-4o", TaskKind.CHAT) == [Route("openai", "gpt-4o"), Route("any", "gpt-4o")]
    assert r.routes("llama3", TaskKind.CHAT) == [Route("local", "llama3"), Route("any", "llama3")]
    assert r.routes("mistral", TaskKind.CHAT) == [Route("any", "mistral")]


def test_model_nobody_serves_has_no_routes() -> None:
    r = router({"openai": Capabilities(BOTH, models=("gpt-4o",))})
    assert r.routes("claude-3", TaskKind.CHAT) == []


def test_fallback_disabled_keeps_only_the_first_route() -> None:
    caps = {"openai": Capabilities(BOTH), "local": Capabilities(BOTH)}
    deployments = (Deployment(provider="local", model="a"), Deployment(provider="openai", model="b"))
    r = router(caps, fallback_order=("openai", "local"), models={"alias": deployments}, fallback_enabled=False)
    assert r.routes("m", TaskKind.CHAT) == [Route("openai", "m")]
    assert r.routes("alias", TaskKind.CHAT) == [Route("local", "a")]


def test_embeddings_only_go_to_providers_that_embed() -> None:
    r = router(
        {"chatonly": Capabilities(CHAT), "embedder": Capabilities(BOTH)},
        fallback_order=("chatonly", "embedder"),
        models={
            "mixed": (Deployment(provider="chatonly", model="c"), Deployment(provider="embedder", model="e")),
        },
    )
    assert r.routes("text-embedding-3-small", TaskKind.EMBEDDINGS) == [Route("embedder", "text-embedding-3-small")]
    assert r.routes("text-embedding-3-small", TaskKind.CHAT) == [
        Route("chatonly", "text-embedding-3-small"),
        Route("embedder", "text-embedding-3-small"),
    ]
    assert r.routes("mixed", TaskKind.EMBEDDINGS) == [Route("embedder", "e")]


def test_provider_without_capabilities_is_never_routed_to() -> None:
    config = GatewayConfig(providers=(provider("ghost"), provider("real")))
    r = Router(config, {"real": Capabilities(BOTH)})
    assert r.routes("m", TaskKind.CHAT) == [Route("real", "m")]


def test_fallback_disabled_still_routes_to_the_provider_that_serves_the_model() -> None:
    r = router(
        {"local": Capabilities(CHAT, models=("llama3",)), "openai": Capabilities(BOTH)},
        fallback_order=("local", "openai"),
        fallback_enabled=False,
    )
    assert r.routes("gpt-4o", TaskKind.CHAT) == [Route("openai", "gpt-4o")]
    assert r.routes("text-embedding-3-small", TaskKind.EMBEDDINGS) == [Route("openai", "text-embedding-3-small")]

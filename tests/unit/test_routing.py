"""Router: aliases, the provider chain, declared models, fallback switch, task capabilities,
weighted and canary splits, and the hot-reloaded fallback order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from aigw.config import Deployment, GatewayConfig, ProviderConfigBase
from aigw.configfile import load_config_file
from aigw.routing import Route, Router, sticky_point
from aigw.settings import load_settings
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


# --- weighted split and canary ---------------------------------------------------------------

USERS = [f"user-{i}" for i in range(10_000)]
THREE = {"a": Capabilities(BOTH), "b": Capabilities(BOTH), "c": Capabilities(BOTH)}


def dep(provider: str, weight: float = 1.0, canary: bool = False) -> Deployment:
    return Deployment(provider=provider, model=f"{provider}-m", weight=weight, canary=canary)


def alias_router(*deployments: Deployment, fallback_enabled: bool = True) -> Router:
    return router(THREE, models={"alias": deployments}, fallback_enabled=fallback_enabled)


def primaries(r: Router, users: Sequence[str] = USERS, model: str = "alias") -> list[str]:
    return [r.routes(model, TaskKind.CHAT, sticky_key=u)[0].provider for u in users]


def test_weighted_split_matches_the_weights_across_many_users() -> None:
    r = alias_router(dep("a", 90), dep("b", 10))
    assert primaries(r).count("a") / len(USERS) == pytest.approx(0.90, abs=0.02)
    # The one not chosen is always there as the fallback.
    assert r.routes("alias", TaskKind.CHAT, sticky_key="alice") in (
        [Route("a", "a-m"), Route("b", "b-m")],
        [Route("b", "b-m"), Route("a", "a-m")],
    )


def test_without_a_sticky_key_the_primary_is_drawn_at_random_by_weight() -> None:
    r = alias_router(dep("a", 90), dep("b", 10))
    drawn = [r.routes("alias", TaskKind.CHAT)[0].provider for _ in range(10_000)]
    assert drawn.count("a") / len(drawn) == pytest.approx(0.90, abs=0.02)


def test_fallbacks_keep_declared_order_after_the_chosen_primary() -> None:
    r = alias_router(dep("a", 1), dep("b", 1), dep("c", 2))
    chains = {tuple(x.provider for x in r.routes("alias", TaskKind.CHAT, sticky_key=u)) for u in USERS[:500]}
    assert chains == {("a", "b", "c"), ("b", "a", "c"), ("c", "a", "b")}


def test_sticky_key_always_lands_on_the_same_deployment() -> None:
    first, again = alias_router(dep("a", 5), dep("b", 5)), alias_router(dep("a", 5), dep("b", 5))
    users = USERS[:24]
    assert primaries(first, users) == primaries(first, users) == primaries(again, users)
    # A stable hash, not Python's per-process salted hash(): replicas and restarts agree.
    assert "".join(primaries(first, users)) == "aabaaaabbbaaababaaabbaba"
    assert sticky_point("smart", "alice") == pytest.approx(0.604437, abs=1e-6)


def test_stickiness_is_per_model() -> None:
    # The same users split independently on two aliases with the same weights.
    r = router(THREE, models={"x": (dep("a", 5), dep("b", 5)), "y": (dep("a", 5), dep("b", 5))})
    assert primaries(r, USERS[:200], "x") != primaries(r, USERS[:200], "y")


@pytest.mark.parametrize("stable_after", [80.0, 95.0], ids=["total-kept", "stable-unchanged"])
def test_raising_the_canary_only_moves_users_from_stable_to_canary(stable_after: float) -> None:
    # The canary is declared last; it still takes the first slice, so its users are a growing set.
    before = alias_router(dep("a", 95), dep("c", 5, canary=True))
    after = alias_router(dep("a", stable_after), dep("c", 20, canary=True))
    on_canary_before = {u for u, p in zip(USERS, primaries(before), strict=True) if p == "c"}
    on_canary_after = {u for u, p in zip(USERS, primaries(after), strict=True) if p == "c"}
    assert len(on_canary_before) / len(USERS) == pytest.approx(0.05, abs=0.02)
    assert len(on_canary_after) / len(USERS) == pytest.approx(20 / (20 + stable_after), abs=0.02)
    assert on_canary_before <= on_canary_after
    assert before.routes("alias", TaskKind.CHAT, sticky_key=next(iter(on_canary_before))) == [
        Route("c", "c-m"),
        Route("a", "a-m"),
    ]


def test_zero_weight_deployment_is_never_primary_but_is_a_fallback() -> None:
    r = alias_router(dep("a", 0), dep("b", 1), dep("c", 3))
    assert "a" not in primaries(r, USERS[:2000])
    for user in USERS[:50]:
        routes = r.routes("alias", TaskKind.CHAT, sticky_key=user)
        assert Route("a", "a-m") in routes[1:]


def test_zero_weight_deployment_serves_when_it_is_the_only_one_for_the_task() -> None:
    r = router(
        {"chatonly": Capabilities(CHAT), "embedder": Capabilities(BOTH)},
        models={
            "mixed": (Deployment(provider="chatonly", model="c"), Deployment(provider="embedder", model="e", weight=0))
        },
    )
    assert r.routes("mixed", TaskKind.EMBEDDINGS, sticky_key="u") == [Route("embedder", "e")]
    assert r.routes("mixed", TaskKind.CHAT, sticky_key="u") == [Route("chatonly", "c"), Route("embedder", "e")]


def test_fallback_disabled_returns_only_the_weighted_primary() -> None:
    r = alias_router(dep("a", 90), dep("b", 10), fallback_enabled=False)
    for user in USERS[:100]:
        (only,) = r.routes("alias", TaskKind.CHAT, sticky_key=user)
        assert only == r.routes("alias", TaskKind.CHAT, sticky_key=user)[0]
    assert primaries(r, USERS[:1000]).count("b") > 0


def test_default_weights_keep_the_declared_order() -> None:
    r = alias_router(dep("c"), dep("a"), dep("b"))
    for user in [None, *USERS[:50]]:
        assert [x.provider for x in r.routes("alias", TaskKind.CHAT, sticky_key=user)] == ["c", "a", "b"]


def test_no_provider_for_the_task_means_no_routes() -> None:
    r = router(
        {"chatonly": Capabilities(CHAT), "other": Capabilities(CHAT)},
        models={"weighted": (Deployment(provider="chatonly", model="c", weight=3), dep("other"))},
    )
    assert r.routes("weighted", TaskKind.EMBEDDINGS, sticky_key="u") == []
    assert r.routes("weighted", TaskKind.EMBEDDINGS) == []
    assert r.routes("text-embedding-3-small", TaskKind.EMBEDDINGS) == []


def test_an_alias_whose_weights_are_all_zero_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"model 'alias': every deployment has weight 0"):
        GatewayConfig(providers=(provider("a"), provider("b")), models={"alias": (dep("a", 0), dep("b", 0))})
    with pytest.raises(ValidationError, match="weight"):
        dep("a", -1)


# --- fallback order, hot-reloaded -------------------------------------------------------------


class Policy:
    """Stands in for the hot-reloaded policy: `order` is what it currently says."""

    def __init__(self, order: Sequence[str] | None = None) -> None:
        self.order = order

    def fallback_order(self) -> Sequence[str] | None:
        return self.order


def chain_router(policy: Policy, **models: tuple[Deployment, ...]) -> Router:
    config = GatewayConfig(providers=tuple(provider(n) for n in THREE), fallback_order=("b", "c"), models=models)
    return Router(config, THREE, fallback_order=policy.fallback_order)


def chain(r: Router, model: str = "m") -> list[str]:
    return [x.provider for x in r.routes(model, TaskKind.CHAT)]


def test_fallback_order_override_changes_the_chain_at_once() -> None:
    policy = Policy()
    r = chain_router(policy)
    assert chain(r) == ["b", "c", "a"]  # the config's fallback_order, then the rest
    policy.order = ("a", "c", "b")
    assert chain(r) == ["a", "c", "b"]
    policy.order = ("c",)  # the rest follow in the config's chain order
    assert chain(r) == ["c", "b", "a"]
    policy.order = ()  # empty = back to the config
    assert chain(r) == ["b", "c", "a"]
    policy.order = ["a", "b"]  # any sequence will do
    assert chain(r) == ["a", "b", "c"]


def test_fallback_order_override_ignores_unknown_and_repeated_names() -> None:
    r = chain_router(Policy(("ghost", "c", "openai", "c", "a")))
    assert chain(r) == ["c", "a", "b"]


def test_fallback_order_override_leaves_alias_fallbacks_in_declared_order() -> None:
    r = chain_router(Policy(("c", "b", "a")), alias=(dep("a"), dep("b"), dep("c")))
    assert chain(r, "alias") == ["a", "b", "c"]


def test_the_chain_for_an_unchanged_order_is_not_recomputed() -> None:
    iterations = 0

    class CountingOrder(tuple[str, ...]):
        def __iter__(self) -> Iterator[str]:
            nonlocal iterations
            iterations += 1
            return super().__iter__()

    r = chain_router(Policy(CountingOrder(("c", "a"))))
    for _ in range(100):
        assert chain(r) == ["c", "a", "b"]
    assert iterations <= 2  # once into a cache key, once to build the chain; never per request


# --- the shipped example -------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gateway.yaml"


@pytest.mark.usefixtures("clean_env")
def test_example_config_has_a_weighted_split_and_a_canary() -> None:
    config = load_config_file(EXAMPLE, load_settings())
    r = Router(config, {p.name: Capabilities(BOTH) for p in config.providers})
    smart = primaries(r, USERS, "smart")
    assert smart.count("openai") / len(USERS) == pytest.approx(0.90, abs=0.02)
    assert "local-vllm" not in smart  # weight 0: fallback only
    assert any(d.canary for d in config.models["fast"])
    assert primaries(r, USERS, "fast").count("local-vllm") / len(USERS) == pytest.approx(0.05, abs=0.02)

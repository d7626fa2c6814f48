"""Routing: which deployments (provider + upstream model) may serve a requested model, in order.

A model alias whose deployments carry weights (or a canary) picks its primary by a point in
[0, 1): a stable hash of the alias and the request's sticky key (the user), so one user keeps
landing on the same deployment across requests, replicas and restarts; without a sticky key the
point is a random draw. Each deployment owns a slice of [0, 1) as wide as its share of the weight,
canaries first: raising a canary's weight only widens a slice that starts at 0, so users move from
stable to canary and never back. The other deployments follow as fallbacks in declared order.

Any other model goes to each provider that serves it, in the provider chain's order: the current
fallback-order override (hot-reloaded policy) when there is one, else the config's `fallback_order`.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from aigw.config import Deployment, GatewayConfig
from aigw.types import Capabilities, TaskKind

FallbackOrder = Callable[[], Sequence[str] | None]

_UNIT = float(1 << 53)  # 53 bits: every point is exactly representable and strictly below 1.0
_MAX_CACHED_ORDERS = 32  # distinct overrides seen; more means churn, so start over rather than grow


@dataclass(slots=True, frozen=True)
class Route:
    provider: str
    model: str

    @property
    def deployment(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(slots=True, frozen=True)
class _Split:
    """An alias's deployments for one task kind, laid out once so a pick is a hash and a bisect."""

    routes: tuple[Route, ...]  # declared order, which is also the fallback order
    slots: tuple[int, ...]  # indexes into `routes` with weight > 0, canaries first
    bounds: tuple[float, ...]  # cumulative weights of `slots`
    weighted: bool

    @classmethod
    def build(cls, deployments: Sequence[Deployment], weighted: bool) -> _Split:
        # sorted() is stable: canaries, then the rest, each in declared order.
        slots = sorted((i for i, d in enumerate(deployments) if d.weight > 0), key=lambda i: not deployments[i].canary)
        return cls(
            routes=tuple(Route(d.provider, d.model) for d in deployments),
            slots=tuple(slots),
            bounds=tuple(accumulate(deployments[i].weight for i in slots)),
            weighted=weighted and bool(slots),  # only zero-weight ones left: declared order still serves
        )

    def ordered(self, point: float) -> list[Route]:
        if not self.weighted:
            return list(self.routes)
        # min(): point * total may round up to total itself.
        slot = min(bisect_right(self.bounds, point * self.bounds[-1]), len(self.slots) - 1)
        chosen = self.slots[slot]
        return [self.routes[chosen], *self.routes[:chosen], *self.routes[chosen + 1 :]]


def sticky_point(model: str, sticky_key: str) -> float:
    """Where a key falls in [0, 1) for a model. blake2b, not `hash()`: Python salts `hash()` per
    process, which would reshuffle users on every restart and disagree between replicas."""
    digest = hashlib.blake2b(f"{model}\0{sticky_key}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _UNIT


def _chain_of(order: Sequence[str], base: Sequence[str]) -> tuple[str, ...]:
    """`order`'s known names first (once each), then the rest of `base` in its own order."""
    known = set(base)
    head = tuple(dict.fromkeys(name for name in order if name in known))
    return head + tuple(name for name in base if name not in head)


class Router:
    """Resolves a model name to the routes to try: the first is primary, the rest fallbacks.

    A model declared under `models:` goes to its listed deployments: in declared order while every
    one keeps the default weight 1.0 and none is a canary (a plain fallback list), otherwise with a
    weighted primary (see the module docstring). Any other model goes to each provider that serves
    it (one declaring no models serves any), in the provider chain's order.

    `fallback_order` is read on every call so a hot-reloaded policy takes effect at once, without
    rebuilding the router; None or empty means the config's `fallback_order`. The chain for each
    distinct order is computed once and reused.
    """

    def __init__(
        self,
        config: GatewayConfig,
        capabilities: dict[str, Capabilities],
        fallback_enabled: bool = True,
        fallback_order: FallbackOrder | None = None,
    ) -> None:
        self._capabilities = capabilities
        self._fallback_enabled = fallback_enabled
        self._order_source = fallback_order
        self._base_chain = _chain_of(config.fallback_order, [p.name for p in config.providers])
        self._chains: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._last: tuple[object, tuple[str, ...]] = ((), self._base_chain)
        self._aliases = {alias: self._splits(deployments) for alias, deployments in config.models.items()}
        self.default_model = config.default_model

    def routes(self, model: str, kind: TaskKind, sticky_key: str | None = None) -> list[Route]:
        """`sticky_key` (the user) pins a weighted alias's primary to that key; None draws at random."""
        splits = self._aliases.get(model)
        if splits is None:
            found = [Route(name, model) for name in self._chain() if self._serves(name, model, kind)]
        elif splits[kind].weighted:
            found = splits[kind].ordered(random.random() if sticky_key is None else sticky_point(model, sticky_key))
        else:
            found = list(splits[kind].routes)
        return found if self._fallback_enabled else found[:1]

    def public_models(self) -> list[str]:
        return list(self._aliases)

    def _splits(self, deployments: Sequence[Deployment]) -> dict[TaskKind, _Split]:
        weighted = any(d.weight != 1.0 or d.canary for d in deployments)
        return {
            kind: _Split.build([d for d in deployments if self._serves_task(d.provider, kind)], weighted)
            for kind in TaskKind
        }

    def _chain(self) -> tuple[str, ...]:
        order = self._order_source() if self._order_source is not None else None
        if not order:
            return self._base_chain
        last_order, last_chain = self._last
        if order is last_order:  # the policy hands back the same tuple until it changes
            return last_chain
        key = tuple(order)
        chain = self._chains.get(key)
        if chain is None:
            if len(self._chains) >= _MAX_CACHED_ORDERS:
                self._chains.clear()
            chain = self._chains[key] = _chain_of(key, self._base_chain)
        if isinstance(order, tuple):  # a list could be changed in place behind an identity check
            self._last = (order, chain)
        return chain

    def _serves_task(self, provider: str, kind: TaskKind) -> bool:
        caps = self._capabilities.get(provider)
        return caps is not None and kind in caps.tasks

    def _serves(self, provider: str, model: str, kind: TaskKind) -> bool:
        caps = self._capabilities.get(provider)
        return caps is not None and kind in caps.tasks and (not caps.models or model in caps.models)

"""Routing: which deployments (provider + upstream model) may serve a requested model, in order."""

from __future__ import annotations

from dataclasses import dataclass

from aigw.config import GatewayConfig
from aigw.types import Capabilities, TaskKind


@dataclass(slots=True, frozen=True)
class Route:
    provider: str
    model: str

    @property
    def deployment(self) -> str:
        return f"{self.provider}/{self.model}"


class Router:
    """Resolves a model name to the routes to try: the first is primary, the rest fallbacks.

    A model declared under `models:` in the config goes to its listed deployments. Any other
    model goes to each provider that serves it (one declaring no models serves any), in the
    provider chain's order (`fallback_order`).
    """

    def __init__(
        self, config: GatewayConfig, capabilities: dict[str, Capabilities], fallback_enabled: bool = True
    ) -> None:
        self._aliases = config.models
        self._chain = config.provider_chain()
        self._capabilities = capabilities
        self._fallback_enabled = fallback_enabled
        self.default_model = config.default_model

    def routes(self, model: str, kind: TaskKind) -> list[Route]:
        declared = self._aliases.get(model)
        if declared is not None:
            found = [Route(d.provider, d.model) for d in declared if self._serves_task(d.provider, kind)]
        else:
            found = [Route(name, model) for name in self._chain if self._serves(name, model, kind)]
        return found if self._fallback_enabled else found[:1]

    def public_models(self) -> list[str]:
        return list(self._aliases)

    def _serves_task(self, provider: str, kind: TaskKind) -> bool:
        caps = self._capabilities.get(provider)
        return caps is not None and kind in caps.tasks

    def _serves(self, provider: str, model: str, kind: TaskKind) -> bool:
        caps = self._capabilities.get(provider)
        return caps is not None and kind in caps.tasks and (not caps.models or model in caps.models)

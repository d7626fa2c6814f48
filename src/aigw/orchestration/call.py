"""One call as the orchestrator's stages see it: who asks, where it may go, what is told back."""

from __future__ import annotations

import dataclasses

from aigw.client import AIClient
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.routing import Route
from aigw.types import CallInfo


@dataclasses.dataclass(slots=True)
class Call:
    """One request's routing, passed along its calls (the first, and a repair)."""

    routes: list[Route]
    clients: dict[str, AIClient]  # the clients it started with, even if a configuration swap replaces them
    caller: Caller
    trace: Trace
    info: CallInfo

    def billable(self, provider: str) -> bool:
        """Whether what `provider` served costs money (the local stub's answers do not)."""
        client = self.clients.get(provider)
        return client is None or client.capabilities.billable

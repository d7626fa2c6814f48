"""The provider interface: everything the gateway asks of an AI provider, in three methods."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from aigw.config import ProviderConfigBase
from aigw.types import AIRequest, AIResponse, Capabilities, ChatStream


class AIProvider(ABC):
    """One configured provider. Subclasses live one per module in `aigw.providers`.

    `execute_task` makes exactly one attempt: timeouts, retries and the circuit breaker belong
    to `aigw.client.AIClient`. Failures are raised as `aigw.errors.ProviderError` subclasses.
    """

    type_name: ClassVar[str]
    config_class: ClassVar[type[ProviderConfigBase]]

    def __init__(self, config: ProviderConfigBase) -> None:
        self.config = config
        self.name = config.name

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open pools and other resources; called once before the first task."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `start` opened."""

    @abstractmethod
    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        """Run one task. A chat request with `stream=True` returns a `ChatStream`."""

    def is_available(self) -> bool:
        """Whether the provider is configured and started well enough to be called at all."""
        return True

    @abstractmethod
    def get_capabilities(self) -> Capabilities:
        """The tasks and models this provider serves."""

    async def list_models(self) -> list[str]:
        """Models to show in `GET /v1/models`."""
        return list(self.get_capabilities().models)

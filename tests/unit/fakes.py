"""Test doubles for the unit tests: a settable clock and a scripted provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from aigw.config import ProviderConfigBase
from aigw.providers.base import AIProvider
from aigw.types import AIRequest, AIResponse, Capabilities, ChatStream, TaskKind, Usage


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedProvider(AIProvider):
    """Answers from a script: each call pops the next step; an exception is raised, "ok" answers.

    When the script runs out every further call answers "ok".
    """

    # No class-level `type_name`: the provider registry must not discover this test double.
    config_class: ClassVar[type[ProviderConfigBase]] = ProviderConfigBase

    def __init__(
        self,
        name: str,
        script: Sequence[BaseException | str] = (),
        *,
        tasks: frozenset[TaskKind] = frozenset({TaskKind.CHAT, TaskKind.EMBEDDINGS}),
        models: tuple[str, ...] = (),
    ) -> None:
        super().__init__(ProviderConfigBase(type="scripted-test", name=name, models=models))
        self.type_name = "scripted-test"  # what provider_status() reports
        self.script = list(script)
        self.tasks = tasks
        self.calls: list[AIRequest] = []

    def get_capabilities(self) -> Capabilities:
        return Capabilities(tasks=self.tasks, models=self.config.models)

    async def execute_task(self, request: AIRequest) -> AIResponse | ChatStream:
        self.calls.append(request)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            raise step
        usage = Usage(3, 5, 8)
        body: dict[str, Any] = {"object": "chat.completion", "model": request.model, "served_by": self.name}
        return AIResponse(body=body, usage=usage, model=request.model)


async def collect(stream: AsyncIterator[dict[str, Any]] | ChatStream) -> list[dict[str, Any]]:
    return [chunk async for chunk in stream]

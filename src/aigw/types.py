"""Internal request and response types shared by the orchestrator and the providers. No I/O here.

Messages and extra parameters stay in OpenAI's shape (plain dicts): that is the lingua franca of
every provider we speak to, and keeping unknown parameters lets new upstream features pass through.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class TaskKind(enum.StrEnum):
    CHAT = "chat"
    EMBEDDINGS = "embeddings"


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_openai(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, dict):
            return None
        prompt = _int(raw.get("prompt_tokens"))
        completion = _int(raw.get("completion_tokens"))
        total = _int(raw.get("total_tokens")) or prompt + completion
        return cls(prompt, completion, total)

    def to_openai(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


@dataclass(slots=True)
class ChatRequest:
    """A chat completion as the gateway handles it. `params` holds every other OpenAI parameter."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    template: str | None = None  # "name" or "name@version": its messages go before `messages`
    variables: dict[str, Any] = field(default_factory=dict)  # the template's variables

    @property
    def kind(self) -> TaskKind:
        return TaskKind.CHAT


@dataclass(slots=True)
class EmbeddingRequest:
    model: str
    input: str | list[Any]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> TaskKind:
        return TaskKind.EMBEDDINGS


AIRequest = ChatRequest | EmbeddingRequest


@dataclass(slots=True)
class AIResponse:
    """A complete (non-streamed) answer: the OpenAI-shaped body and what was read from it."""

    body: dict[str, Any]
    usage: Usage | None
    model: str


class ChatStream:
    """A streamed chat answer: OpenAI `chat.completion.chunk` dicts, in order.

    The provider has already received the upstream's response head when this exists, so the
    first chunk can be relayed at once. `usage` is filled in when the usage chunk passes.
    """

    __slots__ = ("_chunks", "_close", "usage")

    def __init__(self, chunks: AsyncIterator[dict[str, Any]], close: Any = None) -> None:
        self._chunks = chunks
        self._close = close
        self.usage: Usage | None = None

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        async for chunk in self._chunks:
            if chunk.get("usage") is not None:
                self.usage = Usage.from_openai(chunk["usage"])
            yield chunk

    async def aclose(self) -> None:
        if self._close is not None:
            await self._close()


@dataclass(slots=True, frozen=True)
class Capabilities:
    """What a provider can do; the router only sends it tasks it declares."""

    tasks: frozenset[TaskKind]
    streaming: bool = True
    models: tuple[str, ...] = ()  # models it is known to serve; empty means "whatever it is asked"
    billable: bool = True  # False: answers cost nothing (local, deterministic), whatever the model name
    meaningful: bool = True  # False: answers carry no meaning (the stub): tasks do not search or reason with them


@dataclass(slots=True)
class CallInfo:
    """What the orchestrator did for one request: who served it, how, and what it used."""

    provider: str | None = None
    deployment: str | None = None
    model: str | None = None
    usage: Usage | None = None
    attempts: int = 0
    fallback_from: str | None = None
    cost_usd: Decimal | None = None
    latency_ms: float | None = None  # provider time: until the answer, or a stream's first byte
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # added to the answer (rate limits, cost)
    cache_read: bool = True  # the caller accepts a cached answer (`Cache-Control: no-cache` says no)
    cache_write: bool = True  # the caller lets its answer be cached (`Cache-Control: no-store` says no)
    preview_chars: int = 0  # > 0: keep masked previews of this length for the trace (AI_TRACE_PAYLOADS=masked)
    prompt_preview: str | None = None  # the prompt as it went upstream, PII masked
    answer_preview: str | None = None  # the answer as it came back, before originals are restored

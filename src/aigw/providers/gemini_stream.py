"""A `streamGenerateContent?alt=sse` stream as OpenAI `chat.completion.chunk`s (pure, no I/O).

Each SSE `data:` event is a whole GenerateContentResponse holding the candidates' new parts.
Text parts become content deltas; a `functionCall` arrives whole, so it becomes one tool-call
delta carrying its id, name and all its arguments. A candidate's `finishReason` becomes a chunk
of its own with an empty delta (as OpenAI sends it). `usageMetadata` comes with every event, each
one the running total: the last one is handed on once, in a final chunk with no choices (OpenAI's
`include_usage` shape) when the stream ends. A safety block mid-stream raises the same
`content_filtered` refusal as a plain answer (see `gemini_answer`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from aigw.errors import ProviderResponseError
from aigw.providers.gemini_answer import (
    BLOCKING_REASONS,
    check_prompt_feedback,
    content_filtered,
    tool_call,
    usage_of,
)

_FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}


@dataclass(slots=True)
class _CandidateState:
    started: bool = False
    tool_calls: int = 0


@dataclass(slots=True)
class StreamTranslator:
    """Feed it each event's parsed JSON; `chunks` gives the OpenAI chunks it makes, `final` the
    usage chunk once the stream has ended."""

    model: str
    provider: str
    created: int
    id: str = field(default_factory=lambda: "chatcmpl-" + secrets.token_hex(12))
    _candidates: dict[int, _CandidateState] = field(default_factory=dict)
    _usage: dict[str, Any] | None = None

    def chunks(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        check_prompt_feedback(event, self.provider)
        if isinstance(event.get("modelVersion"), str):
            self.model = event["modelVersion"]
        usage = usage_of(event.get("usageMetadata"))
        if usage is not None:
            self._usage = usage
        candidates = event.get("candidates")
        if candidates is None:
            return []
        if not isinstance(candidates, list):
            raise ProviderResponseError("a stream event's candidates are not a list", provider=self.provider)
        out: list[dict[str, Any]] = []
        for position, candidate in enumerate(candidates):
            if isinstance(candidate, dict):
                out.extend(self._candidate_chunks(candidate, position))
        return out

    def final(self) -> dict[str, Any] | None:
        if self._usage is None:
            return None
        return {**self._envelope(), "choices": [], "usage": self._usage}

    def _candidate_chunks(self, candidate: dict[str, Any], position: int) -> list[dict[str, Any]]:
        index = candidate.get("index", position)
        index = index if isinstance(index, int) else position
        state = self._candidates.setdefault(index, _CandidateState())
        reason = candidate.get("finishReason")
        if reason in BLOCKING_REASONS:
            raise content_filtered(str(reason), self.provider)
        out = [self._chunk(index, delta) for delta in self._deltas(candidate, state)]
        if reason:
            finish = "tool_calls" if state.tool_calls else _FINISH_REASONS.get(str(reason), "stop")
            out.append(self._chunk(index, {}, finish))
        return out

    def _deltas(self, candidate: dict[str, Any], state: _CandidateState) -> list[dict[str, Any]]:
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        deltas: list[dict[str, Any]] = []
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, dict) or part.get("thought"):
                continue
            if isinstance(part.get("text"), str) and part["text"]:
                deltas.append({"content": part["text"]})
            elif isinstance(part.get("functionCall"), dict):
                deltas.append({"tool_calls": [{"index": state.tool_calls, **tool_call(part)}]})
                state.tool_calls += 1
        if deltas and not state.started:
            deltas[0] = {"role": "assistant", **deltas[0]}
            state.started = True
        return deltas

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**self._envelope(), "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}

    def _envelope(self) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}

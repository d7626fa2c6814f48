"""Anthropic's streamed Messages events as OpenAI `chat.completion.chunk` dicts.

The Messages API streams `message_start`, then per content block `content_block_start`, its
`content_block_delta`s (`text_delta`, `input_json_delta` ...) and `content_block_stop`, then
`message_delta` (stop reason, cumulative usage) and `message_stop`; `ping` may come anywhere and
`error` ends the stream. Translated:
- `message_start` → the role chunk (`{"role": "assistant", "content": ""}`), as OpenAI sends first;
- text deltas → content chunks;
- a `tool_use` block's start → a tool-call chunk with its OpenAI index (tool calls counted from
  0, whatever their block index), id, name and empty arguments; its `input_json_delta`s →
  argument fragments at that index;
- `message_delta` → a chunk with an empty delta and the finish reason;
- `message_stop` → the usage chunk (`choices: []`), after which the stream is complete;
- `error` → a `ProviderStatusError` of the status its type stands for;
- `ping`, thinking deltas and event types added later are skipped (Anthropic's versioning
  policy allows new event types).
A stream that ends before `message_stop` was cut: the provider raises on it.
"""

from __future__ import annotations

from typing import Any

from aigw.providers import chat_answers as written
from aigw.providers.anthropic_answer import completion_id, finish_reason, stream_error, usage_of


class StreamTranslator:
    """One stream's state: the message's id and model, tool-call indexes and usage so far."""

    def __init__(self, model: str, provider: str, created: int) -> None:
        self.provider = provider
        self.complete = False
        self._model = model
        self._created = created
        self._id = completion_id(None)
        self._usage: dict[str, Any] = {}
        self._tool_index: dict[int, int] = {}  # content block index -> OpenAI tool-call index

    def chunks(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The OpenAI chunks for one Anthropic event (often none or one)."""
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "message_start":
            return self._start(event.get("message"))
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            self.complete = True
            return [{**self._envelope(), "choices": [], "usage": usage_of(self._usage)}]
        if kind == "error":
            raise stream_error(event, self.provider)
        return []

    def _start(self, message: Any) -> list[dict[str, Any]]:
        if isinstance(message, dict):
            self._id = completion_id(message.get("id"))
            if isinstance(message.get("model"), str):
                self._model = message["model"]
            if isinstance(message.get("usage"), dict):
                self._usage.update(message["usage"])
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        block = event.get("content_block")
        if not isinstance(block, dict):
            return []
        if block.get("type") == "tool_use":
            index = len(self._tool_index)
            self._tool_index[_int(event.get("index"))] = index
            call = {
                "index": index,
                "id": str(block.get("id") or ""),
                "type": "function",
                "function": {"name": str(block.get("name") or ""), "arguments": ""},
            }
            return [self._chunk({"tool_calls": [call]})]
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        return []

    def _delta(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta" and isinstance(delta.get("text"), str):
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            index = self._tool_index.get(_int(event.get("index")))
            if index is None or not delta["partial_json"]:
                return []
            call = {"index": index, "function": {"arguments": delta["partial_json"]}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _message_delta(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        usage = event.get("usage")
        if isinstance(usage, dict):  # cumulative counts: the latest replace the earlier ones
            self._usage.update({k: v for k, v in usage.items() if v is not None})
        delta = event.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        if stop_reason is None:
            return []
        return [self._chunk({}, finish_reason(stop_reason))]

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return written.chunk(self._envelope(), delta, finish)

    def _envelope(self) -> dict[str, Any]:
        return written.chunk_envelope(self._id, self._created, self._model)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1

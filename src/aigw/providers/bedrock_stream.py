"""A Bedrock ConverseStream answer (`application/vnd.amazon.eventstream`) as OpenAI chunks.

The binary framing (prelude with lengths and CRC, typed headers, payload, message CRC) is parsed by
botocore's `EventStreamBuffer`; `EventStreamDecoder` only cuts the byte stream into whole messages
first, so that the work stays linear in the stream's size (the buffer joins bytes objects, which
is quadratic for a message arriving in many small pieces) and a message larger than the bound is
refused from its prelude, before it is buffered. botocore is imported when a stream is decoded.

Each message has `:message-type` `event` (its `:event-type` names it, its payload is JSON),
`exception` (`:exception-type`, e.g. `throttlingException`, with a JSON `message`) or `error`
(`:error-code`, `:error-message`). The events of a Converse stream, translated:
- `messageStart` → the role chunk (`{"role": "assistant", "content": ""}`);
- `contentBlockStart` with `start.toolUse` → a tool-call chunk (OpenAI index counted from 0, id,
  name, empty arguments); `contentBlockDelta` `text` → content, `toolUse.input` → argument
  fragments of that call; reasoning deltas are skipped;
- `messageStop` → the chunk with the finish reason; `metadata` → the usage chunk (`choices: []`),
  after which the stream is complete. Event types added later are skipped.
A stream that ends before `messageStop` was cut: the provider raises on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from aigw.errors import ProviderResponseError
from aigw.json_nesting import text_exceeds_depth
from aigw.providers import chat_answers as written
from aigw.providers.bedrock_answer import completion_id, finish_reason, status_error, stream_exception, usage_of

_PRELUDE_BYTES = 12  # total length, headers length, prelude CRC
_SMALLEST_MESSAGE = 16  # a prelude and the message CRC


class EventStreamDecoder:
    """Feed it the body's chunks; it gives (headers, payload) of each whole message, in order."""

    def __init__(self, max_message_bytes: int, provider: str) -> None:
        from botocore import eventstream  # type: ignore[import-untyped]

        self._eventstream = eventstream
        self._limit = max_message_bytes
        self._provider = provider
        self._pending = bytearray()
        self._length: int | None = None  # of the message whose prelude has been read

    def feed(self, chunk: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
        self._pending += chunk
        while True:
            if self._length is None:
                if len(self._pending) < _PRELUDE_BYTES:
                    return
                self._length = self._read_prelude(bytes(self._pending[:_PRELUDE_BYTES]))
            if len(self._pending) < self._length:
                return
            whole = bytes(self._pending[: self._length])
            del self._pending[: self._length]
            self._length = None
            yield self._parse(whole)

    @property
    def pending(self) -> bool:
        """Whether a message has begun and not ended (the stream was cut inside it)."""
        return bool(self._pending)

    def _read_prelude(self, prelude: bytes) -> int:
        """The message's length, once botocore has checked the prelude's CRC and bounds."""
        (length, _headers, _crc), _ = self._eventstream.DecodeUtils.unpack_prelude(prelude)
        if length < _SMALLEST_MESSAGE:
            raise self._malformed(ValueError(f"message length {length}"))
        buffer = self._eventstream.EventStreamBuffer()
        buffer.add_data(prelude)
        try:
            for _ in buffer:  # with the prelude alone it stops once it has checked its CRC and bounds
                break
        except self._eventstream.ParserError as exc:
            raise self._malformed(exc) from None
        if length > self._limit:
            raise ProviderResponseError(f"a stream event is larger than {self._limit} bytes", provider=self._provider)
        return int(length)

    def _parse(self, whole: bytes) -> tuple[dict[str, Any], bytes]:
        buffer = self._eventstream.EventStreamBuffer()
        buffer.add_data(whole)
        try:
            message = next(buffer)
        except (self._eventstream.ParserError, StopIteration, UnicodeDecodeError) as exc:
            raise self._malformed(exc) from None
        return dict(message.headers), bytes(message.payload)

    def _malformed(self, exc: BaseException) -> ProviderResponseError:
        detail = f"{type(exc).__name__}: {str(exc)[:160]}"
        return ProviderResponseError(f"malformed event stream ({detail})", provider=self._provider)


class StreamTranslator:
    """One stream's state: tool-call indexes, whether it stopped, whether usage came."""

    def __init__(self, model: str, provider: str, created: int) -> None:
        self.provider = provider
        self.stopped = False  # messageStop came
        self.complete = False  # metadata (usage) came after it
        self._envelope = written.chunk_envelope(completion_id(), created, model)
        self._tool_index: dict[int, int] = {}  # contentBlockIndex -> OpenAI tool-call index

    def chunks(self, headers: dict[str, Any], payload: bytes) -> list[dict[str, Any]]:
        """The OpenAI chunks for one event-stream message (often none or one)."""
        kind = headers.get(":message-type")
        if kind == "exception":
            raise stream_exception(str(headers.get(":exception-type") or ""), self._json(payload), self.provider)
        if kind == "error":
            message = {"message": str(headers.get(":error-message") or "")}
            raise status_error(500, str(headers.get(":error-code") or "") or None, message, self.provider)
        if kind != "event":
            return []
        event = self._json(payload)
        name = headers.get(":event-type")
        if name == "contentBlockDelta":
            return self._delta(event)
        if name == "messageStart":
            return [self._chunk({"role": "assistant", "content": ""})]
        if name == "contentBlockStart":
            return self._block_start(event)
        if name == "messageStop":
            self.stopped = True
            return [self._chunk({}, finish_reason(event.get("stopReason"), self.provider))]
        if name == "metadata":
            self.complete = self.stopped
            return [{**self._envelope, "choices": [], "usage": usage_of(event.get("usage"))}]
        return []

    def _block_start(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        start = event.get("start")
        tool = start.get("toolUse") if isinstance(start, dict) else None
        if not isinstance(tool, dict):
            return []
        index = len(self._tool_index)
        self._tool_index[_int(event.get("contentBlockIndex"))] = index
        call = {
            "index": index,
            "id": str(tool.get("toolUseId") or ""),
            "type": "function",
            "function": {"name": str(tool.get("name") or ""), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _delta(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return []
        if isinstance(delta.get("text"), str):
            return [self._chunk({"content": delta["text"]})] if delta["text"] else []
        tool = delta.get("toolUse")
        if isinstance(tool, dict) and isinstance(tool.get("input"), str) and tool["input"]:
            index = self._tool_index.get(_int(event.get("contentBlockIndex")))
            if index is None:
                return []
            return [self._chunk({"tool_calls": [{"index": index, "function": {"arguments": tool["input"]}}]})]
        return []

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return written.chunk(self._envelope, delta, finish)

    def _json(self, payload: bytes) -> dict[str, Any]:
        if not payload:
            return {}
        try:
            parsed = None if text_exceeds_depth(payload) else orjson.loads(payload)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ProviderResponseError(
                "a stream event is not a JSON object (or nests too deep)", provider=self.provider
            )
        return parsed


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1

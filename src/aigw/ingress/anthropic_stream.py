"""A canonical stream (OpenAI `chat.completion.chunk` dicts) as Anthropic's Messages SSE events.

Anthropic's stream is block-structured where OpenAI's is a flat run of deltas:
`message_start`, `ping`, then per content block `content_block_start`, its deltas
(`text_delta`, or `input_json_delta` for a tool's input) and `content_block_stop`, then
`message_delta` (stop reason and usage) and `message_stop`. So a block is opened when the kind of
delta changes (text, or a tool call with a new index) and closed before the next one opens; OpenAI
streams parallel tool calls one after the other, so blocks never interleave. A tool's argument
fragments are relayed as they come (`partial_json`): the client assembles them, as it does
Anthropic's own.

Usage only arrives with the last chunk of an OpenAI stream, so `message_start` carries zeros and
the totals come in `message_delta` (Anthropic's clients take its counts over the start's).
A failure mid-stream ends the stream with Anthropic's `error` event.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.errors import GatewayError
from aigw.ingress.anthropic_response import error_body, message_id, stop_reason, usage


def sse_event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


_PING = sse_event("ping", {"type": "ping"})


class MessageEvents:
    """Turns one canonical stream's chunks into Anthropic events, chunk by chunk."""

    __slots__ = ("_finish", "_open", "_opened", "_started", "_tools", "_usage", "model")

    def __init__(self, model: str) -> None:
        self.model = model
        self._started = False
        self._opened = 0  # content blocks opened so far: the next block's index
        self._open: str | int | None = None  # "text", or the OpenAI index of the open tool call
        self._tools: dict[int, int] = {}  # OpenAI tool call index -> content block index
        self._finish: Any = None
        self._usage: Any = None

    def feed(self, chunk: dict[str, Any]) -> list[bytes]:
        out = [] if self._started else self._start(chunk)
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        if choice is None:
            return out
        delta = choice.get("delta")
        if isinstance(delta, dict):
            text = delta.get("content")
            if isinstance(text, str) and text:
                out.extend(self._text(text))
            calls = delta.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                if isinstance(call, dict):
                    out.extend(self._tool_call(call))
        if choice.get("finish_reason") is not None:
            self._finish = choice["finish_reason"]
        return out

    def finish(self) -> list[bytes]:
        """The events that end a stream that ended normally."""
        out = [] if self._started else self._start({})
        out.extend(self._close())
        delta = {"stop_reason": stop_reason(self._finish), "stop_sequence": None}
        out.append(sse_event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage(self._usage)}))
        out.append(sse_event("message_stop", {"type": "message_stop"}))
        return out

    @staticmethod
    def error(error: GatewayError) -> bytes:
        return sse_event("error", error_body(error))

    def _start(self, chunk: dict[str, Any]) -> list[bytes]:
        self._started = True
        model = chunk.get("model") if isinstance(chunk.get("model"), str) else self.model
        message: dict[str, Any] = {
            "id": message_id(chunk.get("id")),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [sse_event("message_start", {"type": "message_start", "message": message}), _PING]

    def _text(self, text: str) -> list[bytes]:
        out = []
        if self._open != "text":
            out.extend(self._close())
            out.append(self._open_block("text", {"type": "text", "text": ""}))
        delta = {"type": "text_delta", "text": text}
        out.append(
            sse_event("content_block_delta", {"type": "content_block_delta", "index": self._opened - 1, "delta": delta})
        )
        return out

    def _tool_call(self, call: dict[str, Any]) -> list[bytes]:
        index, function = call.get("index"), call.get("function")
        position = index if isinstance(index, int) else 0
        if not isinstance(function, dict):
            function = {}
        out = []
        if position not in self._tools:
            out.extend(self._close())
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or "",
                "name": function.get("name") or "",
                "input": {},
            }
            self._tools[position] = self._opened
            out.append(self._open_block(position, block))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            delta = {"type": "input_json_delta", "partial_json": arguments}
            event = {"type": "content_block_delta", "index": self._tools[position], "delta": delta}
            out.append(sse_event("content_block_delta", event))
        return out

    def _open_block(self, kind: str | int, block: dict[str, Any]) -> bytes:
        self._open = kind
        self._opened += 1
        return sse_event(
            "content_block_start", {"type": "content_block_start", "index": self._opened - 1, "content_block": block}
        )

    def _close(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [sse_event("content_block_stop", {"type": "content_block_stop", "index": self._opened - 1})]

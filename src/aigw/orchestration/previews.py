"""Masked previews for persisted traces: the start of the prompt as it went upstream (after PII
masking) and of the answer as it came back (before originals are restored).

Made only when `CallInfo.preview_chars` asks (`AI_TRACE_PAYLOADS=masked`), and bounded by it: each
text is cut to the limit before it is joined, and the walk stops once the limit is reached, so a
megabyte prompt costs what a short one does. The trace writer scrubs them once more with the log
redactor before they are stored.

The prompt preview is read from the last message backwards (the question asked is usually last;
a long system prompt first would fill the preview with the same text on every call), each message
as `role: text`. An embedding's preview is its first inputs. A streamed answer's preview is the
first characters of its deltas, gathered as the chunks pass (`stream_preview`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aigw.types import AIRequest, CallInfo, ChatRequest, ChatStream

__all__ = ["answer_preview", "note_answer", "note_prompt", "prompt_preview", "stream_preview"]

_MAX_PARTS = 16  # content parts or embedding inputs looked at


def note_prompt(request: AIRequest, info: CallInfo) -> None:
    """Keep the prompt's preview in `info` when previews are wanted."""
    if info.preview_chars:
        info.prompt_preview = prompt_preview(request, info.preview_chars)


def note_answer(body: dict[str, Any], info: CallInfo) -> None:
    """Keep the answer's preview in `info` when previews are wanted."""
    if info.preview_chars:
        info.answer_preview = answer_preview(body, info.preview_chars)


def prompt_preview(request: AIRequest, limit: int) -> str:
    if not isinstance(request, ChatRequest):
        inputs = request.input if isinstance(request.input, list) else [request.input]
        return _joined([item for item in inputs[:_MAX_PARTS] if isinstance(item, str)], limit, "\n")
    pieces: list[str] = []
    size = 0
    for message in reversed(request.messages):
        if size >= limit:
            break
        if not isinstance(message, dict):
            continue
        text = f"{message.get('role', '')}: {_text_of(message.get('content'), limit)}"[:limit]
        pieces.append(text)
        size += len(text) + 1
    return "\n".join(reversed(pieces))[-limit:]


def answer_preview(body: dict[str, Any], limit: int) -> str | None:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return None
    text = _text_of(message.get("content"), limit)
    if not text and isinstance(message.get("tool_calls"), list):
        calls = [call.get("function") for call in message["tool_calls"][:_MAX_PARTS] if isinstance(call, dict)]
        text = _joined(
            [f"{f.get('name', '')}({str(f.get('arguments', ''))[:limit]})" for f in calls if isinstance(f, dict)],
            limit,
            "; ",
        )
    return text[:limit] or None


def stream_preview(stream: ChatStream, info: CallInfo) -> ChatStream:
    """`stream` unchanged, gathering its first characters of content into `info` when previews are wanted."""
    limit = info.preview_chars
    if not limit:
        return stream

    async def tapped() -> AsyncIterator[dict[str, Any]]:
        gathered: list[str] = []
        size = 0
        async for chunk in stream:
            if size < limit:
                piece = _delta_text(chunk)
                if piece:
                    gathered.append(piece[: limit - size])
                    size += len(gathered[-1])
                    info.answer_preview = "".join(gathered)
            yield chunk

    return ChatStream(tapped(), close=stream.aclose)


def _delta_text(chunk: dict[str, Any]) -> str | None:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else None


def _text_of(content: Any, limit: int) -> str:
    if isinstance(content, str):
        return content[:limit]
    if isinstance(content, list):  # content parts: text is kept, images and audio are not
        texts = [part.get("text") for part in content[:_MAX_PARTS] if isinstance(part, dict)]
        return _joined([text for text in texts if isinstance(text, str)], limit, " ")
    return ""


def _joined(texts: list[str], limit: int, separator: str) -> str:
    pieces: list[str] = []
    size = 0
    for text in texts:
        if size >= limit:
            break
        pieces.append(text[: limit - size])
        size += len(pieces[-1]) + len(separator)
    return separator.join(pieces)[:limit]

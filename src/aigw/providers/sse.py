"""Server-sent events cut out of a byte stream, each event bounded in size.

aiohttp's line reader stops at 512 KiB per line with an error that is not an `aiohttp.ClientError`
(so it ended as a 500 with no retry and no fallback); a long answer's final event, or a tool call
with a large argument, can legitimately pass that. The stream is therefore read in chunks as they
arrive and split here, with our own bound (`max_event_bytes`, 8 MiB by default) on one event: a
larger one is an invalid answer (`EventTooLarge`), never an unbounded buffer.

Only `data:` fields matter to an OpenAI stream; other families (Anthropic) name their events, so
the `event:` field is kept too (`feed_named`). Comments, `id:` and `retry:` lines are skipped.
Lines end with LF or CRLF; a blank line ends an event, whose payload is its data lines joined by LF.
"""

from __future__ import annotations

from collections.abc import Iterator


class EventTooLarge(Exception):
    """One event (or one line) of the stream is larger than the bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a stream event is larger than {limit} bytes")
        self.limit = limit


class EventSplitter:
    """Feed it chunks as they arrive; it gives the payloads of the events they complete.

    Linear in the stream's size: each byte is searched for a line end once, and the unfinished
    line stays in one buffer that grows by appending.
    """

    def __init__(self, max_event_bytes: int) -> None:
        self.max_event_bytes = max_event_bytes
        self._buffer = bytearray()  # the start of a line whose end has not arrived: never holds LF
        self._data: list[bytes] = []
        self._data_size = 0
        self._event_name = b""
        self.last_event_name = "message"  # the name of the event `feed` handed on last

    def feed_named(self, chunk: bytes) -> Iterator[tuple[str, bytes]]:
        """Like `feed`, each payload with its event's name (`message` when it has none)."""
        for payload in self.feed(chunk):
            yield self.last_event_name, payload

    def close_named(self) -> Iterator[tuple[str, bytes]]:
        for payload in self.close():
            yield self.last_event_name, payload

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The payloads of the events `chunk` completes, each as soon as it is found (so those
        before an oversized one are still handed on); EventTooLarge past the bound."""
        if self._buffer:  # the unfinished line goes on in this chunk; it is copied once, when it ends
            end = chunk.find(b"\n")
            if end < 0:
                self._buffer += chunk
                self._check_bound()
                return
            self._buffer += chunk[:end]
            payload = self._line(bytes(self._buffer))
            self._buffer.clear()
            if payload is not None:
                yield payload
            chunk = chunk[end + 1 :]
        # One C-level split instead of a search and a copy per line: an upstream read holds
        # several events, each of two lines.
        lines = chunk.split(b"\n")
        rest = lines.pop()
        for line in lines:
            payload = self._line(line)
            if payload is not None:
                yield payload
        self._buffer += rest
        self._check_bound()

    def _check_bound(self) -> None:
        if self._data_size + len(self._buffer) > self.max_event_bytes:
            raise EventTooLarge(self.max_event_bytes)

    def close(self) -> Iterator[bytes]:
        """The payload of an event the stream ended without a blank line after, if any."""
        if self._buffer:
            payload = self._line(bytes(self._buffer))
            self._buffer.clear()
            if payload is not None:
                yield payload
        payload = self._line(b"")
        if payload is not None:
            yield payload

    def _line(self, line: bytes) -> bytes | None:
        """Takes in one line; returns the event's payload when the line ends an event."""
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.startswith(b"data:"):
            value = line[5:].lstrip(b" ")
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size > self.max_event_bytes:
                raise EventTooLarge(self.max_event_bytes)
        elif line.startswith(b"event:"):
            self._event_name = line[6:].strip(b" ")
        elif not line and self._data:
            payload = b"\n".join(self._data)
            self._data.clear()
            self._data_size = 0
            if self._event_name:
                self.last_event_name = self._event_name.decode("utf-8", "replace")
                self._event_name = b""
            else:
                self.last_event_name = "message"
            return payload
        elif not line:
            self._event_name = b""  # an event without data is not dispatched (the SSE standard)
        return None

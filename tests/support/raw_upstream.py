"""An upstream that answers with raw bytes a test scripts: malformed HTTP, huge SSE lines, broken
chunked encoding, a stream that fails half-way. A plain asyncio TCP server on its own thread and
loop, so no HTTP library tidies up what the test wants to send.

Each connection reads one request (head and `content-length` body), then writes the next scripted
answer's pieces in order and closes (well-formed answers say `connection: close`, so no client
reuses a connection this server is closing); with the script empty it answers a valid chat completion.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.support.processes import free_port
from tests.support.scripted_upstream import completion


@dataclass
class RawAnswer:
    pieces: tuple[bytes, ...]  # written one after the other, each drained before the next
    close: bool = True  # False: keep the connection open after the last piece (until the server stops)
    pause: float = 0.0  # seconds between pieces, so that the client has read one before the next comes


def http_answer(body: bytes, *, status: str = "200 OK", content_type: str = "application/json") -> RawAnswer:
    """A well-formed HTTP/1.1 answer with this body."""
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return RawAnswer((head.encode() + body,))


def sse_answer(*events: bytes, done: bool = True) -> RawAnswer:
    """An SSE stream (close-delimited, no content-length) of these `data:` payloads."""
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    pieces = [head, *(b"data: " + event + b"\n\n" for event in events)]
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return RawAnswer(tuple(pieces))


def chunk_event(content: str, model: str = "gpt-4o-mini") -> bytes:
    delta = {"index": 0, "delta": {"content": content}, "finish_reason": None}
    return json.dumps(
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [delta]}
    ).encode()


def completion_body(model: str = "gpt-4o-mini", content: str = "raw") -> bytes:
    return json.dumps(completion(model, content)).encode()


class RawUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.script: deque[RawAnswer] = deque()
        self.requests: list[bytes] = []  # every request's body, in order
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def arrivals(self) -> int:
        return len(self.requests)

    def then(self, *answers: RawAnswer) -> RawUpstream:
        self.script.extend(answers)
        return self

    def start(self) -> RawUpstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("raw upstream did not start")
        return self

    def stop(self) -> None:
        async def shut() -> None:
            for writer in list(self._open):
                writer.close()
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            body = await _read_request(reader)
            if body is None:
                return
            self.requests.append(body)
            answer = self.script.popleft() if self.script else http_answer(completion_body(_model(body)))
            for i, piece in enumerate(answer.pieces):
                if i and answer.pause:
                    await asyncio.sleep(answer.pause)
                writer.write(piece)
                await writer.drain()
            if not answer.close:
                await asyncio.Event().wait()  # until stop() closes the connection
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length)


def _model(body: bytes) -> str:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return "m"
    return str(parsed.get("model", "m")) if isinstance(parsed, dict) else "m"

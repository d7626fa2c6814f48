"""Server-sent events written in as few socket writes as they arrive in, without a task group.

An upstream read often holds several events (a fast model, or a provider that batches). Relayed one
ASGI message each, every event costs a `send` through the middleware and uvicorn and a socket write:
a quarter of a streamed call's CPU (docs/performance.md). `EventStreamResponse` runs the event
source in its own task and sends, each time the response gets to run, everything produced since:
the events of one upstream read leave together, and an event that arrives alone leaves at once (no
timer, so the time to first token is unchanged). The last events leave in the closing message.

Starlette's `StreamingResponse` watches for a disconnect in an anyio task group per response (~6 %
of a streamed call). uvicorn's httptools server (ASGI spec 2.3) does not fail a `send` once the
client is gone, it drops it: only `receive` tells, with `http.disconnect`. So one plain task awaits
`receive` here; a `send` that raises `OSError` (servers of spec 2.4) is taken as the same news.
Either way the source is cancelled and its cleanup (releasing the upstream, settling the budget
hold) is awaited, shielded from a cancellation of the response.

The source is not held back by a slow client (it keeps the upstream read going), but what it
produced and the client has not taken is bounded (`MAX_PENDING_BYTES`): past it the source waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import anyio
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

MAX_PENDING_BYTES = 1 << 20


class EventStreamResponse(Response):
    """A `text/event-stream` answer relaying `source`, coalesced; see the module's notes."""

    media_type = "text/event-stream"

    def __init__(self, source: AsyncIterator[bytes], headers: Mapping[str, str] | None = None) -> None:
        self.source = source
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        await relay(self.source, start, receive, send)


class _Pending:
    """What the source produced and the response has not sent yet, and who waits on whom."""

    __slots__ = ("gone", "pieces", "ready", "room", "size")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0
        self.ready = asyncio.Event()  # pieces to send, the source ended, or the client left
        self.room = asyncio.Event()  # under the bound: the source may go on
        self.room.set()
        self.gone = False

    async def produce(self, source: AsyncIterator[bytes]) -> None:
        try:
            async for piece in source:
                self.pieces.append(piece)
                self.size += len(piece)
                self.ready.set()
                if self.size > MAX_PENDING_BYTES:
                    self.room.clear()
                    await self.room.wait()
        finally:
            self.ready.set()

    async def watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        self.ready.set()

    def take(self) -> bytes:
        body = b"".join(self.pieces)
        self.pieces.clear()
        self.size = 0
        self.room.set()
        return body


async def relay(source: AsyncIterator[bytes], start: Message, receive: Receive, send: Send) -> None:
    """Send `start`, then the pieces of `source`, joined into one body message per wake-up, until
    the source ends (its failure raised after what it produced was sent) or the client leaves."""
    pending = _Pending()
    producer = asyncio.create_task(pending.produce(source))
    watcher = asyncio.create_task(pending.watch(receive))
    try:
        if not await _sent(send, start):
            return
        while True:
            await pending.ready.wait()
            pending.ready.clear()
            if pending.gone:
                return
            ended = producer.done() and not producer.cancelled() and producer.exception() is None
            if pending.pieces or ended:
                body = {"type": "http.response.body", "body": pending.take(), "more_body": not ended}
                if not await _sent(send, body) or ended:
                    return
            if producer.done():
                producer.result()  # the source's own failure
    finally:
        watcher.cancel()
        if not producer.done():
            producer.cancel()
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError):
                await producer


async def _sent(send: Send, message: Message) -> bool:
    """Whether `message` went out: a server of ASGI spec 2.4 fails the send once the client is gone."""
    try:
        await send(message)
    except OSError:
        return False
    return True

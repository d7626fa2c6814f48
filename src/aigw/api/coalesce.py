"""Server-sent events written in as few socket writes as they arrive in.

An upstream read often holds several events (a fast model, or a provider that batches). Relayed one
ASGI message each, every event costs a `send` through the middleware and uvicorn and a socket write:
a quarter of a streamed call's CPU (docs/performance.md). `coalesce` runs the event source in its
own task and hands on, each time the consumer gets to run, everything produced since: the events of
one upstream read leave together, and an event that arrives alone leaves at once (no timer, so the
time to first token is unchanged).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio


async def coalesce(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The pieces of `source`, joined into one per wake-up of the consumer, in order.

    When the consumer stops early (the client went away), the source is cancelled and its cleanup
    (releasing the upstream, settling the budget hold) is awaited, shielded from the cancellation.
    """
    pending: list[bytes] = []
    ready = asyncio.Event()

    async def produce() -> None:
        try:
            async for piece in source:
                pending.append(piece)
                ready.set()
        finally:
            ready.set()

    producer = asyncio.create_task(produce())
    try:
        while not producer.done() or pending:
            await ready.wait()
            ready.clear()
            if pending:
                joined = b"".join(pending)
                pending.clear()
                yield joined
        producer.result()  # the source's own failure, if any
    finally:
        if not producer.done():
            producer.cancel()
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError):
                await producer

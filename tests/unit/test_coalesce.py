"""SSE coalescing: what the source produced without waiting leaves in one piece; a piece that
arrives alone leaves at once; a consumer that stops cancels the source and waits for its cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aigw.api.coalesce import coalesce


async def pieces(*groups: list[bytes], gap: float = 0.02, log: list[str] | None = None) -> AsyncIterator[bytes]:
    """Each group is produced without suspending (one upstream read); groups are `gap` seconds apart."""
    try:
        for index, group in enumerate(groups):
            if index:
                await asyncio.sleep(gap)
            for piece in group:
                yield piece
    finally:
        if log is not None:
            await asyncio.sleep(0)  # cleanup that awaits, like closing the upstream stream
            log.append("closed")


async def test_pieces_produced_together_leave_together() -> None:
    got = [p async for p in coalesce(pieces([b"a", b"b", b"c"], [b"d"], [b"e", b"f"]))]
    assert got == [b"abc", b"d", b"ef"]


async def test_a_lone_piece_is_not_held_back() -> None:
    started = asyncio.get_running_loop().time()
    stream = coalesce(pieces([b"first"], [b"second"], gap=0.5))
    assert await anext(stream) == b"first"
    assert asyncio.get_running_loop().time() - started < 0.25  # not waiting for the next group
    assert [p async for p in stream] == [b"second"]


async def test_a_consumer_that_stops_cancels_the_source_and_waits_for_its_cleanup() -> None:
    log: list[str] = []
    stream = coalesce(pieces([b"a"], [b"b"], gap=10, log=log))
    assert await anext(stream) == b"a"
    await stream.aclose()
    assert log == ["closed"]


async def test_a_cancelled_consumer_still_waits_for_the_cleanup() -> None:
    log: list[str] = []

    async def consume() -> None:
        async for _ in coalesce(pieces([b"a"], [b"b"], gap=10, log=log)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["closed"]


async def test_the_source_failure_comes_after_what_it_produced() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"
        raise RuntimeError("upstream broke")

    stream = coalesce(failing())
    assert await anext(stream) == b"ab"
    with pytest.raises(RuntimeError, match="upstream broke"):
        await anext(stream)

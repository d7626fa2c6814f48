"""SSE coalescing: what the source produced without waiting leaves in one body message; a piece that
arrives alone leaves at once; a client that leaves (told by `receive`, or by a failing `send`) or a
cancelled response cancels the source and waits for its cleanup; what is not sent yet is bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.types import Message

from aigw.api import coalesce
from aigw.api.coalesce import EventStreamResponse, relay

START: Message = {"type": "http.response.start", "status": 200, "headers": []}


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


class Client:
    """The server's side of one response: what was sent, and a `receive` that tells when it left."""

    def __init__(self, fail_send_after: int | None = None) -> None:
        self.sent: list[Message] = []
        self.sent_at: list[float] = []
        self.left = asyncio.Event()
        self.fail_send_after = fail_send_after

    async def send(self, message: Message) -> None:
        if self.fail_send_after is not None and len(self.sent) >= self.fail_send_after:
            raise OSError("the client is gone")  # what servers of ASGI spec 2.4 do
        self.sent.append(message)
        self.sent_at.append(asyncio.get_running_loop().time())

    async def receive(self) -> Message:
        await self.left.wait()
        return {"type": "http.disconnect"}

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]

    @property
    def complete(self) -> bool:
        return bool(self.sent) and self.sent[-1]["more_body"] is False


async def test_pieces_produced_together_leave_together_and_the_last_closes_the_response() -> None:
    client = Client()
    await relay(pieces([b"a", b"b", b"c"], [b"d"], [b"e", b"f"]), START, client.receive, client.send)
    assert client.sent[0] is START
    assert client.bodies == [b"abc", b"d", b"ef"]
    assert [m["more_body"] for m in client.sent[1:]] == [True, True, False]


async def test_a_source_that_ends_after_a_pause_closes_with_an_empty_message() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.01)

    client = Client()
    await relay(source(), START, client.receive, client.send)
    assert client.bodies == [b"a", b""]
    assert client.complete


async def test_a_lone_piece_is_not_held_back() -> None:
    client = Client()
    started = asyncio.get_running_loop().time()
    await relay(pieces([b"first"], [b"second"], gap=0.5), START, client.receive, client.send)
    assert client.bodies == [b"first", b"second"]
    assert client.sent_at[1] - started < 0.25  # not waiting for the next group


@pytest.mark.parametrize("how", ["receive", "send"])
async def test_a_client_that_leaves_cancels_the_source_and_waits_for_its_cleanup(how: str) -> None:
    log: list[str] = []
    client = Client(fail_send_after=2 if how == "send" else None)
    source = pieces([b"a"], [b"b"], [b"c"], gap=0.1 if how == "send" else 10, log=log)
    task = asyncio.create_task(relay(source, START, client.receive, client.send))
    await asyncio.sleep(0.05)
    assert client.bodies == [b"a"]
    if how == "receive":
        client.left.set()
    await asyncio.wait_for(task, 1)  # at once, not when the source would have gone on
    assert log == ["closed"]
    assert not client.complete


async def test_a_cancelled_response_still_waits_for_the_cleanup() -> None:
    log: list[str] = []
    client = Client()
    task = asyncio.create_task(relay(pieces([b"a"], [b"b"], gap=10, log=log), START, client.receive, client.send))
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

    client = Client()
    with pytest.raises(RuntimeError, match="upstream broke"):
        await relay(failing(), START, client.receive, client.send)
    assert client.bodies == [b"ab"]
    assert not client.complete


async def test_what_a_slow_client_has_not_taken_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "MAX_PENDING_BYTES", 100)
    produced = 0
    unblock = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 10
            yield b"x" * 10
            await asyncio.sleep(0)

    class SlowClient(Client):
        async def send(self, message: Message) -> None:
            await super().send(message)
            if message["type"] == "http.response.body":
                await unblock.wait()  # the socket's buffer is full

    client = SlowClient()
    task = asyncio.create_task(relay(endless(), START, client.receive, client.send))
    await asyncio.sleep(0.05)
    assert produced <= 100 + 2 * 10  # what was sent first, and the bound
    unblock.set()
    await asyncio.sleep(0.05)
    assert produced > 200  # going on once the client takes it
    client.left.set()
    await asyncio.wait_for(task, 1)


async def test_the_response_labels_an_event_stream_of_unknown_length() -> None:
    client = Client()
    response = EventStreamResponse(pieces([b"data: x\n\n"]), headers={"cache-control": "no-cache"})
    await response({"type": "http"}, client.receive, client.send)
    start = client.sent[0]
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert dict(start["headers"]) == {
        b"cache-control": b"no-cache",
        b"content-type": b"text/event-stream; charset=utf-8",
    }
    assert client.bodies == [b"data: x\n\n"] and client.complete

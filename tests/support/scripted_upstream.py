"""An OpenAI-compatible upstream whose next answers a test scripts one by one (real HTTP, own thread).

The shared mock injects faults by rate; this one answers exactly "503, 503, then 200" or "two
chunks, then cut the connection", which retry and stream tests need.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.processes import free_port


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stream_chunks: int = 0  # > 0: answer as an SSE stream of this many content chunks
    cut_after: int | None = None  # stream: drop the connection after this many chunks
    hang: bool = False


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "scripted"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


class ScriptedUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.script: deque[Answer] = deque()
        self.arrivals: list[float] = []
        self.bodies: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def then(self, *answers: Answer) -> ScriptedUpstream:
        self.script.extend(answers)
        return self

    def start(self) -> ScriptedUpstream:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        body = await request.json()
        self.bodies.append(body)
        answer = self.script.popleft() if self.script else Answer()
        if answer.hang:
            await asyncio.sleep(3600)
        if answer.status != 200:
            error = {"error": {"message": f"scripted {answer.status}", "type": "server_error", "code": None}}
            return web.json_response(error, status=answer.status, headers=answer.headers)
        if not answer.stream_chunks:
            return web.json_response(completion(body.get("model", "m")), headers=answer.headers)
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for i in range(answer.stream_chunks):
            if answer.cut_after is not None and i == answer.cut_after:
                assert request.transport is not None
                request.transport.close()
                return response
            chunk = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body.get("model"),
                "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}],
            }
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

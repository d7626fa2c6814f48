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
    content: str | None = None  # the answer's text (a stream splits it into `stream_chunks` pieces)
    echo: bool = False  # answer with the text of the last message received
    usage: bool = True  # False: a plain answer carries no usage
    stream_usage: bool = False  # a stream ends with a usage chunk (when the request asked for one)


def completion(model: str, content: str = "scripted", usage: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    return body


def _pieces(text: str, count: int) -> list[str]:
    """`text` cut into `count` pieces of nearly equal length (cuts fall anywhere, inside words too)."""
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _last_text(body: dict[str, Any]) -> str:
    content = body.get("messages", [{}])[-1].get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


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
        self._hanging: set[asyncio.Task[object]] = set()

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
        for task in list(self._hanging):  # hung answers end with the upstream, not an hour later
            self._loop.call_soon_threadsafe(task.cancel)
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
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(3600)
        if answer.status != 200:
            error = {"error": {"message": f"scripted {answer.status}", "type": "server_error", "code": None}}
            return web.json_response(error, status=answer.status, headers=answer.headers)
        text = _last_text(body) if answer.echo else answer.content
        if not answer.stream_chunks:
            model = body.get("model", "m")
            return web.json_response(completion(model, text or "scripted", answer.usage), headers=answer.headers)
        pieces = _pieces(text, answer.stream_chunks) if text is not None else None
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for i in range(len(pieces) if pieces is not None else answer.stream_chunks):
            if answer.cut_after is not None and i == answer.cut_after:
                assert request.transport is not None
                request.transport.close()
                return response
            chunk = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "delta": {"content": pieces[i] if pieces else f"w{i} "}, "finish_reason": None}
                ],
            }
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        if answer.stream_usage and body.get("stream_options", {}).get("include_usage"):
            usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
            final = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body.get("model"),
                "choices": [],
                "usage": usage,
            }
            await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

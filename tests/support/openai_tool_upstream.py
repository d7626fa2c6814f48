"""An OpenAI-compatible upstream that uses tools (real HTTP, own thread): asked with `tools` and no
tool result yet, it calls the first tool (or the one `tool_choice` names) with `arguments`; given a
tool result, it answers `Result: <the result>`; otherwise it echoes the last user text. Plain and
streamed, in OpenAI's chunk format (the tool call's arguments split across chunks, usage last).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import web

from tests.support.processes import free_port

_USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


class ToolCallingUpstream:
    def __init__(self, arguments: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.arguments = arguments if arguments is not None else {"city": "Paris"}
        self.bodies: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ToolCallingUpstream:
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
        body = await request.json()
        self.bodies.append(body)
        message, finish = self._answer(body)
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": finish}
            completion = {**_head(body), "object": "chat.completion", "choices": [choice], "usage": _USAGE}
            return web.json_response(completion)
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for delta, reason in [({"role": "assistant", "content": ""}, None), *_deltas(message), ({}, finish)]:
            choice = {"index": 0, "delta": delta, "finish_reason": reason}
            await _send(response, {**_head(body), "choices": [choice]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await _send(response, {**_head(body), "choices": [], "usage": _USAGE})
        await response.write(b"data: [DONE]\n\n")
        return response

    def _answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        messages = body.get("messages") or [{}]
        last = messages[-1]
        tools = body.get("tools") or []
        if tools and last.get("role") != "tool":
            choice = body.get("tool_choice")
            name = choice["function"]["name"] if isinstance(choice, dict) else tools[0]["function"]["name"]
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(self.arguments)},
            }
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        if last.get("role") == "tool":
            return {"role": "assistant", "content": f"Result: {last.get('content')}"}, "stop"
        content = last.get("content")
        text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content or [])
        return {"role": "assistant", "content": text}, "stop"


def _head(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "chatcmpl-tools", "object": "chat.completion.chunk", "created": 1, "model": body.get("model")}


def _deltas(message: dict[str, Any]) -> list[tuple[dict[str, Any], None]]:
    text = message.get("content")
    if text:
        third = max(1, len(text) // 3)
        return [({"content": text[i : i + third]}, None) for i in range(0, len(text), third)]
    out: list[tuple[dict[str, Any], None]] = []
    for index, call in enumerate(message.get("tool_calls") or []):
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
        out.append(({"tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}]}, None))
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            out.append(({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, None))
    return out


async def _send(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
    await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

"""What every family's mock server shares: a real aiohttp server on a free port in its own thread,
scripted faults, the requests it received, and the decision of what to answer.

A family's mock (`mock_anthropic.MockAnthropic`, `mock_openai_family.MockOpenAI` ...) speaks its
vendor's wire format: it parses the request into a `Prompt` (the family-neutral facts that decide
the answer), asks `plan_answer` what to say, and writes that in its own format. So the answers are
the same for every family and the conformance cases are written once.

Faults, each for the next matching request(s):
- `fail_next(status, times=1, headers=None)`: an error status with the family's error body;
- `hang_next(times=1)`: no answer at all (until the server stops);
- `cut_stream_next(after_events=2)`: a stream whose connection is closed after that many events;
- `error_event_next(after_events=2)`: a stream that sends the family's error event there
  (families without one send their error as a stream event the way the vendor does).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.processes import free_port


@dataclass
class Fault:
    kind: str  # "status", "hang", "cut", "error_event"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    after_events: int = 2


@dataclass
class Prompt:
    """The family-neutral facts of a request that decide the answer."""

    last_user_text: str = ""
    tool_result: str | None = None  # the text of a tool result in the last user turn
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, JSON schema)
    forced_tool: str | None = None  # a tool the request requires ("" = any tool)
    json_schema: dict[str, Any] | None = None
    json_object: bool = False
    images: int = 0
    stop: list[str] = field(default_factory=list)
    max_tokens: int | None = None


@dataclass
class Plan:
    """What the mock answers: text, or a tool call; and why it stopped."""

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None  # (name, input)
    stop_reason: str = "end"  # "end", "stop_sequence", "max_tokens", "tool"
    stop_sequence: str | None = None


def plan_answer(prompt: Prompt) -> Plan:
    wants_tool = prompt.forced_tool is not None or "tool" in prompt.last_user_text.lower()
    if prompt.tools and wants_tool and prompt.tool_result is None:
        name, schema = next((t for t in prompt.tools if t[0] == prompt.forced_tool), prompt.tools[0])
        return Plan(tool=(name, _sample(schema)), stop_reason="tool")
    if prompt.json_schema is not None:
        return Plan(text=_json_text(_sample(prompt.json_schema)))
    if prompt.json_object:
        return Plan(text='{"answer": "mock"}')
    if prompt.tool_result is not None:
        text = f"The tool said: {prompt.tool_result}"
    elif prompt.images:
        text = f"I see {prompt.images} image(s). You said: {prompt.last_user_text}"
    else:
        text = f"You said: {prompt.last_user_text}"
    for stop in prompt.stop:
        if stop and stop in text:
            return Plan(text=text[: text.index(stop)], stop_reason="stop_sequence", stop_sequence=stop)
    words = text.split(" ")
    if prompt.max_tokens is not None and len(words) > prompt.max_tokens:
        return Plan(text=" ".join(words[: prompt.max_tokens]), stop_reason="max_tokens")
    return Plan(text=text)


def _sample(schema: dict[str, Any]) -> dict[str, Any]:
    """An object that fits a simple JSON schema: every property, a value of its type."""
    samples = {"string": "Paris", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
    properties = schema.get("properties") or {}
    return {
        name: samples.get(spec.get("type") if isinstance(spec, dict) else None, "x")
        for name, spec in properties.items()
    }


def _json_text(value: Any) -> str:
    return json.dumps(value)


def split_text(text: str, pieces: int = 3) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class MockServer:
    """The server thread, the faults and the recorded requests. Subclasses add routes."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict[str, Any]] = []  # {"path", "headers", "body"} as received
        self._faults: deque[Fault] = deque()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None
        self._hanging: set[asyncio.Task[object]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._faults.extend(Fault("status", status=status, headers=headers or {}) for _ in range(times))

    def hang_next(self, times: int = 1) -> None:
        self._faults.extend(Fault("hang") for _ in range(times))

    def cut_stream_next(self, after_events: int = 2) -> None:
        self._faults.append(Fault("cut", after_events=after_events))

    def error_event_next(self, after_events: int = 2) -> None:
        self._faults.append(Fault("error_event", after_events=after_events))

    def reset(self) -> None:
        self._faults.clear()
        self.requests.clear()

    def start(self) -> MockServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the mock server did not start")
        return self

    def stop(self) -> None:
        for task in list(self._hanging):
            self._loop.call_soon_threadsafe(task.cancel)
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    async def take_fault(self, request: web.Request, body: Any) -> Fault | None:
        """Records the request and returns the fault scripted for it; hangs here for `hang`."""
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind == "hang":
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(3600)
        return fault


async def cut(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Closes the connection mid-stream, as a dying upstream does."""
    assert request.transport is not None
    request.transport.close()
    return response

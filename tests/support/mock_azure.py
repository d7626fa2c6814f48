"""An Azure OpenAI front for an OpenAI mock: Azure's paths and credentials, the inner mock's answers.

Azure's wire format is OpenAI's; only the addressing differs, so this real aiohttp server (own thread)
checks what Azure checks and relays the rest to an OpenAI-compatible mock (`inner_url`, e.g. the
shared bench mock's `http://127.0.0.1:PORT/v1`):
- `POST /openai/deployments/{deployment}/chat/completions|embeddings?api-version=YYYY-MM-DD[-preview]`
  (404 "Resource not found" without a valid api-version, 404 DeploymentNotFound for a deployment
  not in `deployments`), or the v1 API `POST /openai/v1/chat/completions|embeddings`;
- the key in the `api-key` header, or an Entra ID token as `Authorization: Bearer` (401 with
  Azure's "Access denied" body otherwise).
Errors use Azure's body, `{"error": {"code": "<status>", "message": ...}}`. Faults (`fail_next`,
`hang_next`, `cut_stream_next`) and `requests` as in the other family mocks.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.processes import free_port

API_KEY = "azure-test-key"
ENTRA_TOKEN = "entra-test-token"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


def azure_error(status: int, message: str, code: str | None = None, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code or str(status), "message": message}}, status=status, headers=headers
    )


class MockAzure:
    def __init__(self, inner_url: str, deployments: tuple[str, ...] = ("gpt-4o-prod", "embed-prod")) -> None:
        self.port = free_port()
        self.inner_url = inner_url.rstrip("/")
        self.deployments = set(deployments)
        self.requests: list[Recorded] = []
        self._faults: deque[tuple[str, Any]] = deque()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._hanging: set[asyncio.Task[object]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._faults.extend([("fail", (status, headers or {}))] * times)

    def hang_next(self) -> None:
        self._faults.append(("hang", None))

    def cut_stream_next(self, after_events: int = 2) -> None:
        self._faults.append(("cut", after_events))

    def start(self) -> MockAzure:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        for task in list(self._hanging):
            self._loop.call_soon_threadsafe(task.cancel)
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        if self._session is not None:
            asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post(
            "/openai/deployments/{deployment}/{operation:chat/completions|embeddings}", self._deployment
        )
        app.router.add_post("/openai/v1/{operation:chat/completions|embeddings}", self._v1)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._session = self._loop.run_until_complete(_client_session())
        self._ready.set()
        self._loop.run_forever()

    def _refusal(self, request: web.Request) -> web.Response | None:
        if (
            request.headers.get("api-key") != API_KEY
            and request.headers.get("authorization") != f"Bearer {ENTRA_TOKEN}"
        ):
            message = "Access denied due to invalid subscription key or wrong API endpoint."
            return azure_error(401, message)
        return None

    async def _deployment(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if not _API_VERSION.fullmatch(request.query.get("api-version", "")):
            return azure_error(404, "Resource not found")
        deployment = request.match_info["deployment"]
        if deployment not in self.deployments:
            message = "The API deployment for this resource does not exist."
            return azure_error(404, message, code="DeploymentNotFound")
        return await self._relay(request, request.match_info["operation"], deployment)

    async def _v1(self, request: web.Request) -> web.StreamResponse:
        refused = self._refusal(request)
        return refused or await self._relay(request, request.match_info["operation"], None)

    async def _relay(self, request: web.Request, operation: str, deployment: str | None) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Recorded(request.path, dict(request.query), dict(request.headers), body))
        fault = self._faults.popleft() if self._faults else None
        if fault and fault[0] == "fail":
            status, headers = fault[1]
            return azure_error(status, f"injected {status}", **headers)
        if fault and fault[0] == "hang":
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(3600)
        forwarded = {**body, "model": deployment or body.get("model")}
        assert self._session is not None
        async with self._session.post(f"{self.inner_url}/{operation}", json=forwarded) as inner:
            response = web.StreamResponse(status=inner.status, headers={"content-type": inner.headers["content-type"]})
            await response.prepare(request)
            cut = fault[1] if fault and fault[0] == "cut" else None
            events = 0
            async for line in inner.content:
                await response.write(line)
                events += line == b"\n"
                if cut is not None and events >= cut:
                    assert request.transport is not None
                    request.transport.close()
                    return response
            await response.write_eof()
            return response


async def _client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()  # made inside the loop it runs on

"""An Azure OpenAI front for an OpenAI mock: Azure's paths and credentials, the inner mock's answers.

Azure's wire format is OpenAI's; only the addressing differs, so this real aiohttp server (own thread,
a `MockServer`: faults and recorded requests as every family mock) checks what Azure checks and relays
the rest to an OpenAI-compatible mock (`tests/support/mock_openai_family.MockOpenAI`, started and
stopped with the front, or the URL of one, e.g. the shared bench mock's `http://127.0.0.1:PORT`):
- `POST /openai/deployments/{deployment}/chat/completions|embeddings?api-version=YYYY-MM-DD[-preview]`
  (404 "Resource not found" without a valid api-version), or the v1 API `POST /openai/v1/...`;
- a deployment not in `deployments` (when given) is 404 DeploymentNotFound;
- the key in the `api-key` header, or an Entra ID token as `Authorization: Bearer` (401 with
  Azure's "Access denied" body otherwise).
Errors use Azure's body, `{"error": {"code": "<status>", "message": ...}}`; a stream error event is
a `data:` event holding it.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.mock_family import Fault, MockServer, cut

API_KEY = "azure-test-key"
ENTRA_TOKEN = "entra-test-token"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")


def azure_error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code or str(status), "message": message}}


class AzureFront(MockServer):
    def __init__(
        self,
        inner: MockServer | str,
        api_key: str = API_KEY,
        entra_token: str = ENTRA_TOKEN,
        deployments: frozenset[str] | None = None,  # None: any name is a deployment
    ) -> None:
        super().__init__()
        self.inner, self.deployments = inner, deployments
        self.api_key, self.entra_token = api_key, entra_token
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> AzureFront:
        if isinstance(self.inner, MockServer):
            self.inner.start()
        super().start()
        return self

    def stop(self) -> None:
        if self._session is not None:
            asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        super().stop()
        if isinstance(self.inner, MockServer):
            self.inner.stop()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(
            "/openai/deployments/{deployment}/{operation:chat/completions|embeddings}", self._deployment
        )
        app.router.add_post("/openai/v1/{operation:chat/completions|embeddings}", self._v1)

    def _inner_url(self) -> str:
        return self.inner.url if isinstance(self.inner, MockServer) else self.inner.rstrip("/")

    def _inner_key(self) -> str:
        return str(getattr(self.inner, "api_key", "sk-mock"))

    def _refused(self, request: web.Request) -> bool:
        return (
            request.headers.get("api-key") != self.api_key
            and request.headers.get("authorization") != f"Bearer {self.entra_token}"
        )

    async def _deployment(self, request: web.Request) -> web.StreamResponse:
        if not _API_VERSION.fullmatch(request.query.get("api-version", "")):
            return web.json_response(azure_error(404, "Resource not found"), status=404)
        deployment = request.match_info["deployment"]
        if self.deployments is not None and deployment not in self.deployments:
            message = "The API deployment for this resource does not exist."
            return web.json_response(azure_error(404, message, "DeploymentNotFound"), status=404)
        return await self._relay(request, deployment)

    async def _v1(self, request: web.Request) -> web.StreamResponse:
        return await self._relay(request, None)

    async def _relay(self, request: web.Request, deployment: str | None) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fault = await self.take_fault(request, body)
        self.requests[-1]["query"] = dict(request.query)
        if fault is not None and fault.kind == "status":
            error = azure_error(fault.status, f"mock {fault.status}")
            return web.json_response(error, status=fault.status, headers=fault.headers)
        if self._refused(request):
            message = "Access denied due to invalid subscription key or wrong API endpoint."
            return web.json_response(azure_error(401, message), status=401)
        if not isinstance(body, dict):
            return web.json_response(azure_error(400, "The request body is not JSON"), status=400)
        forwarded = {**body, "model": deployment or body.get("model")}
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"{self._inner_url()}/v1/{request.match_info['operation']}"
        headers = {"authorization": f"Bearer {self._inner_key()}"}
        async with self._session.post(url, json=forwarded, headers=headers) as inner:
            response = web.StreamResponse(status=inner.status, headers={"content-type": inner.headers["content-type"]})
            await response.prepare(request)
            return await self._copy(request, response, inner, fault)

    async def _copy(
        self, request: web.Request, response: web.StreamResponse, inner: aiohttp.ClientResponse, fault: Fault | None
    ) -> web.StreamResponse:
        events = 0
        async for line in inner.content:
            if fault is not None and events == fault.after_events and line.startswith(b"data:"):
                if fault.kind == "cut":
                    return await cut(request, response)
                if fault.kind == "error_event":
                    error = json.dumps(azure_error(500, "mock stream error")).encode()
                    await response.write(b"data: " + error + b"\n\n")
                    await response.write_eof()
                    return response
            await response.write(line)
            events += line.strip() == b""
        await response.write_eof()
        return response

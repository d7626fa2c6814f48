"""A Gemini upstream for tests: AI Studio and Vertex AI paths on one real aiohttp server (own thread).

Speaks the documented wire format (ai.google.dev/api/generate-content, the Vertex AI REST reference,
checked against the google-genai SDK, which runs against it unchanged):
- AI Studio: `POST /v1beta/models/{model}:{method}` with `x-goog-api-key` (or `?key=`); no key is
  403 PERMISSION_DENIED, a wrong one 400 INVALID_ARGUMENT with reason API_KEY_INVALID, as Google does;
- Vertex AI: `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}` with
  `Authorization: Bearer <token>` (401 UNAUTHENTICATED otherwise);
- methods `generateContent`, `streamGenerateContent?alt=sse` (`data: <GenerateContentResponse>`
  events, CRLF-framed as Google sends them; an error mid-stream is a `data:` event holding Google's
  error body), `batchEmbedContents` (Studio), `predict` (Vertex embeddings);
- errors in Google's shape `{"error": {"code", "message", "status"}}`; the refusals of
  `mock_gemini_wire.validate`; safety blocks on the trigger words of `mock_gemini_wire`.
Answers come from the shared `plan_answer` (tests/support/mock_family.py), so the conformance
cases read the same for every family; faults and recorded requests are `MockServer`'s.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support import mock_gemini_wire as wire
from tests.support.mock_family import Fault, MockServer, cut, plan_answer

API_KEY = "gemini-test-key"
ACCESS_TOKEN = "vertex-test-token"


def error_response(error: wire.GoogleError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=headers)


class MockGemini(MockServer):
    def __init__(self, api_key: str = API_KEY, access_token: str = ACCESS_TOKEN) -> None:
        super().__init__()
        self.api_key, self.access_token = api_key, access_token

    @property
    def studio_url(self) -> str:
        return f"{self.url}/v1beta"

    @property
    def vertex_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{target}", self._studio)
        app.router.add_post(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{target}", self._vertex
        )

    async def _studio(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, vertex=False)

    async def _vertex(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, vertex=True)

    def _credential_refusal(self, request: web.Request, vertex: bool) -> wire.GoogleError | None:
        if vertex:
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                return wire.GoogleError(401, "Request had invalid authentication credentials.")
            return None
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            return wire.GoogleError(403, "Method doesn't allow unregistered callers. Please use API Key.")
        if key != self.api_key:
            info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            return wire.GoogleError(400, "API key not valid. Please pass a valid API key.", [info])
        return None

    async def _serve(self, request: web.Request, *, vertex: bool) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fault = await self.take_fault(request, body)
        self.requests[-1]["query"] = dict(request.query)
        if fault is not None and fault.kind == "status":
            return error_response(wire.GoogleError(fault.status, f"mock {fault.status}"), fault.headers)
        refused = self._credential_refusal(request, vertex)
        if refused is not None:
            return error_response(refused)
        if not isinstance(body, dict):
            return error_response(wire.GoogleError(400, "Invalid JSON payload received."))
        model, _, method = request.match_info["target"].partition(":")
        try:
            return await self._method(request, body, model, method, vertex, fault)
        except wire.GoogleError as exc:
            return error_response(exc)

    async def _method(
        self, request: web.Request, body: dict[str, Any], model: str, method: str, vertex: bool, fault: Fault | None
    ) -> web.StreamResponse:
        if method == "generateContent":
            wire.validate(body)
            return web.json_response(wire.answer(body, plan_answer(wire.prompt_of(body)), model))
        if method == "streamGenerateContent" and request.query.get("alt") == "sse":
            wire.validate(body)
            return await self._stream(
                request, wire.stream_events(body, plan_answer(wire.prompt_of(body)), model), fault
            )
        if method == "batchEmbedContents" and not vertex:
            return web.json_response(wire.studio_embeddings(body, model))
        if method == "predict" and vertex:
            return web.json_response(wire.vertex_embeddings(body))
        raise wire.GoogleError(404, f"Method {method[:40]} is not found for this API.")

    async def _stream(
        self, request: web.Request, events: list[dict[str, Any]], fault: Fault | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for count, event in enumerate(events):
            if fault is not None and count == fault.after_events:
                if fault.kind == "cut":
                    return await cut(request, response)
                if fault.kind == "error_event":
                    error = wire.GoogleError(500, "mock stream error").body()
                    await response.write(b"data: " + json.dumps(error).encode() + b"\r\n\r\n")
                    await response.write_eof()
                    return response
            await response.write(b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
        await response.write_eof()
        return response

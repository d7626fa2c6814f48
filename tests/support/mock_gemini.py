"""A Gemini upstream for tests: AI Studio and Vertex AI paths on one real aiohttp server (own thread).

Speaks the documented wire format (ai.google.dev/api/generate-content, the Vertex AI REST reference,
checked against google-genai's request builders): `POST /v1beta/models/{model}:{method}` with
`x-goog-api-key` (or `?key=`), and `POST /v1/projects/{p}/locations/{l}/publishers/google/models/
{model}:{method}` with `Authorization: Bearer`; methods `generateContent`,
`streamGenerateContent?alt=sse` (`data: <GenerateContentResponse>` events, CRLF-framed as Google
sends them), `batchEmbedContents` (Studio), `predict` (Vertex embeddings). Refuses what the real
API refuses (with Google's error body `{"error": {"code", "message", "status"}}`): a wrong key
(400 API_KEY_INVALID), no key (403), roles other than user/model in `contents`, empty parts,
unknown fields, `parameters` and `parametersJsonSchema` together, `additionalProperties` in the
OpenAPI-subset `parameters`. Faults for the conformance suite: `fail_next`, `hang_next`,
`cut_stream_next`; `requests` records what arrived.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.support import mock_gemini_replies as replies
from tests.support.processes import free_port

API_KEY = "gemini-test-key"
ACCESS_TOKEN = "vertex-test-token"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_TOP_LEVEL = {
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
}
_GENERATION = {
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "responseMimeType",
    "responseSchema", "responseJsonSchema", "presencePenalty", "frequencyPenalty", "seed", "responseLogprobs",
    "logprobs", "thinkingConfig",
}  # fmt: skip
_PART_FIELDS = {"text", "inlineData", "fileData", "functionCall", "functionResponse"}


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


class GoogleError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


def error_response(
    status: int, message: str, details: list[dict[str, Any]] | None = None, **headers: str
) -> web.Response:
    body: dict[str, Any] = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        body["details"] = details
    return web.json_response({"error": body}, status=status, headers=headers)


class MockGemini:
    def __init__(self, api_key: str = API_KEY, access_token: str = ACCESS_TOKEN) -> None:
        self.port = free_port()
        self.api_key, self.access_token = api_key, access_token
        self.requests: list[Recorded] = []
        self._faults: deque[tuple[str, Any]] = deque()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None
        self._hanging: set[asyncio.Task[object]] = set()

    @property
    def studio_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1beta"

    @property
    def vertex_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._faults.extend([("fail", (status, headers or {}))] * times)

    def hang_next(self) -> None:
        self._faults.append(("hang", None))

    def cut_stream_next(self, after_events: int = 2) -> None:
        self._faults.append(("cut", after_events))

    def start(self) -> MockGemini:
        self._thread.start()
        self._ready.wait(10)
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
        app = web.Application()
        app.router.add_post("/v1beta/models/{target}", self._studio)
        app.router.add_post(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{target}", self._vertex
        )
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    async def _studio(self, request: web.Request) -> web.StreamResponse:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            return error_response(403, "Method doesn't allow unregistered callers. Please use API Key.")
        if key != self.api_key:
            info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            return error_response(400, "API key not valid. Please pass a valid API key.", [info])
        return await self._serve(request, vertex=False)

    async def _vertex(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return error_response(401, "Request had invalid authentication credentials.")
        return await self._serve(request, vertex=True)

    async def _serve(self, request: web.Request, *, vertex: bool) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error_response(400, "Invalid JSON payload received.")
        self.requests.append(Recorded(request.path, dict(request.query), dict(request.headers), body))
        model, _, method = request.match_info["target"].partition(":")
        fault = self._faults.popleft() if self._faults else None
        if fault and fault[0] == "fail":
            status, headers = fault[1]
            return error_response(status, f"injected {status}", **headers)
        if fault and fault[0] == "hang":
            task = asyncio.current_task()
            assert task is not None
            self._hanging.add(task)
            await asyncio.sleep(3600)
        try:
            if method == "generateContent":
                validate_generate(body)
                return web.json_response(replies.generate(body, model))
            if method == "streamGenerateContent" and request.query.get("alt") == "sse":
                validate_generate(body)
                cut = fault[1] if fault and fault[0] == "cut" else None
                return await self._stream(request, body, model, cut)
            if method == "batchEmbedContents" and not vertex:
                return web.json_response(_studio_embeddings(body, model))
            if method == "predict" and vertex:
                return web.json_response(_vertex_embeddings(body))
        except GoogleError as exc:
            return error_response(exc.status, exc.message, exc.details)
        return error_response(404, f"Method {method} not found for this API.")

    async def _stream(
        self, request: web.Request, body: dict[str, Any], model: str, cut: int | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for number, event in enumerate(replies.stream_events(body, model)):
            if cut is not None and number == cut:
                assert request.transport is not None
                request.transport.close()
                return response
            await response.write(b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
        await response.write_eof()
        return response


def validate_generate(body: dict[str, Any]) -> None:
    """Refuse what generateContent refuses (the cases a translation could get wrong)."""
    _known(body, _TOP_LEVEL, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GoogleError(400, "* GenerateContentRequest.contents: contents is not specified")
    for index, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            raise GoogleError(400, f"Please use a valid role: user, model. (contents[{index}])")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise GoogleError(
                400, f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty."
            )
        for part in parts:
            if len(_PART_FIELDS & set(part)) != 1:
                raise GoogleError(400, f"contents[{index}].parts: each part holds exactly one kind of data")
            _known(part, _PART_FIELDS | {"thought", "thoughtSignature"}, f"contents[{index}].parts")
    _known(body.get("generationConfig") or {}, _GENERATION, "generation_config")
    for tool in body.get("tools") or []:
        for declaration in tool.get("functionDeclarations") or []:
            declaration = {camel(key): value for key, value in declaration.items()}
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                raise GoogleError(400, "parameters and parameters_json_schema are mutually exclusive")
            if "additionalProperties" in json.dumps(declaration.get("parameters") or {}):
                raise GoogleError(400, 'Invalid JSON payload received. Unknown name "additionalProperties"')


def camel(name: str) -> str:
    """Google's JSON parser takes proto field names in either spelling (max_output_tokens, maxOutputTokens)."""
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _known(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = {key for key in mapping if camel(key) not in allowed}
    if unknown:
        raise GoogleError(400, f"Invalid JSON payload received. Unknown name \"{sorted(unknown)[0]}\" at '{where}'")


def _studio_embeddings(body: dict[str, Any], model: str) -> dict[str, Any]:
    embeddings = []
    for index, item in enumerate(body.get("requests") or []):
        if item.get("model") != f"models/{model}":
            raise GoogleError(400, f"requests[{index}].model must be models/{model}")
        text = " ".join(p.get("text", "") for p in item["content"]["parts"])
        embeddings.append({"values": replies.vector(text, int(item.get("outputDimensionality") or 8))})
    return {"embeddings": embeddings}


def _vertex_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    dimensions = int((body.get("parameters") or {}).get("outputDimensionality") or 8)
    predictions = [
        {
            "embeddings": {
                "values": replies.vector(i["content"], dimensions),
                "statistics": {"token_count": replies.words(i["content"]), "truncated": False},
            }
        }
        for i in body.get("instances") or []
    ]
    return {"predictions": predictions, "metadata": {"billableCharacterCount": 1}}

"""The OpenAI-compatible endpoints: chat completions (plain and SSE), embeddings, models (the
list, and one model by id: `client.models.retrieve`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigw.api.bodies import MAX_NAME_CHARS, chat_request, embedding_request, read_json
from aigw.api.coalesce import EventStreamResponse
from aigw.api.middleware import RequestState, request_state
from aigw.cache import CacheControl
from aigw.errors import GatewayError, NotFoundError, ProviderError, gateway_error_from
from aigw.gateway import Gateway
from aigw.normalize.metadata import answer_headers
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.types import AIResponse, ChatRequest, ChatStream

log = logging.getLogger("aigw.api")
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def admit_call(request: Request) -> tuple[Gateway, RequestState, Caller, dict[str, Any]]:
    """Authenticate the caller and read its JSON body, each in its own trace span."""
    gateway = _gateway(request)
    state = request_state(request.scope)
    with state.trace.span("auth"):
        caller: Caller = request.app.state.auth.authenticate(request)
    state.trace.attrs["key_id"] = caller.key_id
    cache = CacheControl.from_header(request.headers.get("cache-control"))
    state.info.cache_read, state.info.cache_write = cache.read, cache.write
    with state.trace.span("parse"):
        body = await read_json(request, gateway.settings.max_body_bytes)
    return gateway, state, caller, body


async def chat_completions(request: Request) -> Response:
    gateway, state, caller, body = await admit_call(request)
    chat = chat_request(body, gateway.config.default_model)
    state.stream = chat.stream
    if state.trace.context is not None:  # exported: the GenAI conventions want the request's settings
        note_request(state.trace, chat.model, chat.params)
    result = await gateway.orchestrator.chat(chat, caller, state.trace, state.info)
    headers = answer_headers(state.info)
    if isinstance(result, ChatStream):
        return EventStreamResponse(_sse(result, chat, state), headers={**_SSE_HEADERS, **headers})
    return _json(result, headers, state)


async def embeddings(request: Request) -> Response:
    gateway, state, caller, body = await admit_call(request)
    call = embedding_request(body, gateway.config.default_model)
    if state.trace.context is not None:
        note_request(state.trace, call.model, call.params)
    result = await gateway.orchestrator.embeddings(call, caller, state.trace, state.info)
    return _json(result, answer_headers(state.info), state)


async def models(request: Request) -> Response:
    gateway = _gateway(request)
    request.app.state.auth.authenticate(request)
    data = await gateway.orchestrator.list_models()
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")


async def model(request: Request) -> Response:
    """One model object, as OpenAI's `GET /v1/models/{model}` answers; ids may hold slashes."""
    gateway = _gateway(request)
    request.app.state.auth.authenticate(request)
    wanted: str = request.path_params["model"]
    if len(wanted) <= MAX_NAME_CHARS:
        for entry in await gateway.orchestrator.list_models():
            if entry["id"] == wanted:
                return Response(orjson.dumps(entry), media_type="application/json")
    raise NotFoundError(
        f"The model '{wanted[:MAX_NAME_CHARS]}' does not exist or is not served by this gateway",
        param="model",
        code="model_not_found",
    )


def note_request(trace: Trace, model: str, params: dict[str, Any]) -> None:
    """The request's model and sampling settings, for the exported spans (numbers only)."""
    trace.attrs["request_model"] = model
    for name in ("max_tokens", "max_completion_tokens", "temperature"):
        value = params.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            trace.attrs["max_tokens" if name == "max_completion_tokens" else name] = value


def _json(result: AIResponse, headers: dict[str, str], state: RequestState) -> Response:
    if state.trace.context is not None and isinstance(result.model, str):
        state.trace.attrs["response_model"] = result.model
    with state.trace.span("response"):
        return Response(orjson.dumps(result.body), media_type="application/json", headers=headers)


async def _sse(stream: ChatStream, chat: ChatRequest, state: RequestState) -> AsyncIterator[bytes]:
    """Relay chunks as they come. The usage chunk (always asked of the upstream) is only passed
    on when the caller asked for it.

    The status line and headers are gone once the first byte is out, so a failure mid-stream,
    whatever raised it (the provider, or the gateway's own restore or accounting), ends the
    stream as OpenAI's do: an error event in OpenAI's error format, then `data: [DONE]`. A
    traceback-500 or a cut connection is not an answer a client can read.
    """
    span = state.trace.span("relay")
    failure: Exception | None = None
    try:
        async for chunk in stream:
            if "usage" in chunk and not chat.include_usage:
                if not chunk.get("choices"):
                    continue
                chunk = {k: v for k, v in chunk.items() if k != "usage"}
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
    except Exception as exc:
        failure = exc
    finally:  # also when the caller went away: the upstream stream is released, the hold settled
        try:
            await stream.aclose()
        except Exception as exc:
            failure = failure or exc
        if failure is not None:
            error = stream_error(failure)
            state.error_code = error.code or error.error_type
            span.fail(state.error_code)
        span.finish()
    if failure is not None:
        yield b"data: " + orjson.dumps(error.to_body()) + b"\n\n"
    yield b"data: [DONE]\n\n"


def stream_error(exc: Exception) -> GatewayError:
    """What the caller is told about a failure mid-stream; an unexpected one is logged as a bug."""
    if isinstance(exc, ProviderError):
        return gateway_error_from(exc)
    if isinstance(exc, GatewayError):
        return exc
    log.error("stream failed", exc_info=exc)
    return GatewayError(
        "The gateway failed while streaming; the request id identifies it in the logs", code="internal_error"
    )


def routes() -> list[Route]:
    chat = Route("/v1/chat/completions", chat_completions, methods=["POST"])
    emb = Route("/v1/embeddings", embeddings, methods=["POST"])
    listing = Route("/v1/models", models, methods=["GET"])
    one = Route("/v1/models/{model:path}", model, methods=["GET"])  # not a fast-path key: FastAPI's router serves it
    # The same endpoints without the /v1 prefix, for clients configured with a bare base URL.
    ours = (chat, emb, listing, one)
    bare = [Route(r.path.removeprefix("/v1"), r.endpoint, methods=list(r.methods or ())) for r in ours]
    return [*ours, *bare]

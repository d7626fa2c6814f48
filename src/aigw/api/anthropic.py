"""The Anthropic-compatible endpoints: `POST /v1/messages` (plain and SSE) and
`POST /v1/messages/count_tokens`, so the `anthropic` SDK and tools built on it work unchanged with
`base_url` set to the gateway.

HTTP only: the body is translated to the canonical chat request (`aigw.ingress`) and goes through
the same orchestrator as `/v1/chat/completions` (keys, model allow-lists, rate limits, budgets, PII,
cache, traces, fallbacks), served by whichever provider family the alias routes to; the answer is
translated back. Keys come as `x-api-key` (Anthropic's header) or `Authorization: Bearer`.
Every error these routes raise is answered in Anthropic's error format.

As on Anthropic's API, `anthropic-version` is required (checked once the caller is authenticated)
and must be a date (`YYYY-MM-DD`). Versions from `2023-06-01` on are served with that version's
answer and event-stream shapes, which later SDKs read unchanged (the `anthropic` SDK 2.17 sends
`2026-10-21`; tests/integration/test_anthropic_sdk.py). Earlier versions (`2023-01-01`) streamed in
another format their clients would misread, so they get a clear 400 instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from aigw.api.coalesce import EventStreamResponse
from aigw.api.middleware import RequestState
from aigw.api.openai import admit_call, note_request, stream_error
from aigw.context.tokens import count_chat, is_exact
from aigw.errors import GatewayError, InvalidRequestError, NotFoundError
from aigw.gateway import Gateway
from aigw.ingress.anthropic_request import canonical_messages, count_tokens_request, messages_request, tool_params
from aigw.ingress.anthropic_response import error_body, message_from_completion
from aigw.ingress.anthropic_stream import MessageEvents
from aigw.normalize.metadata import answer_headers
from aigw.policy.caller import Caller
from aigw.types import ChatRequest, ChatStream, TaskKind

log = logging.getLogger("aigw.api")
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_JSON = "application/json"


async def messages(request: Request) -> Response:
    gateway, state, caller, body = await admit_call(request)
    _check_version(request)
    chat = messages_request(body)
    state.stream = chat.stream
    if state.trace.context is not None:
        note_request(state.trace, chat.model, chat.params)
    result = await gateway.orchestrator.chat(chat, caller, state.trace, state.info)
    headers = answer_headers(state.info)
    if isinstance(result, ChatStream):
        return EventStreamResponse(_events(result, chat, state), headers={**_SSE_HEADERS, **headers})
    with state.trace.span("response"):
        answer = orjson.dumps(message_from_completion(result.body))
    return Response(answer, media_type=_JSON, headers=headers)


async def count_tokens(request: Request) -> Response:
    """Counted against the caller's request rate limits (not its tokens: none are generated), so
    that counting, the one costly step (linear in the body), is bounded per caller like a call."""
    gateway, state, caller, body = await admit_call(request)
    _check_version(request)
    valid = count_tokens_request(body)
    model = _counting_model(gateway, caller, valid.model)
    policy = gateway.orchestrator.policy
    headers = await policy.admit_limits(policy.request_limits(caller), state.trace)
    tokens = count_chat(model, canonical_messages(valid), tool_params(valid).get("tools"))
    headers["x-aigw-usage"] = "exact" if is_exact(model) else "estimated"
    return Response(orjson.dumps({"input_tokens": tokens}), media_type=_JSON, headers=headers)


OLDEST_VERSION = "2023-06-01"


def _check_version(request: Request) -> None:
    """The caller's `anthropic-version` must be a date no older than the shapes these routes speak.
    The value is never echoed: it is unchecked caller data."""
    version = request.headers.get("anthropic-version")
    if version is None:
        raise InvalidRequestError("anthropic-version: header is required", param="anthropic-version")
    if not _is_date(version):
        raise InvalidRequestError("anthropic-version: must be a date such as 2023-06-01", param="anthropic-version")
    if version < OLDEST_VERSION:  # ISO dates compare as strings
        raise InvalidRequestError(
            f"anthropic-version: versions before {OLDEST_VERSION} are not served",
            param="anthropic-version",
            code="unsupported_version",
        )


def _is_date(text: str) -> bool:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    year, month, day = text[:4], text[5:7], text[8:]
    return (
        all(part.isascii() and part.isdigit() for part in (year, month, day))
        and "01" <= month <= "12"
        and "01" <= day <= "31"
    )


def _counting_model(gateway: Gateway, caller: Caller, model: str) -> str:
    """The upstream model the alias `model` routes to first, once the caller may use it."""
    orchestrator = gateway.orchestrator
    orchestrator.policy.check_model(caller, ChatRequest(model=model, messages=[]))
    routes = orchestrator.router.routes(model, TaskKind.CHAT, sticky_key=caller.user or caller.key_id)
    if not routes:
        raise NotFoundError(f"model: '{model}' is not served by this gateway", param="model", code="model_not_found")
    return routes[0].model


async def _events(stream: ChatStream, chat: ChatRequest, state: RequestState) -> AsyncIterator[bytes]:
    """Relay the canonical stream as Anthropic events. Once the first byte is out a failure can
    only be told in the stream: Anthropic's `error` event ends it (see `api.openai._sse`)."""
    events = MessageEvents(chat.model)
    span = state.trace.span("relay")
    failure: Exception | None = None
    try:
        async for chunk in stream:
            out = events.feed(chunk)
            if out:
                yield b"".join(out)
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
    yield MessageEvents.error(error) if failure is not None else b"".join(events.finish())


Endpoint = Callable[[Request], Awaitable[Response]]


def _anthropic_errors(endpoint: Endpoint) -> Endpoint:
    """`endpoint` with every failure answered in Anthropic's error format."""

    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except GatewayError as error:
            return error_response(error, request.scope)
        except ClientDisconnect:
            raise
        except Exception as exc:
            log.error("unhandled error", exc_info=exc)
            failure = GatewayError(
                "The gateway failed unexpectedly; the request id identifies it in the logs", code="internal_error"
            )
            return error_response(failure, request.scope)

    return answer


def error_response(error: GatewayError, scope: Scope) -> Response:
    """`error` in Anthropic's format (also for the edge's refusals of these paths: 413, 415)."""
    state: RequestState | None = scope.get("aigw")
    if state is not None:
        state.error_code = error.code or error.error_type
    body = orjson.dumps(error_body(error))
    return Response(body, status_code=error.status, media_type=_JSON, headers=error.headers)


def serves(path: str) -> bool:
    """Whether `path` is one of these routes (their errors take Anthropic's format)."""
    return path in _PATHS


_PREFIX = "/v1/messages"
_PATHS = frozenset({_PREFIX, f"{_PREFIX}/count_tokens"})


def routes() -> list[Route]:
    """The SDK posts to `{base_url}/v1/messages`: `base_url` is the gateway's root, as for OpenAI's SDK
    with `/v1` appended by the caller, so no bare (`/messages`) variant is needed."""
    return [
        Route(_PREFIX, _anthropic_errors(messages), methods=["POST"]),
        Route(f"{_PREFIX}/count_tokens", _anthropic_errors(count_tokens), methods=["POST"]),
    ]

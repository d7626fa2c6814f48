"""Every error leaves the gateway in OpenAI's error format, with the right status."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from aigw.api.middleware import CLIENT_CLOSED_REQUEST, RequestState
from aigw.errors import GatewayError, InvalidRequestError, NotFoundError

log = logging.getLogger("aigw.api")
_BY_STATUS = {404: ("not_found_error", "not_found"), 405: ("invalid_request_error", "method_not_allowed")}


def error_response(error: GatewayError, request: Request | None = None) -> Response:
    if request is not None:
        state: RequestState | None = request.scope.get("aigw")
        if state is not None:
            state.error_code = error.code or error.error_type
    return Response(
        orjson.dumps(error.to_body()), status_code=error.status, media_type="application/json", headers=error.headers
    )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc, request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error: GatewayError = NotFoundError(f"Unknown path {_shown_path(request.url.path)}", code="not_found")
    else:
        kind, code = _BY_STATUS.get(exc.status_code, ("invalid_request_error", str(exc.status_code)))
        error = GatewayError(str(exc.detail), code=code)
        error.status, error.error_type = exc.status_code, kind
    response = error_response(error, request)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


_SHOWN_PATH_CHARS = 200


def _shown_path(path: str) -> str:
    """A path as an error message may repeat it: a caller's 60 KiB path is not echoed back whole."""
    return path if len(path) <= _SHOWN_PATH_CHARS else path[:_SHOWN_PATH_CHARS] + "…"


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first["loc"][1:]) or None
    return error_response(InvalidRequestError(str(first["msg"]), param=param, code="invalid_value"), request)


def unexpected_error(exc: Exception, request: Request) -> Response:
    """A bug, logged with its traceback; the caller gets a 500 that names no internals."""
    log.error("unhandled error", exc_info=exc)
    return error_response(
        GatewayError(
            "The gateway failed unexpectedly; the request id identifies it in the logs", code="internal_error"
        ),
        request,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_error(exc, request)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client disconnected while the route read from it: nobody reads this answer, but the
    metrics and the access log count it as the client's doing, not as a 500."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)

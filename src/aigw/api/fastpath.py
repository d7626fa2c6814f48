"""The OpenAI endpoints served around FastAPI's generic middleware stack.

Every request to FastAPI passes server-error, exception-telemetry, body-limit, exception and
exit-stack middleware and the router before reaching a handler: about a tenth of the gateway's
CPU per request, measured with py-spy under load. The hot endpoints need none of it (they read
their body within their own limit and turn their own errors into OpenAI answers), so this
dispatcher sends them straight to their handlers; everything else goes through FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.api.errors import error_response, unexpected_error
from aigw.errors import GatewayError

log = logging.getLogger("aigw.api")
Endpoint = Callable[[Request], Awaitable[Response]]


class FastPath:
    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        self._endpoints: dict[tuple[str, str], Endpoint] = {
            (route.path, method): route.endpoint for route in routes for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get((scope["path"], scope["method"])) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        request = Request(scope, receive, tracked_send)
        try:
            response = await endpoint(request)
            await response(scope, receive, tracked_send)
        except GatewayError as exc:
            if started:
                raise
            await error_response(exc, request)(scope, receive, send)
        except ClientDisconnect:
            raise  # a client event, counted by RequestMiddleware: neither an answer nor a traceback
        except Exception as exc:
            if started:
                raise
            await unexpected_error(exc, request)(scope, receive, send)

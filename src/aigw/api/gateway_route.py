"""The route class of the FastAPI routers (admin, collections, tasks): authenticate, then parse.

FastAPI reads and parses a route's body before it runs the route's dependencies, authentication
included, and parses it with the standard library, unbounded in depth. These routes instead
authenticate first (the caller is kept for the dependencies, which then only check its access
level) and parse their JSON through `json_body.parse_json`, the same function as the OpenAI
endpoints; FastAPI then finds the parsed value and validates it as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from aigw.api.json_body import parse_json


class JSONRequest(Request):
    """A request whose `json()` goes through `parse_json`."""

    _parsed: Any

    async def json(self) -> Any:
        if not hasattr(self, "_parsed"):
            self._parsed = parse_json(await self.body())
        return self._parsed


class GatewayRoute(APIRoute):
    async def authenticate(self, request: Request) -> None:
        """Authenticate the caller before the body is read (raises when it may not call)."""
        request.app.state.auth.authenticate(request)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        takes_body = self.body_field is not None

        async def authenticate_then_parse(request: Request) -> Response:
            request = JSONRequest(request.scope, request.receive)
            await self.authenticate(request)
            if takes_body and await request.body():
                await request.json()
            return await handle(request)

        return authenticate_then_parse

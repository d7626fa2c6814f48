"""The checks every HTTP request passes before any route, authentication included, sees it.

- Without a master key the gateway trusts whoever reaches it, so it answers only loopback peers
  (whatever the server was told to bind: the app cannot know), and only requests whose `Host` is
  a loopback name or one of `AI_ALLOWED_HOSTS`: a web page whose name an attacker points at
  127.0.0.1 (DNS rebinding) sends its own name as `Host`.
- A request that sends a body must label it JSON (`json_body.is_json_media_type`): 415
  otherwise, so a browser cannot post one cross-site without a CORS preflight.
- The body is read here, whole, within its route's limit (`AI_MAX_COLLECTION_BODY_BYTES` for
  `/v1/collections`, `AI_MAX_BODY_BYTES` for every other route): a declared `Content-Length`
  over the limit is refused before a byte is read, a body without one when it passes the limit.
  The routes then receive it as one message. Every route takes JSON, which is parsed whole
  anyway, so reading it here costs nothing more.
- A client that disconnects while sending raises `ClientDisconnect`, which `RequestMiddleware`
  counts as 499.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.api import anthropic
from aigw.api.errors import error_response
from aigw.api.json_body import is_json_media_type
from aigw.errors import GatewayError, InvalidRequestError, PermissionDeniedError, RequestTooLargeError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_COLLECTIONS = "/v1/collections"
_MAX_LENGTH_DIGITS = 18  # no body limit is near 10**18 bytes; int() of a longer string is refused anyway


class UnsupportedMediaTypeError(GatewayError):
    status = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class EdgeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: int,
        collection_body_limit: int,
        loopback_only: bool,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.collection_body_limit = collection_body_limit
        self.loopback_only = loopback_only
        self.allowed_hosts = LOOPBACK_HOSTS | {host.lower() for host in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.collection_body_limit if scope["path"].startswith(_COLLECTIONS) else self.body_limit
        try:
            self._check_headers(scope, limit)
            body = await _read_body(receive, limit)
        except GatewayError as error:
            if anthropic.serves(scope["path"]):  # the Anthropic routes answer in Anthropic's format
                await anthropic.error_response(error, scope)(scope, receive, send)
            else:
                await error_response(error, Request(scope))(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_headers(self, scope: Scope, limit: int) -> None:
        host = content_type = length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if self.loopback_only:
            self._check_loopback(scope, host)
        if length is not None and (len(length) > _MAX_LENGTH_DIGITS or (length.isdigit() and int(length) > limit)):
            raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
        sends_body = chunked or (length is not None and length.strip(b"0") != b"")
        if sends_body and not _labelled_json(content_type):
            raise UnsupportedMediaTypeError("Request bodies must be JSON: send 'Content-Type: application/json'")

    def _check_loopback(self, scope: Scope, host: bytes | None) -> None:
        client = scope.get("client")
        if not client or not _is_loopback(client[0]):
            raise PermissionDeniedError(
                "Without AI_MASTER_KEY this gateway answers only this machine (loopback)", code="loopback_only"
            )
        if host is None or _host_name(host.decode("latin-1")) not in self.allowed_hosts:
            raise InvalidRequestError(
                "Host not allowed: without AI_MASTER_KEY the gateway answers loopback names and AI_ALLOWED_HOSTS",
                code="host_not_allowed",
            )


def _labelled_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    return content_type == b"application/json" or is_json_media_type(content_type.decode("latin-1"))


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(f"Request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the routes: the body read here as one message, then the server's own
    messages (a disconnect while a response streams)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _host_name(host: str) -> str:
    """`host` without its port: `[::1]:8080` is `[::1]`, `localhost:8080` is `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _is_loopback(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None  # ::ffff:127.0.0.1
    return (mapped or parsed).is_loopback

"""api/edge: loopback-only without a master key, Host allow-list, JSON bodies only, one body limit.

EdgeGuard is a pure ASGI app: these tests call it with a scope, a receive and a send, as a server
would. A peer address other than loopback cannot be had on a test machine's sockets, so the
loopback rule is checked here; tests/integration/test_edge_security.py checks the rest over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from aigw.api.edge import EdgeGuard

LIMIT, COLLECTION_LIMIT = 1024, 4096


class Inner:
    """The app behind the guard: records the body it is given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(
    guard: EdgeGuard,
    headers: dict[str, str] | None = None,
    chunks: list[bytes] | None = None,
    *,
    path: str = "/v1/chat/completions",
    peer: str | None = "127.0.0.1",
    disconnect: bool = False,
) -> tuple[int, dict[str, Any], int]:
    """(status, JSON body or {}, how many times the guard called receive)."""
    pending: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks or [b""]) - 1}
        for i, c in enumerate(chunks or [b""])
    ]
    if disconnect:
        pending = [{**pending[0], "more_body": True}, {"type": "http.disconnect"}]
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        received += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    raw = [(k.encode(), v.encode()) for k, v in {"host": "127.0.0.1:8080", **(headers or {})}.items()]
    scope = {"type": "http", "method": "POST", "path": path, "headers": raw, "client": (peer, 5000) if peer else None}
    asyncio.run(guard(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], (orjson.loads(body) if body != b"ok" else {}), received


def guard(loopback_only: bool = False, allowed: tuple[str, ...] = ()) -> tuple[EdgeGuard, Inner]:
    inner = Inner()
    edge = EdgeGuard(
        inner,
        body_limit=LIMIT,
        collection_body_limit=COLLECTION_LIMIT,
        loopback_only=loopback_only,
        allowed_hosts=allowed,
    )
    return edge, inner


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("peer", ["10.1.2.3", "192.168.1.20", "2001:db8::1", None])
def test_without_a_master_key_only_loopback_peers_are_answered(peer: str | None) -> None:
    edge, inner = guard(loopback_only=True)
    status, body, _ = call(edge, peer=peer)
    assert status == 403 and body["error"]["code"] == "loopback_only"
    assert inner.bodies == []


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_peers(peer: str) -> None:
    assert call(guard(loopback_only=True)[0], peer=peer)[0] == 200


def test_with_a_master_key_any_peer_is_answered() -> None:
    assert call(guard()[0], peer="10.1.2.3")[0] == 200


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("LOCALHOST:9999", True),
        ("127.0.0.1:8080", True),
        ("[::1]:8080", True),
        ("[::1]", True),
        ("gateway.internal:8080", True),
        ("evil.example", False),
        ("evil.example:8080", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
    ],
)
def test_host_allow_list_without_a_master_key(host: str, allowed: bool) -> None:
    edge, _ = guard(loopback_only=True, allowed=("Gateway.Internal",))
    status, body, _ = call(edge, {"host": host})
    assert (status == 200) is allowed
    if not allowed:
        assert status == 400 and body["error"]["code"] == "host_not_allowed"


def test_with_a_master_key_the_host_is_not_checked() -> None:
    assert call(guard()[0], {"host": "anything.example"})[0] == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"content-length": "2"},
        {"content-length": "2", "content-type": "text/plain"},
        {"content-length": "2", "content-type": "application/x-www-form-urlencoded"},
        {"transfer-encoding": "chunked", "content-type": "multipart/form-data; boundary=b"},
    ],
)
def test_a_body_must_be_labelled_json(headers: dict[str, str]) -> None:
    edge, inner = guard()
    status, body, received = call(edge, headers, [b"{}"])
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    assert body["error"]["type"] == "invalid_request_error"
    assert received == 0 and inner.bodies == []


def test_no_body_needs_no_content_type() -> None:
    assert call(guard()[0], {"content-length": "0"})[0] == 200
    assert call(guard()[0])[0] == 200


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    for length in (str(LIMIT + 1), "9" * 30):
        status, body, received = call(guard()[0], {**JSON, "content-length": length}, [b"x"])
        assert status == 413 and body["error"]["code"] == "request_too_large"
        assert received == 0


def test_a_body_over_the_limit_is_refused_while_read() -> None:
    edge, inner = guard()
    status, _, received = call(edge, {**JSON, "transfer-encoding": "chunked"}, [b"x" * 600] * 10)
    assert status == 413 and received == 2 and inner.bodies == []


def test_the_body_reaches_the_route_as_one_message() -> None:
    edge, inner = guard()
    status, _, _ = call(edge, {**JSON, "transfer-encoding": "chunked"}, [b'{"a":', b"1}"])
    assert status == 200 and inner.bodies == [b'{"a":1}']


def test_collections_have_their_own_limit() -> None:
    body = [b"x" * 3000]
    assert call(guard()[0], {**JSON, "content-length": "3000"}, body, path="/v1/collections/c/items")[0] == 200
    assert call(guard()[0], {**JSON, "content-length": "3000"}, body, path="/admin/api/keys")[0] == 413
    assert call(guard()[0], {**JSON, "content-length": "3000"}, body, path="/v1/tasks/semantic_search")[0] == 413


def test_a_client_gone_while_sending_is_a_client_disconnect() -> None:
    with pytest.raises(ClientDisconnect):
        call(guard()[0], {**JSON, "content-length": "100"}, [b"{"], disconnect=True)

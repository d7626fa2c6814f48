"""The HTTP edge under hostile bytes on a raw socket: broken request lines, huge or malformed headers, long paths,
bad Content-Length, slow bodies. The gateway must answer (never with a 5xx) or close cleanly; it must never hang
a connection, reset it without an answer, or stop serving others.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.fuzz.conftest import FUZZ_MASTER_KEY
from tests.support.processes import GatewayProcess

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

ANSWER_WITHIN_S = 10.0
AUTH = f"Authorization: Bearer {FUZZ_MASTER_KEY}\r\n".encode()
CHAT = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'


def post(path: bytes, body: bytes, *headers: bytes) -> bytes:
    head = b"".join(h + b"\r\n" for h in headers)
    start = b"POST " + path + b" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n" + AUTH
    return start + head + b"Connection: close\r\n\r\n" + body


def get(path: bytes, *headers: bytes) -> bytes:
    head = b"".join(h + b"\r\n" for h in headers)
    return b"GET " + path + b" HTTP/1.1\r\nHost: gw\r\n" + AUTH + head + b"Connection: close\r\n\r\n"


PII_PATH = b"/v1/" + b"jane.doe%40example.com%204111%201111%201111%201111%20" * 150
HOSTILE = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "method only": b"GET\r\n\r\n",
    "unknown version": b"GET /healthz HTTP/9.9\r\nHost: gw\r\n\r\n",
    "binary request line": b"\x00\xff\xfe\xfd\r\n\r\n",
    "huge method": b"A" * 10_000 + b" / HTTP/1.1\r\nHost: gw\r\n\r\n",
    "absolute url": b"GET http://127.0.0.1:9/latest HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    "long path": get(b"/" + b"a" * 100_000),
    "long path of pii": get(PII_PATH),
    "long api path of pii": get(b"/v1/collections/" + PII_PATH[4:] + b"/items"),
    "long query": get(b"/v1/models?" + b"a=b&" * 20_000),
    "nul in path": get(b"/v1/%00/models"),
    "invalid utf-8 in path": get(b"/v1/%ff%fe/models"),
    "raw high bytes in path": get(b"/v1/\xff\xfe/models"),
    "huge header": get(b"/v1/models", b"X-Big: " + b"a" * 200_000),
    "many headers": get(b"/v1/models", *(b"X-H%d: v" % i for i in range(3000))),
    "header without colon": get(b"/v1/models", b"this is no header"),
    "header with bare cr": get(b"/v1/models", b"X-A: a\rb"),
    "non-ascii authorization": get(b"/v1/models", b"Authorization: Bearer \xff\xfe\xe9"),
    "huge authorization": get(b"/v1/models", b"Authorization: Bearer " + b"k" * 100_000),
    "negative content-length": post(b"/v1/chat/completions", CHAT, b"Content-Length: -1"),
    "letters content-length": post(b"/v1/chat/completions", CHAT, b"Content-Length: abc"),
    "superscript content-length": post(b"/v1/chat/completions", CHAT, b"Content-Length: \xb2"),
    "huge content-length": post(b"/v1/chat/completions", CHAT, b"Content-Length: 99999999999999999999999"),
    "two content-lengths": post(b"/v1/chat/completions", CHAT, b"Content-Length: 5", b"Content-Length: %d" % len(CHAT)),
    "content-length and chunked": post(
        b"/v1/chat/completions",
        b"4a\r\n" + CHAT + b"\r\n0\r\n\r\n",
        b"Content-Length: 3",
        b"Transfer-Encoding: chunked",
    ),
    "broken chunk": post(b"/v1/chat/completions", b"zz\r\n" + CHAT + b"\r\n", b"Transfer-Encoding: chunked"),
    "huge chunk size": post(b"/v1/embeddings", b"ffffffffffffffffff\r\nab\r\n", b"Transfer-Encoding: chunked"),
    "body not json": post(b"/v1/chat/completions", b"\xff" * 64, b"Content-Length: 64"),
    "deep json": post(b"/v1/chat/completions", b"[" * 50_000 + b"]" * 50_000, b"Content-Length: 100000"),
    "unknown transfer-encoding": post(b"/v1/chat/completions", CHAT, b"Transfer-Encoding: gzip, chunked"),
    "expect continue": post(b"/v1/chat/completions", CHAT, b"Content-Length: %d" % len(CHAT), b"Expect: 100-continue"),
    "pipelined": get(b"/healthz").replace(b"Connection: close\r\n", b"") + get(b"/healthz"),
}


@dataclass
class Outcome:
    status: int | None  # the first response's status; None when the server closed without answering
    reset: bool = False  # the connection was reset before any answer
    hung: bool = False  # neither an answer nor a close within ANSWER_WITHIN_S

    def acceptable(self) -> bool:
        return not self.reset and not self.hung and (self.status is None or self.status < 500)


def exchange(port: int, payload: bytes, pause_every: int = 0, pause_s: float = 0.0) -> Outcome:
    """Send `payload` (in `pause_every`-byte pieces with pauses, if given) and read until the server closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN_S) as sock:
        try:
            step = pause_every or len(payload)
            for start in range(0, len(payload), step):
                sock.sendall(payload[start : start + step])
                time.sleep(pause_s)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything: read what it said
        deadline = time.monotonic() + ANSWER_WITHIN_S
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            else:
                return Outcome(status_of(received), hung=not received)
        except TimeoutError:
            return Outcome(status_of(received), hung=not received)
        except ConnectionResetError:
            return Outcome(status_of(received), reset=not received)
    return Outcome(status_of(received))


def status_of(received: bytes) -> int | None:
    if not received:
        return None
    assert received.startswith(b"HTTP/1."), received[:200]
    return int(received.split(b" ", 2)[1])


def assert_serving(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    assert httpx.get(f"{gateway.url}/healthz", timeout=5).status_code == 200
    assert time.monotonic() - started < 2.0, "the gateway answers slowly after hostile input"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bytes_get_an_answer_or_a_clean_close(fuzz_gateway: GatewayProcess, name: str) -> None:
    outcome = exchange(fuzz_gateway.port, HOSTILE[name])
    assert outcome.acceptable(), f"{name}: {outcome}"
    assert_serving(fuzz_gateway)


def test_a_slow_body_is_answered_and_others_are_served_meanwhile(fuzz_gateway: GatewayProcess) -> None:
    """A client trickling its body (and headers) 4 bytes at a time does not hold the other clients up."""
    payload = post(b"/v1/chat/completions", CHAT, b"Content-Length: %d" % len(CHAT), b"Cache-Control: no-store")
    outcomes: list[Outcome] = []
    slow = threading.Thread(target=lambda: outcomes.append(exchange(fuzz_gateway.port, payload, 4, 0.01)))
    slow.start()
    try:
        while slow.is_alive():
            assert_serving(fuzz_gateway)
            time.sleep(0.2)
    finally:
        slow.join()
    assert outcomes[0].status == 200, outcomes


def test_a_body_shorter_than_its_content_length_is_not_left_hanging(fuzz_gateway: GatewayProcess) -> None:
    """The client promises 1000 bytes, sends 10 and stops writing: an answer or a close, not a stuck request."""
    payload = post(b"/v1/chat/completions", b'{"model": ', b"Content-Length: 1000")
    with socket.create_connection(("127.0.0.1", fuzz_gateway.port), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        try:
            answer = sock.recv(65536)
        except ConnectionResetError:
            pytest.fail("the connection was reset instead of answered or closed")
    assert answer == b"" or (status_of(answer) is not None and status_of(answer) < 500), answer[:300]
    assert_serving(fuzz_gateway)

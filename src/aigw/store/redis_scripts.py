"""Hot-path Lua script calls, pipelined on one connection of their own.

redis-py spends far more CPU on one `EVALSHA` than the script's own input costs to build: the
pool's lock and condition, the retry wrapper, per-argument encoding, a task for the write timeout
and a timeout context for the read. `ScriptPipe` sends script calls from every coroutine on one
asyncio connection, in order, and matches the replies in order (Redis answers a connection's
commands in the order sent): one `hiredis.pack_command` and one transport write per call, replies
parsed by hiredis as they arrive.

- Bounded: a call not answered within the socket timeout fails the connection, and every call
  waiting on it, with `redis.exceptions.TimeoutError`; one timer watches the oldest call.
- A lost or failed connection fails its waiting calls with `redis.exceptions.ConnectionError`;
  the next call reconnects (concurrent callers share one attempt, bounded by the connect timeout).
- The connection settings (host or socket path, TLS, credentials, database, client name, timeouts)
  are those of the pool's own connections. Replies are raw (bytes for strings).

`ScriptPool` is the gateway's pool (`store.redis.connect_redis`) with one such pipe, closed with
the pool; `script_runner(client, body)` runs a script on it, or on redis-py's path for any other
client (a plain `Redis`, Sentinel).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import hiredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.credentials import UsernamePasswordCredentialProvider
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

DEFAULT_TIMEOUT_S = 2.0  # for a pool configured without socket timeouts: a script call is always bounded
CLOSE_WAIT_S = 1.0

Arg = str | int | bytes


@dataclass(frozen=True, slots=True)
class LuaScript:
    """A script's text and its SHA1, the name `EVALSHA` calls it by."""

    body: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.body.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class PipeSettings:
    """Where and how to connect, read from one of the pool's (never connected) connections."""

    connection: AbstractConnection
    timeout: float
    connect_timeout: float

    @classmethod
    def of(cls, connection: AbstractConnection) -> PipeSettings | None:
        """None for a connection kind the pipe does not know how to open (e.g. Sentinel-managed)."""
        if type(connection) not in (Connection, SSLConnection, UnixDomainSocketConnection):
            return None
        timeout = connection.socket_timeout or DEFAULT_TIMEOUT_S
        return cls(connection, timeout, connection.socket_connect_timeout or timeout)

    async def open(self, protocol: _Replies) -> None:
        conn, loop = self.connection, asyncio.get_running_loop()
        if isinstance(conn, UnixDomainSocketConnection):
            await loop.create_unix_connection(lambda: protocol, conn.path)
            return
        assert isinstance(conn, Connection)
        context: ssl.SSLContext | None = conn.ssl_context.get() if isinstance(conn, SSLConnection) else None
        transport, _ = await loop.create_connection(lambda: protocol, conn.host, conn.port, ssl=context)
        sock = transport.get_extra_info("socket")
        if sock is not None and conn.socket_keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            options = cast(dict[int, int | bytes], conn.socket_keepalive_options)
            for option, value in options.items():
                sock.setsockopt(socket.SOL_TCP, option, value)

    async def handshake(self) -> list[tuple[Arg, ...]]:
        """The commands a new connection sends first: AUTH, CLIENT SETNAME, SELECT, as configured."""
        conn = self.connection
        commands: list[tuple[Arg, ...]] = []
        provider = conn.credential_provider
        if provider is None and (conn.username or conn.password):
            provider = UsernamePasswordCredentialProvider(conn.username, conn.password)
        if provider is not None:
            commands.append(("AUTH", *await provider.get_credentials_async()))
        if conn.client_name:
            commands.append(("CLIENT", "SETNAME", conn.client_name))
        if conn.db:
            commands.append(("SELECT", conn.db))
        return commands


class _Replies(asyncio.Protocol):
    """One connection: the futures of the calls sent on it, in order, each with its deadline."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.reader = hiredis.Reader(protocolError=InvalidResponse, replyError=ResponseError)
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.unsent: list[bytes] = []  # commands of this loop iteration, written together by `_flush`
        self.closed = False
        self.lost: asyncio.Future[None] = self.loop.create_future()  # done once the socket is closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def send(self, command: tuple[Arg, ...]) -> asyncio.Future[Any]:
        transport = self.transport
        if not self.closed and transport is not None and transport.is_closing():
            self.fail(RedisConnectionError("the Redis script connection is closing"))
        if self.closed or transport is None:
            raise RedisConnectionError("the Redis script connection is closed")
        future = self.loop.create_future()
        if not self.unsent:
            self.loop.call_soon(self._flush)
        self.unsent.append(hiredis.pack_command(cast(Any, command)))  # the stub's tuple type is wrong
        self.waiting.append((future, self.loop.time() + self.timeout))
        if self.timer is None:
            self.timer = self.loop.call_at(self.waiting[0][1], self._watch)
        return future

    def _flush(self) -> None:
        """One write (one system call) for every command sent since the last: loopback TCP costs per write."""
        unsent, transport = self.unsent, self.transport
        if self.closed or not unsent or transport is None:
            unsent.clear()
            return
        if transport.is_closing():  # lost, and not told yet: the calls cannot be answered
            self.fail(RedisConnectionError("the Redis script connection is closing"))
            return
        transport.write(unsent[0] if len(unsent) == 1 else b"".join(unsent))
        unsent.clear()

    def data_received(self, data: bytes) -> None:
        reader, waiting = self.reader, self.waiting
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                future = waiting.popleft()[0]
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, ResponseError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except (InvalidResponse, IndexError) as exc:  # garbled, or a reply nobody asked for
            self.fail(RedisConnectionError(f"unexpected data from Redis: {exc!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        self.fail(RedisConnectionError(f"Redis closed the script connection: {exc!r}" if exc else "Redis closed it"))

    def fail(self, error: Exception) -> None:
        """Close the connection and fail every call waiting on it (their replies can no longer be matched)."""
        self.closed = True
        self.unsent.clear()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.waiting:
            future = self.waiting.popleft()[0]
            if not future.done():
                future.set_exception(error)
                future.exception()  # a cancelled caller never retrieves it: no "never retrieved" warning
        if self.transport is not None:
            self.transport.abort()

    async def close(self, error: Exception) -> None:
        """`fail`, then wait (briefly) until the socket is closed, so that none is left open at shutdown."""
        self.fail(error)
        if self.transport is not None:
            await asyncio.wait([self.lost], timeout=CLOSE_WAIT_S)

    def _watch(self) -> None:
        self.timer = None
        if not self.waiting:
            return
        deadline = self.waiting[0][1]
        if deadline <= self.loop.time():
            self.fail(RedisTimeoutError(f"Redis did not answer a script call within {self.timeout:g} s"))
        else:
            self.timer = self.loop.call_at(deadline, self._watch)


class ScriptPipe:
    """Script calls from any number of coroutines on one connection, opened on first use."""

    def __init__(self, settings: PipeSettings) -> None:
        self.settings = settings
        self._replies: _Replies | None = None
        self._opening: asyncio.Future[_Replies] | None = None
        self._closes = 0  # how many times `aclose` ran: a connection opened across one is closed at once

    async def evalsha(self, script: LuaScript, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """Run `script` (loading it on a NOSCRIPT answer) and return its raw reply; raises RedisError."""
        replies = self._replies
        if replies is None or replies.closed:
            replies = await self._connection()
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return await replies.send(command)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        replies = await self._connection()
        await replies.send(("SCRIPT", "LOAD", script.body))
        return await replies.send(command)

    async def aclose(self) -> None:
        """Close the connection, failing the calls waiting on it; a later call opens a new one."""
        self._closes += 1
        replies, self._replies = self._replies, None
        if replies is not None:
            await replies.close(RedisConnectionError("the Redis script connection was closed"))

    async def _connection(self) -> _Replies:
        replies = self._replies
        if replies is not None and not replies.closed:
            return replies
        opening = self._opening
        if opening is None:
            opening = self._opening = asyncio.ensure_future(self._open(self._closes))
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)  # a caller cancelled does not stop the others' attempt

    def _opened(self, opening: asyncio.Future[_Replies]) -> None:
        self._opening = None
        if not opening.cancelled():
            opening.exception()  # retrieved here whether or not a caller is still waiting for it

    async def _open(self, closes: int) -> _Replies:
        """A new connection, set up; `closes` is `aclose`'s count when it was asked for."""
        settings = self.settings
        replies = _Replies(settings.timeout)
        try:
            async with asyncio.timeout(settings.connect_timeout):
                await settings.open(replies)
                for command in await settings.handshake():
                    await replies.send(command)
        except ResponseError as exc:
            error = RedisConnectionError(f"Redis refused the script connection's set-up: {exc}")
            await replies.close(error)
            raise error from exc
        except (OSError, TimeoutError) as exc:
            error = RedisConnectionError(f"cannot open the Redis script connection: {exc!r}")
            await replies.close(error)
            raise error from exc
        except BaseException:
            replies.fail(RedisConnectionError("the Redis script connection was not opened"))
            raise
        if closes != self._closes:
            error = RedisConnectionError("the Redis script connection was closed while it opened")
            await replies.close(error)
            raise error
        self._replies = replies
        return replies


class ScriptPool(BlockingConnectionPool):
    """The gateway's blocking pool, plus a `ScriptPipe` for hot-path scripts, closed with the pool."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pipe: ScriptPipe | None = None
        self._pipe_checked = False

    def script_pipe(self) -> ScriptPipe | None:
        if not self._pipe_checked:
            self._pipe_checked = True
            settings = PipeSettings.of(self.connection_class(**self.connection_kwargs))  # never connected
            self._pipe = ScriptPipe(settings) if settings is not None else None
        return self._pipe

    async def disconnect(self, inuse_connections: bool = True) -> None:
        try:
            await super().disconnect(inuse_connections)
        finally:
            if self._pipe is not None:
                await self._pipe.aclose()


ScriptRunner = Callable[[Sequence[str], Sequence[Arg]], Awaitable[Any]]  # (keys, args) -> the script's reply


def script_runner(client: Redis, body: str) -> ScriptRunner:
    """The script `body` as a call: on the client's pipe when it has one, else redis-py's EVALSHA (same reply
    but for strings, which are bytes on the pipe and follow the client's `decode_responses` otherwise)."""
    pipe = script_pipe(client)
    if pipe is not None:
        return partial(pipe.evalsha, LuaScript(body))
    script = client.register_script(body)

    async def run(keys: Sequence[str], args: Sequence[Arg]) -> Any:
        return await script(keys=keys, args=args)

    return run


def script_pipe(client: Redis) -> ScriptPipe | None:
    """The client's script pipe when its pool has one (`connect_redis`'s does)."""
    pool = getattr(client, "connection_pool", None)  # a cluster client (or a test's fake) has none
    return pool.script_pipe() if isinstance(pool, ScriptPool) else None

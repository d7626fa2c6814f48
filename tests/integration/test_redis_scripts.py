"""ScriptPipe (store/redis_scripts): script calls pipelined on one connection, against a real Redis
(127.0.0.1:6379, db 13, keys under a prefix unique to the test) and against servers that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aigw.store.redis import connect_redis
from aigw.store.redis_scripts import LuaScript, ScriptPipe, ScriptPool, script_pipe
from tests.support.services import require_service
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 6379, 13
ECHO = LuaScript("return {ARGV[1], #KEYS}")


@pytest.fixture
async def direct() -> AsyncIterator[Redis]:
    client = Redis(host=HOST, port=PORT, db=DB, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        require_service("Redis", f"{HOST}:{PORT} is unreachable ({exc})")
    yield client
    await client.aclose()


def pipe_of(client: Redis) -> ScriptPipe:
    pipe = script_pipe(client)
    assert pipe is not None
    return pipe


@contextlib.asynccontextmanager
async def gateway_client(url: str) -> AsyncIterator[Redis]:
    client = connect_redis(url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_concurrent_calls_each_get_their_own_reply(direct: Redis) -> None:
    async with gateway_client(f"redis://{HOST}:{PORT}/{DB}") as client:
        pipe = pipe_of(client)
        replies = await asyncio.gather(*(pipe.evalsha(ECHO, ["k1", "k2"], [f"call-{i}"]) for i in range(300)))
        assert replies == [[f"call-{i}".encode(), 2] for i in range(300)]


async def test_an_unknown_script_is_loaded_on_noscript(direct: Redis) -> None:
    fresh = LuaScript(f"-- {secrets.token_hex(8)}\nreturn tonumber(ARGV[1]) + 1")  # never seen by this Redis
    assert await direct.script_exists(fresh.sha) == [False]
    async with gateway_client(f"redis://{HOST}:{PORT}/{DB}") as client:
        assert await pipe_of(client).evalsha(fresh, [], [41]) == 42
    assert await direct.script_exists(fresh.sha) == [True]


async def test_calls_run_on_the_configured_database(direct: Redis) -> None:
    key = f"aigw-test-pipe-{secrets.token_hex(4)}"
    setter = LuaScript("redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) return 1")
    async with gateway_client(f"redis://{HOST}:{PORT}/{DB}?client_name=aigw-pipe-test") as client:
        assert await pipe_of(client).evalsha(setter, [key], ["on-13"]) == 1
        names = [c.get("name") for c in await direct.client_list()]
        assert "aigw-pipe-test" in names  # CLIENT SETNAME, from the URL like the pool's own connections
    assert await direct.get(key) == b"on-13"
    await direct.delete(key)


async def test_an_error_reply_fails_that_call_only(direct: Redis) -> None:
    failing = LuaScript("return redis.error_reply('boom')")
    async with gateway_client(f"redis://{HOST}:{PORT}/{DB}") as client:
        pipe = pipe_of(client)
        results = await asyncio.gather(
            pipe.evalsha(ECHO, [], ["before"]),
            pipe.evalsha(failing, [], []),
            pipe.evalsha(ECHO, [], ["after"]),
            return_exceptions=True,
        )
        assert results[0] == [b"before", 0] and results[2] == [b"after", 0]
        assert isinstance(results[1], ResponseError) and "boom" in str(results[1])
        assert await pipe.evalsha(ECHO, [], ["still open"]) == [b"still open", 0]


async def test_a_cancelled_call_does_not_shift_the_replies(direct: Redis) -> None:
    slow = LuaScript(
        "local t = redis.call('TIME') local s = t[1] * 1e6 + t[2] "
        "repeat local n = redis.call('TIME') until n[1] * 1e6 + n[2] - s > 30000 return 'slow'"
    )
    async with gateway_client(f"redis://{HOST}:{PORT}/{DB}") as client:
        pipe = pipe_of(client)
        await pipe.evalsha(slow, [], [])  # loaded, so the calls below are one EVALSHA each
        cancelled = asyncio.ensure_future(pipe.evalsha(slow, [], []))
        await asyncio.sleep(0.005)
        cancelled.cancel()
        assert await pipe.evalsha(ECHO, [], ["mine"]) == [b"mine", 0]
        assert cancelled.cancelled()


async def test_redis_going_away_fails_the_calls_and_the_next_call_reconnects(direct: Redis) -> None:
    proxy = TcpProxy(HOST, PORT)
    proxy.start()
    try:
        async with gateway_client(f"redis://127.0.0.1:{proxy.port}/{DB}") as client:
            pipe = pipe_of(client)
            assert await pipe.evalsha(ECHO, [], ["up"]) == [b"up", 0]
            proxy.cut()
            with pytest.raises(RedisConnectionError):
                await pipe.evalsha(ECHO, [], ["down"])
            with pytest.raises(RedisConnectionError):  # refused while away, at once
                await asyncio.wait_for(pipe.evalsha(ECHO, [], ["still down"]), 2)
            proxy.start()
            assert await pipe.evalsha(ECHO, [], ["back"]) == [b"back", 0]
    finally:
        proxy.close()


async def test_a_server_that_never_answers_times_out_every_waiting_call() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis.from_pool(ScriptPool.from_url(f"redis://127.0.0.1:{port}", socket_timeout=0.3))
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(pipe_of(client).evalsha(ECHO, [], [i]) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, RedisTimeoutError) for r in results)
        assert 0.25 < time.monotonic() - started < 2.0  # bounded by the socket timeout
    finally:
        await client.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_refused_handshake_is_a_connection_error(direct: Redis) -> None:
    if await direct.config_get("requirepass") not in ({"requirepass": ""}, {b"requirepass": b""}):
        pytest.skip("this Redis has a password")
    async with gateway_client(f"redis://:wrong-password@{HOST}:{PORT}/{DB}") as client:  # AUTH without one set
        with pytest.raises(RedisConnectionError, match="set-up"):
            await pipe_of(client).evalsha(ECHO, [], ["x"])


async def test_an_unreachable_redis_fails_fast_for_every_caller() -> None:
    async with gateway_client("redis://127.0.0.1:1/0") as client:  # nothing listens on port 1
        results = await asyncio.gather(
            *(pipe_of(client).evalsha(ECHO, [], [i]) for i in range(10)), return_exceptions=True
        )
    assert all(isinstance(r, RedisConnectionError) for r in results)


async def test_closing_the_client_closes_the_pipe(direct: Redis) -> None:
    client = connect_redis(f"redis://{HOST}:{PORT}/{DB}?client_name=aigw-pipe-close")
    pipe = pipe_of(client)
    await pipe.evalsha(ECHO, [], ["open"])
    assert "aigw-pipe-close" in [c.get("name") for c in await direct.client_list()]
    await client.aclose()
    for _ in range(50):  # the server sees the close shortly after
        if "aigw-pipe-close" not in [c.get("name") for c in await direct.client_list()]:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the pipe's connection is still open after the client was closed")


def test_only_the_gateway_pool_has_a_pipe() -> None:
    assert script_pipe(Redis(host=HOST, port=PORT)) is None
    pool = ScriptPool.from_url(f"redis://{HOST}:{PORT}")
    assert pool.script_pipe() is not None
    assert pool.script_pipe() is pool.script_pipe()  # one per pool


async def test_closing_the_client_while_calls_open_the_connection_leaves_none_open(direct: Redis) -> None:
    for steps in range(1, 9):  # the close lands at a different point of the opening each time
        client = connect_redis(f"redis://{HOST}:{PORT}/{DB}?client_name=aigw-pipe-race")
        call = asyncio.ensure_future(pipe_of(client).evalsha(ECHO, [], ["late"]))
        for _ in range(steps):  # at least one: the call has started to open the connection
            await asyncio.sleep(0)
        await client.aclose()
        result = (await asyncio.gather(call, return_exceptions=True))[0]
        assert result == [b"late", 0] or isinstance(result, RedisConnectionError), result
        assert "aigw-pipe-race" not in [c.get("name") for c in await direct.client_list()], steps

"""Throw-away PostgreSQL databases and Redis db indexes for integration tests."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import redis

from tests.support.services import require_service

PG_HOST = os.environ.get("AIGW_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_DSN = os.environ.get("AIGW_TEST_PG_DSN", f"postgresql://postgres@{PG_HOST}:5432/test")
REDIS_URL = os.environ.get("AIGW_TEST_REDIS_URL", "redis://127.0.0.1:6379")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database; dropped afterwards. Yields its SQLAlchemy URL."""
    name = f"aigw_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        require_service("PostgreSQL", f"{PG_ADMIN_DSN} is unreachable ({exc})")
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def redis_db(index: int) -> Iterator[str]:
    """Redis db `index`, flushed before and after. Yields its URL."""
    url = f"{REDIS_URL}/{index}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        require_service("Redis", f"{REDIS_URL} is unreachable ({exc})")
    try:
        yield url
    finally:
        client.flushdb()
        client.close()

"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import postgres_database, redis_db


@pytest.fixture
def shared_stores() -> Iterator[dict[str, str]]:
    """A new PostgreSQL database and Redis db 9, shared by the gateway processes of one test."""
    with postgres_database() as database_url, redis_db(9) as redis_url:
        yield {"AI_DATABASE_URL": database_url, "AI_REDIS_URL": redis_url}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind the gateway supports: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'aigw.db'}"
    else:
        with postgres_database() as url:
            yield url

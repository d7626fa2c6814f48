"""Migrations run up and down on SQLite and PostgreSQL, and the CLI applies them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect

from aigw.store.database import Database
from aigw.store.migrate import current_revision, downgrade, head_revision, upgrade
from tests.support.processes import AIGW

pytestmark = pytest.mark.integration
TABLES = {
    "ai_config",
    "ai_feature_flags",
    "ai_api_keys",
    "ai_spend",
    "ai_audit_log",
    "ai_collections",
    "ai_items",
    "ai_item_embeddings",
}


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_and_downgrade(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await upgrade(database) == head_revision()
        assert await _tables(database) >= TABLES
        assert await upgrade(database) == head_revision()  # idempotent
        assert await downgrade(database, "base") is None
        assert not TABLES & await _tables(database)
        await upgrade(database)
        assert await current_revision(database) == head_revision()
    finally:
        await database.close()


def test_cli_migrate(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
    env["AI_DATABASE_URL"] = database_url
    result = subprocess.run([str(AIGW), "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout

"""Schema migrations (Alembic), run programmatically on the gateway's own async engine.

On PostgreSQL an advisory lock serialises replicas that start at the same time.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from aigw.store.database import Database

_LOCK_ID = 0x616967770001  # "aigw" + 1: one advisory lock for migrations


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "aigw.store:migrations")
    return config


async def upgrade(database: Database, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision the database is at afterwards."""
    return await _run(database, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(database: Database, revision: str) -> str | None:
    return await _run(database, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(database: Database, action: Any) -> str | None:
    async with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})

        def run(sync_conn: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync_conn
            action(config)

        await conn.run_sync(run)
    return await current_revision(database)


def main() -> int:
    """`python -m aigw.store.migrate`: the schema of `AI_DATABASE_URL` to head, with nothing else imported
    (`aigw serve` runs it as a child process, so Alembic never occupies the serving process)."""
    import asyncio

    from aigw.settings import load_settings

    async def run() -> str | None:
        database = Database(load_settings().effective_database_url)
        try:
            return await upgrade(database)
        finally:
            await database.close()

    print(f"database at revision {asyncio.run(run())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""API key rows: create, list, revoke, and load for the in-memory cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select

from aigw.store.audit import record_change
from aigw.store.database import Database
from aigw.store.models import ApiKey

PUBLIC_FIELDS = (
    "id",
    "prefix",
    "name",
    "user",
    "models",
    "rpm",
    "tpm",
    "budget_daily",
    "budget_monthly",
    "settings",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
)


def describe(row: ApiKey) -> dict[str, Any]:
    """A key as shown to people: never its hash."""
    shown: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        value = getattr(row, name)
        shown[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    for name in ("budget_daily", "budget_monthly"):
        if shown[name] is not None:
            shown[name] = float(shown[name])
    return shown


async def insert_key(database: Database, row: ApiKey, actor: str) -> dict[str, Any]:
    async with database.sessions() as session, session.begin():
        row.created_by = actor
        session.add(row)
        await session.flush()
        shown = describe(row)
        record_change(session, actor, "key.create", f"key:{row.id}", None, shown)
    return shown


async def list_keys(database: Database, include_revoked: bool = False) -> list[dict[str, Any]]:
    async with database.sessions() as session:
        query = select(ApiKey).order_by(ApiKey.created_at)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        return [describe(row) for row in await session.scalars(query)]


async def revoke_key(database: Database, key: str, actor: str) -> dict[str, Any] | None:
    """Revoke by id or by the shown prefix. None when no active key matches."""
    async with database.sessions() as session, session.begin():
        row = await session.scalar(
            select(ApiKey).where(or_(ApiKey.id == key, ApiKey.prefix == key), ApiKey.revoked_at.is_(None))
        )
        if row is None:
            return None
        before = describe(row)
        row.revoked_at = dt.datetime.now(dt.UTC)
        row.updated_at = row.revoked_at
        after = describe(row)
        record_change(session, actor, "key.revoke", f"key:{row.id}", before, after)
    return after


async def load_keys(database: Database, changed_since: dt.datetime | None = None) -> Sequence[ApiKey]:
    """Every key (revoked ones too, so that the cache learns of revocations), or those changed since."""
    async with database.sessions() as session:
        query = select(ApiKey)
        if changed_since is not None:
            query = query.where(ApiKey.updated_at >= changed_since)
        return list(await session.scalars(query))

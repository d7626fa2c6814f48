"""Feature flags (`ai_feature_flags`) and policy/config overrides (`ai_config`), with audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from aigw.store.audit import record_change
from aigw.store.database import Database
from aigw.store.models import ConfigEntry, FeatureFlag


async def load_flags(database: Database) -> dict[str, bool]:
    async with database.sessions() as session:
        return {row.name: row.enabled for row in await session.scalars(select(FeatureFlag))}


async def set_flag(
    database: Database, name: str, enabled: bool, actor: str, description: str | None = None
) -> bool | None:
    """Set a flag; returns its previous value (None when it was not set)."""
    async with database.sessions() as session, session.begin():
        row = await session.scalar(select(FeatureFlag).where(FeatureFlag.name == name))
        old = row.enabled if row is not None else None
        if row is None:
            row = FeatureFlag(name=name, enabled=enabled, description=description, updated_by=actor)
            session.add(row)
        else:
            row.enabled = enabled
            row.updated_by = actor
            if description is not None:
                row.description = description
        record_change(session, actor, "flag.set", f"flag:{name}", old, enabled)
    return old


async def load_config_entries(database: Database) -> dict[str, Any]:
    async with database.sessions() as session:
        return {row.key: row.value for row in await session.scalars(select(ConfigEntry))}


async def set_config_entry(database: Database, key: str, value: Any, actor: str) -> Any:
    """Set (or with value None, delete) a config override; returns the previous value."""
    async with database.sessions() as session, session.begin():
        row = await session.scalar(select(ConfigEntry).where(ConfigEntry.key == key))
        old = row.value if row is not None else None
        if value is None:
            if row is not None:
                await session.delete(row)
        elif row is None:
            session.add(ConfigEntry(key=key, value=value, updated_by=actor))
        else:
            row.value = value
            row.updated_by = actor
        record_change(
            session, actor, "config.set" if value is not None else "config.unset", f"config:{key}", old, value
        )
    return old

"""The audit log: every control-plane change, who made it and what it changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aigw.store.database import Database
from aigw.store.models import AuditEntry


def record_change(session: AsyncSession, actor: str, action: str, target: str, old: Any, new: Any) -> None:
    """Add an audit entry to `session`'s transaction: it commits (or not) with the change itself."""
    session.add(AuditEntry(actor=actor, action=action, target=target, old_value=old, new_value=new))


async def recent_changes(database: Database, limit: int = 100) -> list[dict[str, Any]]:
    async with database.sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return [
            {
                "ts": r.ts.isoformat() if r.ts else None,
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "old": r.old_value,
                "new": r.new_value,
            }
            for r in rows
        ]

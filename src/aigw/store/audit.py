"""The audit log: every control-plane change, who made it and what it changed.

Values are stored and shown with their secrets masked (`aigw.masking`): the log is read by more
people and kept longer than the configuration itself. Masking again on the way out covers entries
written before masking was applied on the way in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aigw.masking import mask_entry, mask_secrets
from aigw.store.database import Database
from aigw.store.models import AuditEntry


def record_change(session: AsyncSession, actor: str, action: str, target: str, old: Any, new: Any) -> None:
    """Add an audit entry to `session`'s transaction: it commits (or not) with the change itself."""
    session.add(
        AuditEntry(
            actor=actor, action=action, target=target, old_value=_masked(target, old), new_value=_masked(target, new)
        )
    )


def _masked(target: str, value: Any) -> Any:
    """`value` with its secrets masked; a config entry's value is masked as a field named after its key."""
    name = target.partition(":")[2] if target.startswith("config:") else ""
    return mask_entry(name, value) if name else mask_secrets(value)


async def recent_changes(database: Database, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The newest `limit` entries, or the newest older than entry id `before` (keyset paging)."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        statement = statement.where(AuditEntry.id < before)
    async with database.sessions() as session:
        rows = await session.scalars(statement)
        return [
            {
                "id": r.id,
                "ts": r.ts.isoformat() if r.ts else None,
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "old": _masked(r.target, r.old_value),
                "new": _masked(r.target, r.new_value),
            }
            for r in rows
        ]

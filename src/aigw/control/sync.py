"""Keeps a replica's ControlState current: polls the database and reloads at once on notification
(including the `resync` a change listener sends after it reconnected: what was notified while it
was away is lost).

Flags and config are small and reloaded whole; keys are reloaded by `updated_at` (whole every
minute, to forget deleted rows). When the database is away the last good state stays in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable

from aigw.control.state import ControlState
from aigw.policy.config import build_policy
from aigw.policy.flags import Flags
from aigw.policy.keys import KeyRecord
from aigw.settings import Settings
from aigw.store import catalog as catalog_rows
from aigw.store import keys as key_rows
from aigw.store import settings_store
from aigw.store.changes import ChangeBus
from aigw.store.database import Database
from aigw.store.models import ApiKey

log = logging.getLogger("aigw.control")
_FULL_KEY_RELOAD_SECONDS = 60.0
_CLOCK_SKEW = dt.timedelta(seconds=5)  # rows committed "in the past" by a slower writer are still seen


def record_from_row(row: ApiKey) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        prefix=row.prefix,
        user=row.user,
        name=row.name,
        models=frozenset(row.models) if row.models else None,
        rpm=row.rpm,
        tpm=row.tpm,
        budget_daily=row.budget_daily,
        budget_monthly=row.budget_monthly,
        expires_at=_aware(row.expires_at),
        revoked=row.revoked_at is not None,
        settings=dict(row.settings or {}),
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


class ControlSync:
    def __init__(
        self,
        state: ControlState,
        settings: Settings,
        database: Database,
        bus: ChangeBus,
        on_change: Callable[[ControlState], None] | None = None,
    ) -> None:
        self.state = state
        self.settings = settings
        self.database = database
        self.bus = bus
        self.on_change = on_change
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._keys_since: dt.datetime | None = None
        self._last_full_keys = 0.0

    async def start(self) -> None:
        await self.refresh()
        self.bus.listen(self._notified)
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.bus.close()

    async def _notified(self, kind: str) -> None:
        self._wake.set()

    async def _run(self) -> None:
        """Poll, or reload at once when notified; nothing that goes wrong in one round stops polling."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.config_poll_interval)
            self._wake.clear()
            try:
                await self.refresh()
            except Exception as exc:  # e.g. a change handler's bug: the next round tries again
                log.exception("control-plane refresh round failed", extra={"error": type(exc).__name__})

    async def refresh(self) -> bool:
        """Reload from the database; on failure keep the current state and say so."""
        try:
            flags = await settings_store.load_flags(self.database)
            entries = await settings_store.load_config_entries(self.database)
            versions = await catalog_rows.collection_versions(self.database)
            await self._refresh_keys()
        except Exception as exc:  # any database failure: serve on with the last good state
            if self.state.sync_error is None:
                log.warning(
                    "control-plane refresh failed; serving the last good state", extra={"error": type(exc).__name__}
                )
            self.state.sync_error = type(exc).__name__
            return False
        self.state.flags = Flags({"ai_enabled": self.settings.gateway_enabled}, flags)
        self.state.policy = build_policy(self.settings, entries)
        self.state.catalog_versions = versions
        self.state.synced_at = time.monotonic()
        if self.state.sync_error is not None:
            log.info("control-plane refresh recovered")
            self.state.sync_error = None
        if self.on_change is not None:
            self.on_change(self.state)
        return True

    async def _refresh_keys(self) -> None:
        now = time.monotonic()
        full = self._keys_since is None or now - self._last_full_keys > _FULL_KEY_RELOAD_SECONDS
        started = dt.datetime.now(dt.UTC)
        rows = await key_rows.load_keys(self.database, None if full else self._keys_since)
        records = [(row.key_hash, record_from_row(row)) for row in rows]
        if full:
            self.state.keys.replace(records)
            self._last_full_keys = now
        elif records:
            self.state.keys.update(records)
        self._keys_since = started - _CLOCK_SKEW

"""Admin panel sign-in sessions, kept in the database so that every worker and replica sees them.

Decisions:
- The token is 32 random bytes (URL-safe base64) handed to the browser once; the database keeps
  its SHA-256 only. The CSRF token is a separate random value kept with the session
  (a synchronizer token): knowing it signs nobody in.
- A session ends at its absolute expiry (`ttl`, AI_ADMIN_SESSION_TTL), after `idle` seconds
  without use (AI_ADMIN_SESSION_IDLE), at sign-out, when its user is deleted or changes password,
  and, for sessions opened with the master key, when the master key changes.
- Lookups are cached in memory for `cache_seconds` (5 s): an open panel costs one indexed read
  per session every few seconds, and a session ended elsewhere dies within that time. Last use is
  written at most once a minute per session, never on every request.
- Expired rows are deleted when someone signs in: sign-ins are rare, and no background job is
  needed for a table this small.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from aigw.store.audit import record_change
from aigw.store.database import Database
from aigw.store.identity import MAX_NAME_CHARS, AdminSession, IdentityStoreUnavailable
from aigw.store.users import Role, check_role

TOUCH_EVERY_S = 60.0
DEFAULT_CACHE_S = 5.0
DEFAULT_CAPACITY = 4096
Source = str  # "password" | "master_key" | "oidc"


@dataclass(frozen=True, slots=True)
class SessionRecord:
    name: str
    role: Role
    source: Source
    csrf_token: str
    expires_at: float
    idle_deadline: float


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # for the cookie only: never stored, logged or shown
    record: SessionRecord
    max_age: int  # seconds, for the cookie


class Sessions:
    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        idle: float,
        master_key: str | None = None,
        cache_seconds: float = DEFAULT_CACHE_S,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self.ttl = ttl
        self.idle = idle
        self._master_tag = master_tag(master_key) if master_key else None
        self._cache_seconds = cache_seconds
        self._capacity = capacity
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, SessionRecord | None]] = OrderedDict()  # hash -> (until, record)

    async def open(self, name: str, role: str, source: Source, user_id: int | None = None) -> NewSession:
        """Start a session for `name` (audited as a sign-in); expired sessions are deleted on the way."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        record = SessionRecord(
            name=name[:MAX_NAME_CHARS],
            role=check_role(role),
            source=source,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + self.ttl,
            idle_deadline=now + self.idle,
        )
        row = AdminSession(
            token_hash=token_hash(token),
            name=record.name,
            role=record.role,
            source=source,
            user_id=user_id,
            credential_tag=self._master_tag if source == "master_key" else None,
            csrf_token=record.csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=record.expires_at,
        )
        try:
            async with self._database.sessions() as session, session.begin():
                await session.execute(delete(AdminSession).where(self._ended(now)))
                session.add(row)
                record_change(session, f"{record.role}:{record.name}", "admin.sign_in", f"session:{source}", None, None)
        except (SQLAlchemyError, OSError) as exc:
            raise IdentityStoreUnavailable(str(exc)) from None
        return NewSession(token=token, record=record, max_age=int(self.ttl))

    async def lookup(self, token: str) -> SessionRecord | None:
        """The live session of `token`, or None. Raises IdentityStoreUnavailable when the database is away."""
        key = token_hash(token)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            record = cached[1]
            return record if record is not None and _alive(record, now) else None
        record = await self._load(key, now)
        self._remember(key, now + self._cache_seconds, record)
        return record

    async def close(self, token: str, actor: str) -> None:
        """End the session of `token` (sign-out, audited)."""
        key = token_hash(token)
        self._cache.pop(key, None)
        try:
            async with self._database.sessions() as session, session.begin():
                ended = await session.scalar(
                    delete(AdminSession).where(AdminSession.token_hash == key).returning(AdminSession.id)
                )
                if ended is not None:
                    record_change(session, actor, "admin.sign_out", "session", None, None)
        except (SQLAlchemyError, OSError) as exc:
            raise IdentityStoreUnavailable(str(exc)) from None

    async def _load(self, key: str, now: float) -> SessionRecord | None:
        try:
            async with self._database.sessions() as session:
                row = await session.scalar(select(AdminSession).where(AdminSession.token_hash == key))
                if row is None or row.expires_at <= now or row.last_seen_at + self.idle <= now:
                    return None
                if row.source == "master_key" and not _same_tag(row.credential_tag, self._master_tag):
                    return None
                last_seen = row.last_seen_at
                if now - last_seen >= TOUCH_EVERY_S:
                    last_seen = now
                    await session.execute(
                        update(AdminSession).where(AdminSession.id == row.id).values(last_seen_at=now)
                    )
                    await session.commit()
                return SessionRecord(
                    name=row.name,
                    role=check_role(row.role),
                    source=row.source,
                    csrf_token=row.csrf_token,
                    expires_at=row.expires_at,
                    idle_deadline=last_seen + self.idle,
                )
        except (SQLAlchemyError, OSError) as exc:
            raise IdentityStoreUnavailable(str(exc)) from None

    def _remember(self, key: str, until: float, record: SessionRecord | None) -> None:
        self._cache[key] = (until, record)
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    def _ended(self, now: float) -> ColumnElement[bool]:
        return or_(AdminSession.expires_at <= now, AdminSession.last_seen_at <= now - self.idle)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def master_tag(master_key: str) -> str:
    """Names the master key a session was opened with, without being usable to recover it."""
    return hmac.new(master_key.encode(), b"aigw admin session", hashlib.sha256).hexdigest()


def _same_tag(stored: str | None, current: str | None) -> bool:
    return stored is not None and current is not None and hmac.compare_digest(stored, current)


def _alive(record: SessionRecord, now: float) -> bool:
    return now < record.expires_at and now < record.idle_deadline

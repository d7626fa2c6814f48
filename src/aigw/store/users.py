"""Admin panel users: create, list, delete, set a password, verify a password.

Decisions:
- Passwords are hashed with argon2id (argon2-cffi's `PasswordHasher` defaults, RFC 9106's
  low-memory profile: 64 MiB, 3 passes); a hash made with older parameters is upgraded at the
  next good sign-in.
- Hashing runs in a worker thread, at most `_HASHING_AT_ONCE` at a time: it takes tens of
  milliseconds and 64 MiB each, which the event loop and the machine must not pay for a flood.
- An unknown name is verified against a dummy hash, so the answer takes as long as for a known
  name with a wrong password: the timing does not tell which names exist.
- Names are 1-64 characters of letters, digits and `._@-`; passwords 12-1024 characters (bounded
  before any hashing work).
- Changing a password or deleting a user ends that user's sessions. Every change is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from aigw.store.audit import record_change
from aigw.store.database import Database
from aigw.store.identity import AdminSession, AdminUser, IdentityStoreUnavailable

if TYPE_CHECKING:  # argon2 loads with the first sign-in or user change, not in every worker
    from argon2 import PasswordHasher

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_HASHING_AT_ONCE = 2
_DUMMY_PASSWORD = "not a password anyone has: it only makes unknown names cost the same"


class UserError(ValueError):
    """A user that cannot be created or changed as asked, with a message for people."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role


def check_name(name: str) -> str:
    if len(name) > 64 or not _NAME.fullmatch(name):
        raise UserError("user names are 1-64 characters: letters, digits, '.', '_', '@' or '-'")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise UserError(f"passwords are {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise UserError(f"the role is one of {', '.join(ROLES)}")


class Users:
    """The users of one database."""

    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self._database = database
        self._made_hasher = hasher
        self._hashing = asyncio.Semaphore(_HASHING_AT_ONCE)
        self._dummy: str | None = None

    async def create(self, name: str, role: str, password: str, actor: str) -> User:
        check_name(name)
        checked_role = check_role(role)
        password_hash = await self._hash(check_password(password))
        async with self._database.sessions() as session, session.begin():
            if await session.scalar(select(AdminUser.id).where(AdminUser.name == name)) is not None:
                raise UserError(f"a user named {name!r} exists already")
            row = AdminUser(name=name, role=checked_role, password_hash=password_hash)
            session.add(row)
            record_change(session, actor, "user.create", f"user:{name}", None, {"role": checked_role})
            await session.flush()
            return User(row.id, name, checked_role)

    async def list_all(self) -> list[User]:
        async with self._database.sessions() as session:
            rows = await session.execute(select(AdminUser.id, AdminUser.name, AdminUser.role).order_by(AdminUser.name))
            return [User(row.id, row.name, check_role(row.role)) for row in rows]

    async def delete(self, name: str, actor: str) -> bool:
        """Delete `name` and end its sessions; False when there is no such user."""
        async with self._database.sessions() as session, session.begin():
            row = await session.scalar(select(AdminUser).where(AdminUser.name == name))
            if row is None:
                return False
            await session.execute(delete(AdminSession).where(AdminSession.user_id == row.id))
            await session.delete(row)
            record_change(session, actor, "user.delete", f"user:{name}", {"role": row.role}, None)
            return True

    async def set_password(self, name: str, password: str, actor: str) -> bool:
        """Set `name`'s password and end its sessions; False when there is no such user."""
        password_hash = await self._hash(check_password(password))
        async with self._database.sessions() as session, session.begin():
            user_id = await session.scalar(select(AdminUser.id).where(AdminUser.name == name))
            if user_id is None:
                return False
            await _store_hash(session, user_id, password_hash)
            await session.execute(delete(AdminSession).where(AdminSession.user_id == user_id))
            record_change(session, actor, "user.password", f"user:{name}", None, None)
            return True

    async def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs; None otherwise, in about the same time either way."""
        row = None
        if len(name) <= 64 and _NAME.fullmatch(name):
            try:
                async with self._database.sessions() as session:
                    row = await session.scalar(select(AdminUser).where(AdminUser.name == name))
            except (SQLAlchemyError, OSError) as exc:
                raise IdentityStoreUnavailable(str(exc)) from None
        stored = row.password_hash if row is not None else None
        if len(password) > MAX_PASSWORD_CHARS or not await self._verify(stored, password) or row is None:
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            upgraded = await self._hash(password)
            with contextlib.suppress(SQLAlchemyError):  # the old hash still works: upgrade next time
                async with self._database.sessions() as session, session.begin():
                    await _store_hash(session, row.id, upgraded)
        return User(row.id, row.name, check_role(row.role))

    @property
    def _hasher(self) -> PasswordHasher:
        if self._made_hasher is None:
            from argon2 import PasswordHasher

            self._made_hasher = PasswordHasher()
        return self._made_hasher

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, stored: str | None, password: str) -> bool:
        """Check `password` against `stored`, or against the dummy hash when there is no user."""
        async with self._hashing:
            return await asyncio.to_thread(self._checks, stored, password)

    def _checks(self, stored: str | None, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        if stored is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash(_DUMMY_PASSWORD)
            stored = self._dummy
        try:
            return self._hasher.verify(stored, password) and stored is not self._dummy
        except (VerificationError, InvalidHashError):
            return False


async def _store_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(AdminUser).where(AdminUser.id == user_id).values(password_hash=password_hash, updated_at=func.now())
    )

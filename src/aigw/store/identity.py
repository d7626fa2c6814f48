"""Tables of the admin panel's identities: users (name, role, argon2 hash) and sign-in sessions.

A session row holds the SHA-256 of its token, never the token: a copy of the database signs
nobody in. Session times are epoch seconds (floats) so that expiry is the same arithmetic on
SQLite and PostgreSQL. Deleting a user deletes its sessions (ON DELETE CASCADE, and explicitly).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from aigw.store.models import Base, Timestamp

_ID = BigInteger().with_variant(Integer, "sqlite")


class IdentityStoreUnavailable(Exception):
    """The database could not be asked: a sign-in or session is neither accepted nor refused."""


MAX_NAME_CHARS = 100  # user names (64) and OIDC names; "role:name" fits the audit log's actor column


class AdminUser(Base):
    __tablename__ = "ai_admin_users"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())


class AdminSession(Base):
    __tablename__ = "ai_admin_sessions"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    role: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # password | master_key | oidc
    user_id: Mapped[int | None] = mapped_column(
        _ID, ForeignKey("ai_admin_users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    credential_tag: Mapped[str | None] = mapped_column(String(64), nullable=True)  # which master key signed in
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)

"""Database tables. `ai_config` and `ai_feature_flags` follow the plan (section 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONValue = JSON().with_variant(JSONB(), "postgresql")
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class ConfigEntry(Base):
    """A policy or routing setting that overrides the environment, hot-reloaded by every replica."""

    __tablename__ = "ai_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    value: Mapped[Any] = mapped_column(JSONValue)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), onupdate=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(100))


class FeatureFlag(Base):
    __tablename__ = "ai_feature_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), onupdate=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(100))


class ApiKey(Base):
    """A virtual key. Only the SHA-256 of the key is stored; `prefix` identifies it to people."""

    __tablename__ = "ai_api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(24))
    name: Mapped[str | None] = mapped_column(String(100))
    user: Mapped[str | None] = mapped_column(String(100), index=True)
    models: Mapped[list[str] | None] = mapped_column(JSONValue)
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(Integer)
    budget_daily: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    budget_monthly: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), onupdate=func.now())


class SpendRecord(Base):
    """One priced call, written in batches off the request path. `spend_id` is unique (made by the
    gateway, never by the caller), so that a spool written twice counts once; `estimated` says the
    provider sent no usage and the tokens and cost are the gateway's estimate."""

    __tablename__ = "ai_spend"
    __table_args__ = (Index("ix_ai_spend_key_ts", "key_id", "ts"), Index("ix_ai_spend_user_ts", "user", "ts"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    spend_id: Mapped[str | None] = mapped_column(String(40), unique=True)  # None: rows written before 0003
    ts: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    request_id: Mapped[str] = mapped_column(String(128), index=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
    user: Mapped[str | None] = mapped_column(String(256))
    provider: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(256))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuditEntry(Base):
    """Who changed what, when, from which value to which."""

    __tablename__ = "ai_audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    ts: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONValue, nullable=True)


class Collection(Base):
    """A named catalog that task entrypoints search. `version` grows with every change to it or its
    items, so replicas know when their in-memory index is stale."""

    __tablename__ = "ai_collections"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=1)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), onupdate=func.now())


class CatalogItem(Base):
    """One item of a collection; `content_hash` is the SHA-256 of its text."""

    __tablename__ = "ai_items"

    collection: Mapped[str] = mapped_column(
        String(100), ForeignKey("ai_collections.name", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    item_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONValue)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=func.now(), onupdate=func.now())


class ItemEmbedding(Base):
    """An item's embedding by one model (float32 bytes), kept with the hash of the text it was made
    from: a restart reuses it, a changed text does not."""

    __tablename__ = "ai_item_embeddings"

    collection: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)

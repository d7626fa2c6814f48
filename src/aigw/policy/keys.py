"""Virtual API keys: generated once, stored only as a SHA-256, looked up from an in-memory cache.

The cache is what the request path reads (a dict lookup); the control-plane sync refreshes it
from the database, and keeps the last good copy when the database is away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KEY_PREFIX = "sk-aigw-"


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: `token` is shown once and never stored."""

    id: str
    token: str
    key_hash: str
    prefix: str


def generate_key() -> NewKey:
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(id=secrets.token_hex(8), token=token, key_hash=hash_key(token), prefix=token[:14])


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the request path needs to know about a key."""

    id: str
    prefix: str
    user: str | None = None
    name: str | None = None
    models: frozenset[str] | None = None  # None: every model
    rpm: int | None = None
    tpm: int | None = None
    budget_daily: Decimal | None = None
    budget_monthly: Decimal | None = None
    expires_at: dt.datetime | None = None
    revoked: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    def allows_model(self, model: str) -> bool:
        return self.models is None or model in self.models

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or dt.datetime.now(dt.UTC)) >= self.expires_at


class KeyCache:
    """Key hash -> KeyRecord, replaced wholesale or updated by the sync task."""

    def __init__(self) -> None:
        self._by_hash: dict[str, KeyRecord] = {}
        self.loaded = False

    def lookup(self, token: str) -> KeyRecord | None:
        return self._by_hash.get(hash_key(token))

    def replace(self, records: Iterable[tuple[str, KeyRecord]]) -> None:
        self._by_hash = dict(records)
        self.loaded = True

    def update(self, records: Iterable[tuple[str, KeyRecord]]) -> None:
        merged = dict(self._by_hash)
        merged.update(records)
        self._by_hash = merged

    def records(self) -> list[KeyRecord]:
        return list(self._by_hash.values())

    def __len__(self) -> int:
        return len(self._by_hash)

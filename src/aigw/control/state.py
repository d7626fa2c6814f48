"""What the request path reads about the control plane: an in-memory snapshot, never the database."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aigw.policy.config import PolicyConfig, build_policy
from aigw.policy.flags import Flags
from aigw.policy.keys import KeyCache
from aigw.settings import Settings


@dataclass
class ControlState:
    flags: Flags
    policy: PolicyConfig
    keys: KeyCache = field(default_factory=KeyCache)
    catalog_versions: dict[str, int] = field(default_factory=dict)  # collection -> version in the database
    synced_at: float | None = None  # monotonic time of the last successful refresh
    sync_error: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ControlState:
        return cls(flags=Flags({"ai_enabled": settings.gateway_enabled}), policy=build_policy(settings, {}))

    def staleness(self) -> float | None:
        return None if self.synced_at is None else time.monotonic() - self.synced_at

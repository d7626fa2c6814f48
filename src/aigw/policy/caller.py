"""Who is asking: what the policy checks know about the caller of one request."""

from __future__ import annotations

from dataclasses import dataclass

from aigw.policy.keys import KeyRecord


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str  # "master", "anonymous" or a virtual key's id
    is_admin: bool
    key: KeyRecord | None = None
    ip: str | None = None

    @property
    def user(self) -> str | None:
        return self.key.user if self.key is not None else None


ANONYMOUS = Caller("anonymous", is_admin=True)

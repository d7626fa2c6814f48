"""Who is calling: `Authorization: Bearer <key>` checked against the master key.

Step 2 adds virtual keys from the database behind the same `authenticate` call.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.requests import Request

from aigw.errors import AuthenticationError, PermissionDeniedError


@dataclass(slots=True, frozen=True)
class Principal:
    key_id: str
    is_admin: bool


_ANONYMOUS = Principal("anonymous", is_admin=True)
_MASTER = Principal("master", is_admin=True)


class Authenticator:
    def __init__(self, master_key: str | None) -> None:
        self._master = master_key.encode() if master_key else None

    @property
    def required(self) -> bool:
        return self._master is not None

    def authenticate(self, request: Request) -> Principal:
        if self._master is None:
            return _ANONYMOUS  # no master key: only loopback is bound (enforced at start-up)
        token = _bearer(request)
        if token is None:
            raise AuthenticationError("Missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key")
        if hmac.compare_digest(token.encode(), self._master):
            return _MASTER
        raise AuthenticationError("Incorrect API key provided")

    def require_admin(self, request: Request) -> Principal:
        principal = self.authenticate(request)
        if not principal.is_admin:
            raise PermissionDeniedError("This endpoint needs the master key", code="admin_only")
        return principal


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("api-key")  # Azure-style clients

"""Who is calling: `Authorization: Bearer <key>`, the master key or a virtual key from the cache."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from aigw.errors import AuthenticationError, PermissionDeniedError
from aigw.policy.caller import Caller
from aigw.policy.keys import KEY_PREFIX, KeyCache, KeyRecord


class Authenticator:
    def __init__(self, master_key: str | None, keys: KeyCache | None = None) -> None:
        self._master = master_key.encode() if master_key else None
        self._keys = keys if keys is not None else KeyCache()

    @property
    def required(self) -> bool:
        return self._master is not None

    def authenticate(self, request: Request) -> Caller:
        token = _bearer(request)
        ip = request.client.host if request.client else None
        if token is not None and token.startswith(KEY_PREFIX):
            record = self._keys.lookup(token)
            if record is not None:
                return _key_caller(record, ip)
        if self._master is None:
            return Caller("anonymous", is_admin=True, ip=ip)  # no master key: loopback only (checked at start)
        if token is None:
            raise AuthenticationError("Missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key")
        if hmac.compare_digest(token.encode(), self._master):
            return Caller("master", is_admin=True, ip=ip)
        raise AuthenticationError("Incorrect API key provided")

    def require_admin(self, request: Request) -> Caller:
        caller = self.authenticate(request)
        if not caller.is_admin:
            raise PermissionDeniedError("This endpoint needs the master key", code="admin_only")
        return caller


def _key_caller(record: KeyRecord, ip: str | None) -> Caller:
    if record.revoked:
        raise AuthenticationError("This API key has been revoked", code="key_revoked")
    if record.expired():
        raise AuthenticationError("This API key has expired", code="key_expired")
    return Caller(record.id, is_admin=False, key=record, ip=ip)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("api-key")  # Azure-style clients

"""Who is calling: `Authorization: Bearer <key>` (or Azure's `api-key`, Anthropic's `x-api-key`), the master key or a
virtual key from the cache.

A presented key must be valid in every mode: without a master key, a request with no key at all
is the anonymous admin (the gateway then serves loopback only), but a key that is neither the
master key nor a valid virtual key is a 401. Accepting any token there let a caller sidestep its
virtual key's models and limits by sending a made-up one. A request authenticates once: the
caller is kept in its `RequestState`. Failed authentications are throttled per client address
before any key is looked at (`signin_throttle`).
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.requests import Request

from aigw.api.client_address import ClientAddress
from aigw.api.middleware import RequestState
from aigw.api.signin_throttle import SignInThrottle
from aigw.errors import AuthenticationError, PermissionDeniedError
from aigw.policy.caller import Caller
from aigw.policy.keys import KEY_PREFIX, KeyCache, KeyRecord

MAX_KEY_CHARS = 512  # far longer than any key; a longer header is refused before it is hashed


class Authenticator:
    def __init__(
        self,
        master_key: str | None,
        keys: KeyCache | None = None,
        *,
        throttle: SignInThrottle | None = None,
        addresses: ClientAddress | None = None,
    ) -> None:
        self._master = master_key.encode() if master_key else None
        self._keys = keys if keys is not None else KeyCache()
        self._throttle = throttle if throttle is not None else SignInThrottle(limit=10, window_s=60.0)
        self._addresses = addresses if addresses is not None else ClientAddress()

    @property
    def required(self) -> bool:
        return self._master is not None

    def authenticate(self, request: Request) -> Caller:
        state: RequestState | None = request.scope.get("aigw")
        if state is not None and state.caller is not None:
            return state.caller
        caller = self._authenticate(request)
        if state is not None:
            state.caller = caller
        return caller

    def require_admin(self, request: Request) -> Caller:
        caller = self.authenticate(request)
        if not caller.is_admin:
            raise PermissionDeniedError("This endpoint needs the master key", code="admin_only")
        return caller

    def _authenticate(self, request: Request) -> Caller:
        ip = self._addresses.of(request.scope)
        token = _presented_key(request.headers)
        if token is None:
            if self._master is None:
                return Caller("anonymous", is_admin=True, ip=ip)
            raise AuthenticationError("Missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key")
        self._throttle.check(ip)
        try:
            return self._caller_for(token, ip)
        except AuthenticationError:
            self._throttle.failed(ip)
            raise

    def _caller_for(self, token: str, ip: str | None) -> Caller:
        if len(token) > MAX_KEY_CHARS:
            raise AuthenticationError("Incorrect API key provided")
        if token.startswith(KEY_PREFIX):
            record = self._keys.lookup(token)
            if record is not None:
                return _key_caller(record, ip)
        if self._master is not None and hmac.compare_digest(token.encode(), self._master):
            return Caller("master", is_admin=True, ip=ip)
        raise AuthenticationError("Incorrect API key provided")


def _key_caller(record: KeyRecord, ip: str | None) -> Caller:
    if record.revoked:
        raise AuthenticationError("This API key has been revoked", code="key_revoked")
    if record.expired():
        raise AuthenticationError("This API key has expired", code="key_expired")
    return Caller(record.id, is_admin=False, key=record, ip=ip)


def _presented_key(headers: Headers) -> str | None:
    """The key the request presents; None when it presents none. A credential that is not a
    bearer key (`Basic ...`, an empty `Bearer`) is a 401, never mistaken for no credential."""
    header = headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("The Authorization header must be 'Bearer <key>'", code="invalid_authorization")
        return token.strip()
    for name in ("api-key", "x-api-key"):  # Azure-style clients, Anthropic-style clients
        key = headers.get(name)
        if key is not None:
            if not key.strip():
                raise AuthenticationError(f"The {name} header is empty", code="invalid_authorization")
            return key.strip()
    return None

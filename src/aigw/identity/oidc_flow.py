"""The light half of single sign-on: settings, the browser-held flow, the identity and the error.

Split from `aigw.identity.oidc` so that a gateway without OIDC configured never imports authlib and
joserfc (17 MiB of every worker's memory: 134.7 vs 117.9 MiB RSS after importing `aigw.api.app`):
the routes and the sign-in page need only these; `OidcClient` is imported when OIDC is configured.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson

from aigw.settings import Settings

FLOW_SECONDS = 600  # a sign-in must come back from the provider within ten minutes
MAX_FLOW_CHARS = 4096  # a flow cookie longer than this is not ours


class OidcError(Exception):
    """A sign-in refused; `code` is what the sign-in page shows (a fixed message per code)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code  # sso_failed | sso_no_role | sso_expired


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: tuple[str, ...]
    role_claims: tuple[str, ...]
    admin_values: frozenset[str]
    viewer_values: frozenset[str]

    @classmethod
    def of(cls, settings: Settings) -> OidcSettings | None:
        if settings.oidc_issuer is None or settings.oidc_client_id is None:
            return None
        secret = settings.oidc_client_secret
        scopes = tuple(dict.fromkeys(["openid", *settings.oidc_scopes]))
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scopes=scopes,
            role_claims=tuple(settings.oidc_role_claim),
            admin_values=frozenset(settings.oidc_admin_values),
            viewer_values=frozenset(settings.oidc_viewer_values),
        )


@dataclass(frozen=True, slots=True)
class Flow:
    """What the browser keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str
    next_path: str
    started: float

    def encode(self) -> str:
        raw = orjson.dumps([self.state, self.nonce, self.verifier, self.next_path, self.started])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str | None) -> Flow | None:
        if not text or len(text) > MAX_FLOW_CHARS:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            state, nonce, verifier, next_path, started = orjson.loads(raw)
            return cls(str(state), str(nonce), str(verifier), str(next_path), float(started))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    role: str  # admin | viewer
    subject: str

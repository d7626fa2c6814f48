"""OpenID Connect single sign-on for the admin panel: authorization code flow with PKCE.

Decisions:
- authlib's OAuth 2 client builds the authorization URL (PKCE S256) and exchanges the code;
  joserfc (authlib's JOSE library) verifies the ID token: signature against the provider's JWKS
  (asymmetric algorithms only, so the client secret can never sign one), issuer, audience
  (`azp` too when there are several), expiry, issue time and nonce, with 60 s of clock leeway.
- Discovery (`<issuer>/.well-known/openid-configuration`) must name the configured issuer; it and
  the JWKS are cached for an hour, and a token signed with an unknown key id fetches the JWKS once
  more (at most once a minute): providers rotate keys.
- The flow's state, nonce, PKCE verifier and return path live in a short-lived HttpOnly cookie of
  the browser that started it (`Flow`), so any worker or replica can finish it and nothing is kept
  on the server. A callback whose state is not this browser's is refused: another browser's code
  cannot be slipped in (login CSRF).
- Roles come from the claims named by AI_OIDC_ROLE_CLAIM (ID token, else the userinfo answer):
  any value in AI_OIDC_ADMIN_VALUES makes an admin, else any in AI_OIDC_VIEWER_VALUES a viewer;
  no matching value is refused. Nobody is counted: there is no seat limit.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from aigw.identity.oidc_flow import FLOW_SECONDS, Flow, Identity, OidcError, OidcSettings

SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
CACHE_SECONDS = 3600.0
JWKS_REFETCH_SECONDS = 60.0
LEEWAY_SECONDS = 60
MAX_NAME_CHARS = 90
_MAX_CLAIM_VALUES = 256
_MAX_PARAM_CHARS = 4096


class OidcClient:
    def __init__(
        self, settings: OidcSettings, *, timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self._timeout = timeout
        self._clock = clock
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, KeySet] | None = None

    def _client(self, **extra: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method="client_secret_basic" if self.settings.client_secret else "none",
            code_challenge_method="S256",
            scope=" ".join(self.settings.scopes),
            timeout=self._timeout,
            **extra,
        )

    async def start(self, redirect_uri: str, next_path: str) -> tuple[str, Flow]:
        """The provider's authorization URL to send the browser to, and the flow it must keep."""
        metadata = await self._provider()
        flow = Flow(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            next_path=next_path,
            started=self._clock(),
        )
        async with self._client(redirect_uri=redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=flow.state, nonce=flow.nonce, code_verifier=flow.verifier
            )
        return url, flow

    async def finish(self, flow: Flow | None, params: Mapping[str, str], redirect_uri: str) -> Identity:
        """The signed-in identity for the provider's callback `params`; OidcError when refused."""
        if flow is None or self._clock() - flow.started > FLOW_SECONDS:
            raise OidcError("sso_expired", "no sign-in in progress in this browser, or it took too long")
        if "error" in params:
            raise OidcError("sso_failed", f"the provider refused: {params['error'][:100]}")
        state, code = params.get("state", ""), params.get("code", "")
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise OidcError("sso_failed", "the state does not match this browser's sign-in")
        if not code or len(code) > _MAX_PARAM_CHARS:
            raise OidcError("sso_failed", "no authorization code")
        metadata = await self._provider()
        try:
            async with self._client(redirect_uri=redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=flow.verifier, redirect_uri=redirect_uri
                )
        except (OAuth2Error, httpx.HTTPError, ValueError) as exc:
            raise OidcError("sso_failed", f"the code exchange failed: {type(exc).__name__}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("sso_failed", "the provider sent no ID token")
        claims = await self._verified_claims(id_token, flow.nonce)
        values = _claim_values(claims, self.settings.role_claims)
        if not values and metadata.get("userinfo_endpoint"):
            values = await self._userinfo_values(metadata["userinfo_endpoint"], token, claims["sub"])
        return Identity(name=_display_name(claims), role=self._role(values), subject=str(claims["sub"]))

    async def _verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, await self._keys(), algorithms=SIGNING_ALGORITHMS)
            except InvalidKeyIdError:  # a rotated key: fetch the JWKS again, once
                decoded = jwt.decode(id_token, await self._keys(refresh=True), algorithms=SIGNING_ALGORITHMS)
            claims = dict(decoded.claims)
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(self._clock()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(claims)
        except (JoseError, ValueError) as exc:
            raise OidcError("sso_failed", f"the ID token is not valid: {type(exc).__name__}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise OidcError("sso_failed", "the ID token was issued to another party (azp)")
        return claims

    async def _userinfo_values(self, endpoint: str, token: Mapping[str, Any], subject: object) -> set[str]:
        try:
            async with self._client(token=dict(token)) as client:
                answer = await client.get(endpoint)
                answer.raise_for_status()
                info = answer.json()
        except (OAuth2Error, httpx.HTTPError, ValueError):
            return set()
        if not isinstance(info, dict) or info.get("sub") != subject:  # OIDC core 5.3.2
            return set()
        return _claim_values(info, self.settings.role_claims)

    def _role(self, values: set[str]) -> str:
        if values & self.settings.admin_values:
            return "admin"
        if values & self.settings.viewer_values:
            return "viewer"
        raise OidcError("sso_no_role", "no value of the role claims maps to a role")

    async def _provider(self) -> dict[str, Any]:
        now = self._clock()
        if self._metadata is not None and now - self._metadata[0] < CACHE_SECONDS:
            return self._metadata[1]
        document = await self._get_json(f"{self.settings.issuer}/.well-known/openid-configuration")
        if document.get("issuer") != self.settings.issuer:
            raise OidcError("sso_failed", "the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise OidcError("sso_failed", f"the discovery document has no {name}")
        self._metadata = (now, document)
        return document

    async def _keys(self, refresh: bool = False) -> KeySet:
        now = self._clock()
        if self._jwks is not None:
            fetched, keys = self._jwks
            fresh = now - fetched < CACHE_SECONDS
            if (fresh and not refresh) or (refresh and now - fetched < JWKS_REFETCH_SECONDS):
                return keys
        document = await self._get_json((await self._provider())["jwks_uri"])
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise OidcError("sso_failed", "the provider's JWKS is not valid") from None
        self._jwks = (now, keys)
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                answer = await client.get(url, headers={"accept": "application/json"})
                answer.raise_for_status()
                document = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError("sso_failed", f"the provider did not answer {url}: {type(exc).__name__}") from None
        if not isinstance(document, dict):
            raise OidcError("sso_failed", f"{url} did not answer a JSON object")
        return document


def _claim_values(claims: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    values: set[str] = set()
    for name in names:
        value = claims.get(name)
        found = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        values.update(item for item in found[:_MAX_CLAIM_VALUES] if isinstance(item, str) and len(item) <= 256)
    return values


def _display_name(claims: Mapping[str, Any]) -> str:
    for name in ("preferred_username", "email", "name", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return "".join(ch for ch in value.strip() if ch.isprintable())[:MAX_NAME_CHARS]
    return "oidc user"

"""Who may use `/admin`: the master key as a bearer token, or a signed-in session cookie.

Every `/admin` route takes `ViewerDep` (reads) or `AdminWriteDep` (changes). Decisions:
- `Authorization: Bearer <AI_MASTER_KEY>` is role admin and needs no CSRF token: a header is never
  sent by a browser on its own. A virtual key is refused (403): the admin panel is not for callers.
- A session cookie (`aigw_session`) names a server-side session (`aigw.store.sessions`); on every
  unsafe method its CSRF token must come back in the `x-csrf-token` header, compared in constant
  time. Form bodies never reach the app (the edge answers 415 to anything but JSON), so the
  header is the only carrier.
- Ambient credentials (a cookie, or the keyless loopback mode where every caller is the admin)
  are also refused on unsafe methods when the browser says the request is cross-site
  (`Sec-Fetch-Site`, else `Origin` against `Host`): CSRF protection that needs no token.
- Without credentials, `/admin/api/*` answers 401 in OpenAI's error format and pages redirect to
  the sign-in page (`SignInRequired`, turned into a 303 by `install`).
- The principal is resolved once per request and kept in the ASGI scope.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from aigw.api.errors import error_response
from aigw.api.gateway_route import GatewayRoute
from aigw.errors import AuthenticationError, PermissionDeniedError, ServiceUnavailableError
from aigw.store.identity import IdentityStoreUnavailable
from aigw.store.sessions import SessionRecord

Role = Literal["admin", "viewer"]
SESSION_COOKIE = "aigw_session"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/admin/login"
API_PREFIX = "/admin/api"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_CHARS = 256  # far longer than any token we issue; a longer cookie or header is not looked at
_SCOPE_KEY = "aigw.admin_principal"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # "master", a user name, or the OIDC subject's preferred name
    role: Role
    via: Literal["master_key", "session"]
    csrf_token: str | None  # the session's CSRF token (None for the bearer master key)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """Who the audit log names: "admin:master", "admin:alice", "viewer:bob"."""
        return f"{self.role}:{self.name}"


class SessionLookup(Protocol):
    """What `app.state.admin_sessions` offers (`aigw.store.sessions.Sessions`)."""

    async def lookup(self, token: str) -> SessionRecord | None: ...


class SignInRequired(AuthenticationError):
    """No credentials: a 401 for the API; `install` turns it into a redirect for pages."""


async def require_viewer(request: Request) -> Principal:
    """Any signed-in principal (401 otherwise); for a cookie session, CSRF is checked on unsafe methods."""
    cached = request.scope.get(_SCOPE_KEY)
    if isinstance(cached, Principal):
        return cached
    principal = await _resolve(request)
    if request.method not in SAFE_METHODS and principal.via == "session":
        _check_csrf(request, principal)
    request.scope[_SCOPE_KEY] = principal
    return principal


async def require_admin(request: Request) -> Principal:
    """Role admin (403 otherwise), with the same CSRF check as `require_viewer`."""
    principal = await require_viewer(request)
    if not principal.is_admin:
        raise PermissionDeniedError("Viewers can look but not change: this needs an admin", code="admin_only")
    return principal


ViewerDep = Annotated[Principal, Depends(require_viewer)]
AdminWriteDep = Annotated[Principal, Depends(require_admin)]


class AdminRoute(GatewayRoute):
    """Route class for `/admin` routers: the principal is resolved (sessions included) before the
    body is read, then the body is parsed as on every other route."""

    async def authenticate(self, request: Request) -> None:
        await require_viewer(request)


async def _resolve(request: Request) -> Principal:
    headers = request.headers
    if "authorization" in headers or "api-key" in headers:
        return _bearer_principal(request)
    token = request.cookies.get(SESSION_COOKIE)
    sessions: SessionLookup | None = getattr(request.app.state, "admin_sessions", None)
    if token and len(token) <= MAX_TOKEN_CHARS and sessions is not None:
        try:
            record = await sessions.lookup(token)
        except IdentityStoreUnavailable:
            raise ServiceUnavailableError(
                "Sessions cannot be checked: the database is away", code="sessions_unavailable"
            ) from None
        if record is not None:
            _check_same_origin(request)
            return Principal(record.name, record.role, "session", record.csrf_token)
    if not request.app.state.auth.required:  # keyless mode: loopback only, every caller is the admin
        _check_same_origin(request)
        return Principal("anonymous", "admin", "master_key", None)
    raise SignInRequired("Sign in to the admin panel, or send 'Authorization: Bearer <master key>'", code="sign_in")


def _bearer_principal(request: Request) -> Principal:
    caller = request.app.state.auth.authenticate(request)  # throttled, constant-time comparison
    if not caller.is_admin:
        raise PermissionDeniedError("The admin API needs the master key or an admin session", code="admin_only")
    return Principal(caller.key_id, "admin", "master_key", None)


def _check_csrf(request: Request, principal: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    expected = principal.csrf_token or ""
    if not expected or len(sent) > MAX_TOKEN_CHARS or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise PermissionDeniedError(
            f"Missing or wrong CSRF token: send the page's token in the {CSRF_HEADER} header", code="csrf_failed"
        )


def _check_same_origin(request: Request) -> None:
    """Refuse an unsafe request the browser marks as coming from another site."""
    if request.method in SAFE_METHODS:
        return
    if not is_same_origin(request):
        raise PermissionDeniedError("Cross-site requests may not change the gateway", code="cross_site_request")


def is_same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another site. Clients that are not
    browsers send neither header and pass."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path == API_PREFIX or path.startswith(API_PREFIX + "/"))


def login_url(next_path: str | None = None) -> str:
    """The sign-in page, returning to `next_path` (kept only when it is a path under /admin)."""
    if next_path and is_admin_path(next_path):
        return f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"
    return LOGIN_PATH


def is_admin_path(path: str) -> bool:
    """A local path under /admin: never another host (`//evil`), a scheme, a backslash trick, or a
    dot segment or percent escape that a browser would resolve to somewhere else."""
    return (
        (path == "/admin" or path.startswith("/admin/"))
        and len(path) <= 512
        and path.isprintable()
        and not any(mark in path for mark in ("\\", "//", "%"))
        and not any(segment in (".", "..") for segment in path.split("/"))
    )


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if _is_page(request):
        shown = request.url.path if request.method in SAFE_METHODS else None
        return RedirectResponse(login_url(shown), status_code=303)
    return error_response(exc, request)


def install(app: FastAPI) -> None:
    """Pages answer a missing sign-in with a redirect to the sign-in page; the API with a 401."""
    app.add_exception_handler(SignInRequired, _sign_in_required)

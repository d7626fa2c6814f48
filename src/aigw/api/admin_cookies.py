"""The admin session cookie, shared by password and single sign-on: when it is Secure, how it is set
and cleared, and where a sign-in may return to.

The cookie `aigw_session` is HttpOnly, SameSite=Strict, path `/admin`, and Secure unless the request
came over plain http to a loopback name (`localhost`, 127.0.0.1, ::1): browsers drop a Secure
cookie sent over plain http, and on loopback the traffic never leaves the machine. Anywhere else
the panel must be served over https (directly or by a TLS proxy); the sign-in page warns otherwise.
The session token is only ever in that cookie: never in a body, a page, a log line or the audit log.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.responses import Response

from aigw.api.admin_access import LOGIN_PATH, SESSION_COOKIE, is_admin_path
from aigw.errors import ServiceUnavailableError
from aigw.store.identity import IdentityStoreUnavailable
from aigw.store.sessions import NewSession, Sessions

UNAVAILABLE = "sessions_unavailable"


async def open_session(request: Request, name: str, role: str, source: str, user_id: int | None) -> NewSession:
    sessions: Sessions = request.app.state.admin_sessions
    try:
        return await sessions.open(name, role, source, user_id)
    except IdentityStoreUnavailable:
        raise ServiceUnavailableError("Sign-in failed: the database is away", code=UNAVAILABLE) from None


def set_session_cookie(request: Request, response: Response, new: NewSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=new.max_age,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/admin", httponly=True, samesite="strict", secure=cookie_secure(request)
    )


def cookie_secure(request: Request) -> bool:
    """Secure, unless this request came over plain http to a loopback name (see the docstring)."""
    return request.url.scheme == "https" or not _loopback_host(request.url.hostname or "")


def _loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def next_path(candidate: str | None) -> str:
    """Where to go after signing in: a path under /admin (never another site), else the overview."""
    if candidate and is_admin_path(candidate) and not candidate.startswith(LOGIN_PATH):
        return candidate
    return "/admin"

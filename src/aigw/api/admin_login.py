"""Signing in to the admin panel: the sign-in page, `POST /admin/login`, `POST /admin/logout`.

Decisions:
- One form: a user's name and password, or, with the name left empty, the master key. A failed
  sign-in says the same ("wrong name or password") whatever was wrong, and counts in the same
  per-address throttle as failed API keys (`signin_throttle`), checked before any work.
- The body is JSON like every other body (the edge answers 415 to forms); the page posts it with a
  small script. A sign-in the browser marks as cross-site is refused (login CSRF).
- The session cookie is described in `admin_cookies`. `GET /admin/api/session` tells the panel who
  is signed in (never the token).
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import HTMLResponse, JSONResponse, Response

from aigw.admin_ui import Page, render
from aigw.api import admin_access, admin_oidc
from aigw.api.admin_access import SESSION_COOKIE, AdminRoute, ViewerDep, is_same_origin
from aigw.api.admin_cookies import (
    UNAVAILABLE,
    clear_session_cookie,
    next_path,
    open_session,
    set_session_cookie,
)
from aigw.api.admin_pages import PAGE_HEADERS
from aigw.api.client_address import ClientAddress
from aigw.api.json_body import parse_json
from aigw.api.signin_throttle import SignInThrottle
from aigw.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError, ServiceUnavailableError
from aigw.gateway import Gateway
from aigw.identity.oidc_flow import OidcSettings
from aigw.settings import Settings
from aigw.store.identity import IdentityStoreUnavailable
from aigw.store.sessions import Sessions
from aigw.store.users import MAX_PASSWORD_CHARS, Users

if TYPE_CHECKING:
    from aigw.identity.oidc import OidcClient

log = logging.getLogger("aigw.admin")
LOGIN_PAGE = Page("login", "Sign in", "lock", "login", "Sign in to the admin panel")
MAX_LOGIN_BODY = 4096

public = APIRouter(prefix="/admin", tags=["admin-login"], include_in_schema=False)
signed_in = APIRouter(prefix="/admin", tags=["admin-login"], route_class=AdminRoute, include_in_schema=False)


class SignIn(BaseModel):
    name: str | None = Field(None, max_length=256)  # empty: `password` is the master key
    password: str = Field(max_length=MAX_PASSWORD_CHARS)


@public.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    settings = request.app.state.gateway.settings
    html = render(
        LOGIN_PAGE,
        next_path=next_path(next),
        oidc_enabled=settings.oidc_enabled,
        keyless=settings.master_key is None,
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


@public.post("/login")
async def login(request: Request) -> Response:
    if not is_same_origin(request):
        raise PermissionDeniedError("Cross-site sign-in refused", code="cross_site_request")
    throttle: SignInThrottle = request.app.state.signin_throttle
    address = request.app.state.client_address.of(request.scope)
    throttle.check(address)
    form = _sign_in_form(await request.body())
    identity = await _verify(request, form)
    if identity is None:
        throttle.failed(address)
        log.warning("admin sign-in failed", extra={"client": address, "method": "password" if form.name else "key"})
        raise AuthenticationError("Wrong name or password", code="sign_in_failed")
    name, role, source, user_id = identity
    new = await open_session(request, name, role, source, user_id)
    target = next_path(request.query_params.get("next"))
    response = JSONResponse({"name": name, "role": role, "redirect": target}, headers={"cache-control": "no-store"})
    set_session_cookie(request, response, new)
    return response


@signed_in.get("/api/session")
async def whoami(principal: ViewerDep) -> dict[str, Any]:
    """Who is signed in, and the session's CSRF token for scripts (never the session token: it
    lives in the HttpOnly cookie only). Other sites cannot read this answer (same-origin policy)."""
    return {"name": principal.name, "role": principal.role, "via": principal.via, "csrf_token": principal.csrf_token}


@signed_in.post("/logout")
async def logout(request: Request, principal: ViewerDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and token:
        try:
            await request.app.state.admin_sessions.close(token, principal.actor)
        except IdentityStoreUnavailable:
            raise ServiceUnavailableError(
                "Sign-out failed: the database is away", code="sessions_unavailable"
            ) from None
    response = JSONResponse({"signed_out": True}, headers={"cache-control": "no-store"})
    clear_session_cookie(request, response)
    return response


def _sign_in_form(raw: bytes) -> SignIn:
    if len(raw) > MAX_LOGIN_BODY:
        raise InvalidRequestError("The sign-in form is too large", code="invalid_value")
    try:
        return SignIn.model_validate(parse_json(raw or b"null"))
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidRequestError(f"Bad sign-in form: {first['msg']}", param=param, code="invalid_value") from None


async def _verify(request: Request, form: SignIn) -> tuple[str, str, str, int | None] | None:
    """(name, role, source, user id) when the form's credentials are good; None otherwise."""
    if form.name:
        users: Users = request.app.state.admin_users
        try:
            user = await users.verify(form.name, form.password)
        except IdentityStoreUnavailable:
            raise ServiceUnavailableError("Sign-in failed: the database is away", code=UNAVAILABLE) from None
        return (user.name, user.role, "password", user.id) if user is not None else None
    master = request.app.state.gateway.settings.master_key
    if master is not None and hmac.compare_digest(form.password.encode(), master.get_secret_value().encode()):
        return ("master", "admin", "master_key", None)
    return None


def install(app: FastAPI, gateway: Gateway, throttle: SignInThrottle, addresses: ClientAddress) -> None:
    """Users, sessions, single sign-on and the sign-in routes; the sign-in redirect of `admin_access`."""
    settings = gateway.settings
    master = settings.master_key
    app.state.signin_throttle = throttle
    app.state.client_address = addresses
    app.state.admin_users = Users(gateway.database)
    app.state.admin_sessions = Sessions(
        gateway.database,
        ttl=settings.admin_session_ttl,
        idle=settings.admin_session_idle,
        master_key=master.get_secret_value() if master else None,
    )
    app.state.oidc = _oidc_client(settings)
    app.include_router(public)
    app.include_router(signed_in)
    app.include_router(admin_oidc.router)
    admin_access.install(app)


def _oidc_client(settings: Settings) -> OidcClient | None:
    """The single sign-on client, or None; authlib and joserfc are imported only when it is configured."""
    oidc = OidcSettings.of(settings)
    if oidc is None:
        return None
    from aigw.identity.oidc import OidcClient

    return OidcClient(oidc)

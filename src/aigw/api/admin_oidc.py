"""Single sign-on routes: `GET /admin/oidc/login` sends the browser to the provider, and
`GET /admin/oidc/callback` brings it back signed in (protocol in `aigw.identity.oidc`).

Decisions:
- Both answer 404 unless AI_OIDC_ISSUER and AI_OIDC_CLIENT_ID are set.
- The flow cookie (`aigw_oidc_flow`) is SameSite=Lax: the callback is a top-level navigation from
  the provider's site, on which a Strict cookie would not be sent. It is HttpOnly, limited to
  `/admin/oidc`, lives ten minutes and is deleted by the callback.
- The callback answers a small page that moves on to the panel with a meta refresh, not a 303: a
  redirect would continue the provider's cross-site navigation, on which the browser withholds
  the new SameSite=Strict session cookie, and the panel would ask to sign in again.
- A refused sign-in goes back to the sign-in page with a fixed error code (never text from the
  request), is logged with its reason, and counts as a failed sign-in in the throttle.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from aigw.api.admin_cookies import cookie_secure, next_path, open_session, set_session_cookie
from aigw.api.admin_pages import PAGE_HEADERS
from aigw.api.signin_throttle import SignInThrottle
from aigw.errors import NotFoundError
from aigw.identity.oidc_flow import FLOW_SECONDS, Flow, OidcError

if TYPE_CHECKING:  # imported only where OIDC is configured (authlib, joserfc)
    from aigw.identity.oidc import OidcClient

log = logging.getLogger("aigw.admin")
FLOW_COOKIE = "aigw_oidc_flow"
FLOW_PATH = "/admin/oidc"
_MAX_PARAMS = 16
_MAX_PARAM_CHARS = 4096

router = APIRouter(prefix=FLOW_PATH, tags=["admin-login"], include_in_schema=False)


@router.get("/login")
async def oidc_login(request: Request, next: str | None = None) -> Response:
    client = _client(request)
    try:
        url, flow = await client.start(_redirect_uri(request), next_path(next))
    except OidcError as exc:
        log.warning("single sign-on could not start", extra={"reason": str(exc)})
        return RedirectResponse(f"/admin/login?error={exc.code}", status_code=303)
    response = RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})
    response.set_cookie(
        FLOW_COOKIE,
        flow.encode(),
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )
    return response


@router.get("/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    client = _client(request)
    throttle: SignInThrottle = request.app.state.signin_throttle
    address = request.app.state.client_address.of(request.scope)
    throttle.check(address)
    params = {key: value for key, value in list(request.query_params.items())[:_MAX_PARAMS]}
    if any(len(value) > _MAX_PARAM_CHARS for value in params.values()):
        params = {"error": "oversized_parameter"}
    flow = Flow.decode(request.cookies.get(FLOW_COOKIE))
    try:
        identity = await client.finish(flow, params, _redirect_uri(request))
    except OidcError as exc:
        throttle.failed(address)
        log.warning("single sign-on refused", extra={"client": address, "reason": str(exc)})
        response: Response = RedirectResponse(f"/admin/login?error={exc.code}", status_code=303)
    else:
        assert flow is not None
        new = await open_session(request, identity.name, identity.role, "oidc", None)
        target = html.escape(next_path(flow.next_path), quote=True)
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0;url={target}"><title>Signed in · aigw admin</title></head>'
            f'<body><p>Signed in. <a href="{target}">Continue to the admin panel</a>.</p></body></html>'
        )
        response = HTMLResponse(page, headers=PAGE_HEADERS)
        set_session_cookie(request, response, new)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax", secure=cookie_secure(request))
    return response


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        raise NotFoundError("Single sign-on is not configured (AI_OIDC_ISSUER, AI_OIDC_CLIENT_ID)", code="not_found")
    return client


def _redirect_uri(request: Request) -> str:
    configured: str | None = request.app.state.gateway.settings.oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))

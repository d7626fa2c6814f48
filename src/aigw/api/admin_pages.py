"""The admin panel's pages under `/admin` and its assets under `/admin/static`.

Pages need a signed-in principal (`ViewerDep`: without one, a 303 to the sign-in page) and are
answered with security headers: a Content-Security-Policy that allows scripts, styles and
requests from this origin only (no inline script), `X-Frame-Options: DENY`, no caching (a page
carries its CSRF token). Static assets are public: they are the same for everyone, hold no data,
and the sign-in page needs the stylesheet before anyone is signed in.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from aigw import __version__
from aigw.admin_ui import STATIC_DIR, Page, render
from aigw.admin_ui.pages import NAVIGATION, TRACE_DETAIL
from aigw.api.admin_access import AdminRoute, Principal, ViewerDep
from aigw.errors import NotFoundError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
MAX_REQUEST_ID = 128

router = APIRouter(prefix="/admin", tags=["admin-panel"], route_class=AdminRoute, include_in_schema=False)


class SecuredStaticFiles(StaticFiles):
    """Static files with `nosniff`, cached for long: their URLs change with their content."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["x-content-type-options"] = "nosniff"
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


def static_mount() -> Mount:
    return Mount("/admin/static", app=SecuredStaticFiles(directory=STATIC_DIR), name="admin-static")


def page_response(page: Page, principal: Principal, **context: object) -> HTMLResponse:
    html = render(
        page,
        principal=principal,
        is_admin=principal.is_admin,
        csrf_token=principal.csrf_token or "",
        version=__version__,
        **context,
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


def _page_route(page: Page) -> None:
    async def show(principal: ViewerDep) -> HTMLResponse:
        return page_response(page, principal)

    # One route per page, never a catch-all `/admin/{slug}`: that would shadow /admin/login and
    # whatever else is registered under /admin after this router.
    router.add_api_route(page.path.removeprefix("/admin"), show, methods=["GET"], response_class=HTMLResponse)


for _page in NAVIGATION:
    _page_route(_page)


@router.get("/traces/{request_id}", response_class=HTMLResponse)
async def trace_detail(request_id: str, principal: ViewerDep) -> HTMLResponse:
    if not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise NotFoundError("No such trace", code="trace_not_found")
    return page_response(TRACE_DETAIL, principal, request_id=request_id)

"""Admin API over persisted traces (`aigw.store.traces`), read from the database: any worker or
replica answers for all of them, and what was written before a restart is still there.

    GET /admin/api/traces                 search, newest first, keyset-paged: every `TraceQuery`
                                          filter (since, until, key_id, user, model, provider,
                                          status, http_status, served_by, request_id, text),
                                          `limit` (<= 200) and the `cursor` of the previous page
        -> {"object": "list", "data": [trace summaries], "next_cursor": str | null}
    GET /admin/api/traces/{request_id}    every trace with that id (callers may reuse one), whole
        -> {"object": "list", "request_id", "data": [traces with spans and attributes]}
    GET /admin/api/metrics/summary?window=1h|24h|7d&step=1m|5m|1h
        -> time series per provider and model from every replica's rollups

Masked previews of prompt and answer are hidden by default. They are returned only to an admin
who asks (`?previews=true`), and each time that is written to the audit log (who, which request
id, or "search"). Searching the previews' text (`text=`) answers which traces hold a text, so it
is an admin's search too. Everything else is for any signed-in principal (viewers included).

Every page is bounded (`MAX_LIMIT` rows, summaries without spans; one request id's traces at most
`MAX_PER_REQUEST_ID`) and runs on indexes, so browsing under load costs the request path nothing
but a read of the database (`make bench` measures it). A database that is away answers 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.exc import SQLAlchemyError

from aigw.api.admin_access import AdminRoute, Principal, ViewerDep, require_admin
from aigw.api.deps import GatewayDep
from aigw.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError
from aigw.store import traces as stored
from aigw.store.database import Database

router = APIRouter(prefix="/admin/api", tags=["admin"], route_class=AdminRoute)
PREVIEWS = ("prompt_preview", "answer_preview")
_UNAVAILABLE = (SQLAlchemyError, OSError, TimeoutError)


class TraceSearch(stored.TraceQuery):
    """The query string of a search: the filters, and whether previews are shown."""

    previews: bool = False


@router.get("/traces")
async def search_traces(
    gateway: GatewayDep, request: Request, principal: ViewerDep, wanted: Annotated[TraceSearch, Query()]
) -> dict[str, Any]:
    previews = wanted.previews
    if wanted.text is not None or previews:
        principal = await require_admin(request)
    query = stored.TraceQuery(**wanted.model_dump(exclude={"previews"}, exclude_unset=True))
    try:
        page = await stored.search(gateway.database, query)
    except stored.InvalidCursor:
        raise InvalidRequestError(
            "The cursor is not one this API gave", param="cursor", code="invalid_cursor"
        ) from None
    except _UNAVAILABLE as exc:
        raise _unavailable() from exc
    if previews:
        await _audit_reveal(gateway.database, principal, "search")
    return {"object": "list", "data": _shown(page.items, previews), "next_cursor": page.next_cursor}


@router.get("/traces/{request_id}")
async def get_traces(
    gateway: GatewayDep,
    request: Request,
    _: ViewerDep,
    request_id: Annotated[str, Path(min_length=1, max_length=128)],
    previews: bool = False,
) -> dict[str, Any]:
    principal = await require_admin(request) if previews else None
    try:
        found = await stored.get(gateway.database, request_id)
    except _UNAVAILABLE as exc:
        raise _unavailable() from exc
    if not found:
        raise NotFoundError(
            "No stored trace for this request id: successful calls are sampled (AI_TRACE_SAMPLE_RATE), "
            "traces are written within seconds and kept AI_TRACE_RETENTION_DAYS days",
            param="request_id",
            code="trace_not_found",
        )
    if principal is not None:
        await _audit_reveal(gateway.database, principal, request_id)
    return {"object": "list", "request_id": request_id, "data": _shown(found, previews)}


@router.get("/metrics/summary")
async def metrics_summary(gateway: GatewayDep, _: ViewerDep, window: str = "1h", step: str = "1m") -> dict[str, Any]:
    try:
        return await stored.summary(gateway.database, window, step)
    except stored.InvalidWindow as exc:
        raise InvalidRequestError(str(exc), param="window", code="invalid_window") from None
    except _UNAVAILABLE as exc:
        raise _unavailable() from exc


def _shown(items: list[dict[str, Any]], previews: bool) -> list[dict[str, Any]]:
    if previews:
        return items
    for item in items:
        for name in PREVIEWS:
            item.pop(name, None)
    return items


async def _audit_reveal(database: Database, principal: Principal, target: str) -> None:
    try:
        await stored.audit_reveal(database, principal.actor, target)
    except _UNAVAILABLE as exc:  # shown without its audit entry: never
        raise _unavailable() from exc


def _unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError("Traces cannot be read: the database is away", code="database_unavailable")

"""Admin API (master key only): request traces and provider state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from aigw.errors import NotFoundError
from aigw.gateway import Gateway
from aigw.policy.caller import Caller


def _admin(request: Request) -> Caller:
    caller: Caller = request.app.state.auth.require_admin(request)
    return caller


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


router = APIRouter(prefix="/admin/api", dependencies=[Depends(_admin)], tags=["admin"])
GatewayDep = Annotated[Gateway, Depends(_gateway)]


@router.get("/traces")
async def list_traces(
    gateway: GatewayDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50, status: Literal["ok", "error"] | None = None
) -> dict[str, Any]:
    traces = gateway.traces.recent(limit=limit, status=status)
    return {
        "object": "list",
        "data": [t.summary() for t in traces],
        "stored": len(gateway.traces),
        "capacity": gateway.traces.capacity,
    }


@router.get("/traces/{request_id}")
async def get_trace(request_id: str, gateway: GatewayDep) -> dict[str, Any]:
    trace = gateway.traces.get(request_id)
    if trace is None:
        raise NotFoundError(
            f"No trace for request id {request_id!r} (traces are kept for the last {gateway.traces.capacity} requests)",
            code="trace_not_found",
        )
    return trace.to_dict()


@router.get("/providers")
async def list_providers(gateway: GatewayDep) -> dict[str, Any]:
    return {
        "object": "list",
        "data": gateway.orchestrator.provider_status(),
        "ai_enabled": gateway.orchestrator.enabled,
    }

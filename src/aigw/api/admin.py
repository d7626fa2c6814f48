"""Admin API: providers, keys, flags, policy config, audit log (traces: `admin_traces`).

Reads take `ViewerDep` (any signed-in principal), changes `AdminWriteDep` (admins, CSRF-checked for
cookie sessions); every change is audited under the principal's name (`Principal.actor`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from aigw.api.admin_access import AdminRoute, AdminWriteDep, ViewerDep
from aigw.api.deps import GatewayDep
from aigw.control.service import KeySpec
from aigw.errors import InvalidRequestError, NotFoundError
from aigw.masking import mask_entry
from aigw.policy.config import PolicyConfigError

router = APIRouter(prefix="/admin/api", tags=["admin"], route_class=AdminRoute)


@router.get("/providers")
async def list_providers(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    return {
        "object": "list",
        "data": gateway.orchestrator.provider_status(),
        "ai_enabled": gateway.orchestrator.enabled,
    }


class FlagChange(BaseModel):
    enabled: bool


class ConfigChange(BaseModel):
    value: Any


@router.get("/keys")
async def list_keys(gateway: GatewayDep, _: ViewerDep, include_revoked: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": await gateway.plane.list_keys(include_revoked)}


@router.post("/keys", status_code=201)
async def create_key(spec: KeySpec, gateway: GatewayDep, principal: AdminWriteDep) -> dict[str, Any]:
    token, shown = await gateway.plane.create_key(spec, principal.actor)
    await gateway.sync.refresh()
    return {"key": token, **shown}


@router.delete("/keys/{key}")
async def revoke_key(key: str, gateway: GatewayDep, principal: AdminWriteDep) -> dict[str, Any]:
    revoked = await gateway.plane.revoke_key(key, principal.actor)
    if revoked is None:
        raise NotFoundError(f"No active key with id or prefix {key!r}", code="key_not_found")
    await gateway.sync.refresh()
    return revoked


@router.get("/flags")
async def list_flags(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    return {"effective": gateway.control.flags.as_dict(), "stored": await gateway.plane.flags()}


@router.put("/flags/{name}")
async def set_flag(name: str, change: FlagChange, gateway: GatewayDep, principal: AdminWriteDep) -> dict[str, Any]:
    old = await gateway.plane.set_flag(name, change.enabled, principal.actor)
    await gateway.sync.refresh()
    return {"name": name, "old": old, "enabled": change.enabled}


@router.get("/config")
async def show_config(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    return await gateway.plane.config_view(gateway.control.policy)


@router.put("/config/{key}")
async def set_config(key: str, change: ConfigChange, gateway: GatewayDep, principal: AdminWriteDep) -> dict[str, Any]:
    try:
        old = await gateway.plane.set_config(key, change.value, principal.actor, gateway.settings)
    except PolicyConfigError as exc:
        raise InvalidRequestError(str(exc), param=key, code="invalid_config") from None
    await gateway.sync.refresh()
    return {"key": key, "old": mask_entry(key, old), "value": mask_entry(key, change.value)}


@router.delete("/config/{key}")
async def unset_config(key: str, gateway: GatewayDep, principal: AdminWriteDep) -> dict[str, Any]:
    old = await gateway.plane.set_config(key, None, principal.actor)
    await gateway.sync.refresh()
    return {"key": key, "old": mask_entry(key, old), "value": None}


@router.get("/usage")
async def usage(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    """Spend today and this month, globally and per key (from the spend ledger), and live budget use."""
    report = await gateway.plane.usage(gateway.control.policy)
    report["live"] = await gateway.costs.live_usage()
    report["pending_records"] = gateway.spend.pending
    report["alerts"] = gateway.costs.alerts.sent[-20:]
    return report


@router.get("/audit")
async def audit_log(
    gateway: GatewayDep,
    _: ViewerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Newest first; the next page is `?before=<next_before>` (None: no more entries)."""
    data = await gateway.plane.audit_log(limit, before)
    return {"object": "list", "data": data, "next_before": data[-1]["id"] if len(data) == limit else None}

"""The admin panel's own read-only API: provider health and a health check, the effective policy
with budgets against their caps, the usage export as CSV, and every configuration value with
its source. Reads take `ViewerDep`; the health check (it calls a provider) takes `AdminWriteDep`.

The figures come from modules that know nothing of HTTP (`control.provider_health`,
`policy.budget_state`, `store.usage_export`, `config_sources`); this module only wires them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from aigw.api.admin_access import AdminRoute, AdminWriteDep, ViewerDep
from aigw.api.deps import GatewayDep
from aigw.config_sources import config_sources
from aigw.control import provider_health
from aigw.errors import InvalidRequestError, NotFoundError
from aigw.policy.budget_state import live_usage
from aigw.policy.keys import KeyRecord
from aigw.store.usage_export import GroupBy, InvalidRange, csv_export, usage_range

router = APIRouter(prefix="/admin/api", tags=["admin"], route_class=AdminRoute)
MAX_KEYS_SHOWN = 500
_LIMITS = (
    "rate_limit_per_user",
    "rate_limit_per_ip",
    "max_request_cost",
    "reserve_output_tokens",
    "budget_fail_closed",
    "max_prompt_tokens",
    "prompt_overflow",
    "pii_mode",
    "pii_entities",
    "cache_enabled",
    "cache_ttl",
    "cache_scope",
)


@router.get("/providers/health")
async def providers_health(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    """Breaker state, calls, error rate and latency of each provider over the last minutes."""
    data = await provider_health.provider_health(gateway.clients, gateway.metrics, gateway.database)
    return {"object": "list", "data": data, "ai_enabled": gateway.orchestrator.enabled}


@router.post("/providers/{name}/check")
async def check_provider(name: str, gateway: GatewayDep, _: AdminWriteDep) -> dict[str, Any]:
    """One cheap call to the provider, at most 5 s; it does not move the circuit breaker."""
    client = gateway.clients.get(name)
    if client is None:
        raise NotFoundError(f"No provider named {name[:100]!r}", code="provider_not_found")
    return await provider_health.check(client, gateway.config.default_model)


@router.get("/policy")
async def effective_policy(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    """The limits in force, each key's own limits, and every capped budget with its spend now."""
    policy = gateway.control.policy
    keys = sorted(gateway.control.keys.records(), key=lambda k: k.id)[:MAX_KEYS_SHOWN]
    budgets = await live_usage(gateway.costs.ledger, policy, keys)
    for row in budgets:
        cap, spent = row.get("cap_usd"), row.get("spent_usd")
        row["percent"] = round(spent / cap * 100, 4) if cap and spent is not None else None
    return {
        "limits": {name: getattr(policy, name) for name in _LIMITS},
        "caps": {
            "budget_daily": policy.budget_daily,
            "budget_monthly": policy.budget_monthly,
            "budget_user_daily": policy.budget_user_daily,
            "budget_user_monthly": policy.budget_user_monthly,
        },
        "keys": [_key_limits(key) for key in keys],
        "budgets": budgets,
    }


@router.get(
    "/usage/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV, a line a group"}},
)
async def usage_export(
    gateway: GatewayDep,
    _: ViewerDep,
    by: GroupBy = "day",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> StreamingResponse:
    """Spend and tokens from the spend ledger, one line per key, user, model or UTC day."""
    try:
        start, end = usage_range(since, until)
    except InvalidRange as exc:
        raise InvalidRequestError(str(exc), param="since", code="invalid_range") from None
    name = f"aigw-usage-by-{by}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return StreamingResponse(
        csv_export(gateway.database, by, start, end),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
    )


@router.get("/config/sources")
async def configuration_sources(gateway: GatewayDep, _: ViewerDep) -> dict[str, Any]:
    """Every setting, policy key and routing key with its value (secrets masked) and its source."""
    stored = await gateway.plane.config_entries()
    values = await asyncio.to_thread(config_sources, gateway.settings, gateway.control.policy, stored, gateway.config)
    return {"object": "list", "data": [value.model_dump() for value in values]}


def _key_limits(key: KeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "user": key.user,
        "models": sorted(key.models) if key.models is not None else None,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "budget_daily": float(key.budget_daily) if key.budget_daily is not None else None,
        "budget_monthly": float(key.budget_monthly) if key.budget_monthly is not None else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked": key.revoked,
    }

"""Operational endpoints: liveness, readiness, Prometheus metrics.

`/readyz` stays 200 while some provider's circuit is open (the gateway still answers: other
providers, the task fallbacks, the cache), but says `degraded` and names those providers.
`/metrics` names keys and users, so `AI_METRICS_ACCESS` decides who reads it: `master_key` (the
default when a master key is set), `open` (the default without one: loopback only then), or `off`.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigw.errors import NotFoundError
from aigw.gateway import Gateway
from aigw.observability.metrics import CONTENT_TYPE


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def readyz(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    providers = gateway.orchestrator.provider_status()
    ready = gateway.ready
    open_circuits = [p["name"] for p in providers if p["circuit"]["state"] == "open"]
    body: dict[str, object] = {
        "status": ("degraded" if open_circuits else "ready") if ready else "starting",
        "ai_enabled": gateway.orchestrator.enabled,
        "providers": providers,
        "control_plane": _control_status(gateway),
    }
    if open_circuits:
        body["degraded"] = {"circuit_open": open_circuits}
    return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type="application/json")


def _control_status(gateway: Gateway) -> dict[str, object]:
    staleness = gateway.control.staleness()
    return {
        "keys": len(gateway.control.keys),
        "synced_seconds_ago": None if staleness is None else round(staleness, 3),
        "sync_error": gateway.control.sync_error,
    }


async def metrics(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    access = gateway.settings.effective_metrics_access
    if access == "off":
        raise NotFoundError("Metrics are switched off on this gateway (AI_METRICS_ACCESS=off)", code="not_found")
    if access == "master_key":
        request.app.state.auth.require_admin(request)
    return Response(gateway.metrics.exposition(), media_type=CONTENT_TYPE)


def routes() -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

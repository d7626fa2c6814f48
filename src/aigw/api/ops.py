"""Operational endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigw.gateway import Gateway
from aigw.observability.metrics import CONTENT_TYPE


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def readyz(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    providers = gateway.orchestrator.provider_status()
    ready = gateway.ready
    body = {
        "status": "ready" if ready else "starting",
        "ai_enabled": gateway.orchestrator.enabled,
        "providers": providers,
        "control_plane": _control_status(gateway),
    }
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
    return Response(gateway.metrics.exposition(), media_type=CONTENT_TYPE)


def routes() -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]

"""The ASGI application: wiring only. `app_from_environment` is the uvicorn factory.

Without a master key every caller is the admin, so the app refuses to be built for a
non-loopback `AI_GATEWAY_HOST`, and `EdgeGuard` answers loopback peers only, whatever address
the server binds (uvicorn can be started on 0.0.0.0 without the CLI's own check).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from aigw import __version__
from aigw.api import admin, admin_login, admin_pages, admin_panel, admin_traces, collections, ops, tasks
from aigw.api import anthropic as anthropic_api
from aigw.api import openai as openai_api
from aigw.api.auth import Authenticator
from aigw.api.client_address import ClientAddress
from aigw.api.edge import EdgeGuard
from aigw.api.errors import install_error_handlers
from aigw.api.fastpath import FastPath
from aigw.api.middleware import RequestMiddleware
from aigw.api.signin_throttle import SignInThrottle
from aigw.gateway import Gateway
from aigw.observability.logging import LogSystem, configure_logging
from aigw.settings import Settings, SettingsError

log = logging.getLogger("aigw")


class GatewayApp(FastAPI):
    """FastAPI with the request middleware and the OpenAI and Anthropic fast paths outside its own stack."""

    def configure(self, gateway: Gateway, logs: LogSystem) -> None:
        self._gateway = gateway
        self._logs = logs
        self._hot_routes = [*openai_api.routes(), *anthropic_api.routes()]
        self.router.routes.extend(self._hot_routes)  # also here: 405s and the OpenAPI schema

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        settings = self._gateway.settings
        edge = EdgeGuard(
            FastPath(inner, self._hot_routes),
            body_limit=settings.max_body_bytes,
            collection_body_limit=settings.max_collection_body_bytes,
            loopback_only=settings.master_key is None,
            allowed_hosts=settings.allowed_hosts,
        )
        return RequestMiddleware(
            edge,
            metrics=self._gateway.metrics,
            access_log=self._logs.access,
            traces=self._gateway.traces,
            otel=self._gateway.telemetry.otel,
        )


def create_app(gateway: Gateway, logs: LogSystem | None = None) -> FastAPI:
    """The app for `gateway`. Without `logs`, JSON logging to stderr is installed process-wide."""
    settings = gateway.settings
    _refuse_open_keyless(settings)
    if logs is None:
        logs = configure_logging(gateway.settings.log_level, secrets=tuple(gateway.secrets()))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gateway.start()
        gc.freeze()  # start-up objects never die: keep them out of every future collection
        log.info(
            "gateway ready",
            extra={"providers": [c.name for c in gateway.clients.values()], "ai_enabled": gateway.orchestrator.enabled},
        )
        try:
            yield
        finally:
            await gateway.close()

    app = GatewayApp(
        title="aigw",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # The gateway exports its own spans (observability.otel, GenAI conventions). FastAPI's native
        # telemetry would look up the global OpenTelemetry providers on every request (~10 us of CPU).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.gateway = gateway
    gateway.secret_sink = logs.redactor.add_secret
    master = settings.master_key
    throttle = SignInThrottle(settings.auth_failure_limit, settings.auth_failure_window)
    addresses = ClientAddress(settings.trusted_proxies)
    app.state.auth = Authenticator(
        master.get_secret_value() if master else None, gateway.control.keys, throttle=throttle, addresses=addresses
    )
    app.configure(gateway, logs)
    app.router.routes.extend(ops.routes())
    app.include_router(admin.router)
    app.include_router(admin_traces.router)
    app.include_router(admin_panel.router)
    app.include_router(admin_pages.router)
    app.router.routes.append(admin_pages.static_mount())
    app.include_router(collections.router)
    app.include_router(tasks.router)
    install_error_handlers(app)
    admin_login.install(app, gateway, throttle, addresses)  # sign-in, sessions, and the sign-in redirect
    return app


def _refuse_open_keyless(settings: Settings) -> None:
    if settings.master_key is None and not settings.binds_loopback_only:
        raise SettingsError(
            f"invalid setting AI_GATEWAY_HOST={settings.gateway_host!r}: without AI_MASTER_KEY every caller "
            "is the admin, so the gateway serves loopback only; set AI_MASTER_KEY to serve beyond it"
        )


def app_from_environment() -> FastAPI:
    """Build the app from `AI_*` settings (and `AI_CONFIG_FILE`): one call per worker process."""
    return create_app(Gateway.from_environment())

"""The ASGI application: wiring only. `app_from_environment` is the uvicorn factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from aigw import __version__
from aigw.api import admin, collections, ops, tasks
from aigw.api import openai as openai_api
from aigw.api.auth import Authenticator
from aigw.api.errors import install_error_handlers
from aigw.api.fastpath import FastPath
from aigw.api.middleware import RequestMiddleware
from aigw.gateway import Gateway
from aigw.observability.logging import LogSystem, configure_logging

log = logging.getLogger("aigw")


class GatewayApp(FastAPI):
    """FastAPI with the request middleware and the OpenAI fast path outside its own stack."""

    def configure(self, gateway: Gateway, logs: LogSystem) -> None:
        self._gateway = gateway
        self._logs = logs
        self._hot_routes = openai_api.routes()
        self.router.routes.extend(self._hot_routes)  # also here: 405s and the OpenAPI schema

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        return RequestMiddleware(
            FastPath(inner, self._hot_routes),
            metrics=self._gateway.metrics,
            traces=self._gateway.traces,
            access_log=self._logs.access,
            tracing_enabled=self._gateway.settings.tracing_enabled,
        )


def create_app(gateway: Gateway, logs: LogSystem | None = None) -> FastAPI:
    """The app for `gateway`. Without `logs`, JSON logging to stderr is installed process-wide."""
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

    app = GatewayApp(title="aigw", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.gateway = gateway
    gateway.secret_sink = logs.redactor.add_secret
    master = gateway.settings.master_key
    app.state.auth = Authenticator(master.get_secret_value() if master else None, gateway.control.keys)
    app.configure(gateway, logs)
    app.router.routes.extend(ops.routes())
    app.include_router(admin.router)
    app.include_router(collections.router)
    app.include_router(tasks.router)
    install_error_handlers(app)
    return app


def app_from_environment() -> FastAPI:
    """Build the app from `AI_*` settings (and `AI_CONFIG_FILE`): one call per worker process."""
    return create_app(Gateway.from_environment())

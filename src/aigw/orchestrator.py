"""The orchestrator: one request's pipeline, from routing to an answer, readable top to bottom.

kill switch -> policy (model allowed) -> routes for the model
-> admission (rate limits and budget hold of the worst case, together) -> for each route (primary, then fallbacks):
    client (breaker, retries, timeout) -> provider
-> usage and cost accounting (settles the hold) -> answer (or the last failure, as a GatewayError)
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from aigw.client import AIClient, CircuitOpenError
from aigw.errors import (
    NotFoundError,
    ProviderError,
    ServiceUnavailableError,
    gateway_error_from,
)
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.admission import LocalAdmission
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import InProcessBudgetLedger
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl, Hold
from aigw.policy.engine import PolicyEngine
from aigw.policy.flags import Flags
from aigw.policy.ratelimit import InProcessRateLimiter
from aigw.routing import Route, Router
from aigw.types import (
    AIRequest,
    AIResponse,
    CallInfo,
    ChatRequest,
    ChatStream,
    EmbeddingRequest,
    TaskKind,
    Usage,
)

_MODEL_LIST_TIMEOUT = 5.0
COST_HEADER = "x-aigw-cost-usd"


def format_usd(amount: Decimal) -> str:
    """Cost as plain decimal dollars ("0.000123"), never in exponent form."""
    return f"{amount:f}"


_TASK_FLAGS = {TaskKind.CHAT: "chat_enabled", TaskKind.EMBEDDINGS: "embeddings_enabled"}


class Orchestrator:
    def __init__(
        self,
        router: Router,
        clients: dict[str, AIClient],
        metrics: GatewayMetrics,
        flags: Callable[[], Flags] = lambda: Flags({}),
        policy: PolicyEngine | None = None,
        costs: CostControl | None = None,
    ) -> None:
        self.router = router
        self.costs = costs or CostControl(
            InProcessBudgetLedger(), PolicyConfig, metrics, BudgetAlerts(metrics, lambda: None)
        )
        self.policy = policy or PolicyEngine(
            LocalAdmission(InProcessRateLimiter(), self.costs.ledger), PolicyConfig, self.costs
        )
        self.clients = clients
        self.metrics = metrics
        self._flags = flags

    def swap(self, router: Router, clients: dict[str, AIClient]) -> None:
        """A new provider configuration; calls already routed finish on the clients they started with."""
        self.router, self.clients = router, clients

    @property
    def enabled(self) -> bool:
        """The master switch (flag `ai_enabled`), as every replica currently sees it."""
        return self._flags().enabled("ai_enabled")

    async def chat(self, request: ChatRequest, caller: Caller, trace: Trace, info: CallInfo) -> AIResponse | ChatStream:
        return await self._run(request, caller, trace, info)

    async def embeddings(self, request: EmbeddingRequest, caller: Caller, trace: Trace, info: CallInfo) -> AIResponse:
        result = await self._run(request, caller, trace, info)
        assert isinstance(result, AIResponse)
        return result

    async def _run(self, request: AIRequest, caller: Caller, trace: Trace, info: CallInfo) -> AIResponse | ChatStream:
        flags = self._flags()
        if not flags.enabled("ai_enabled"):
            raise ServiceUnavailableError(
                "AI calls are switched off on this gateway (flag ai_enabled)", code="gateway_disabled"
            )
        task_flag = _TASK_FLAGS[request.kind]
        if not flags.enabled(task_flag):
            raise ServiceUnavailableError(
                f"{request.kind.value} is switched off on this gateway (flag {task_flag})", code="task_disabled"
            )
        self.policy.check_model(caller, request)
        clients = self.clients  # this call keeps its clients even if a configuration swap replaces them
        with trace.span("route", model=request.model) as span:
            routes = self.router.routes(request.model, request.kind, sticky_key=caller.user or caller.key_id)
            span.set(routes=[r.deployment for r in routes])
        if not routes:
            raise NotFoundError(
                f"The model '{request.model}' is not served by this gateway", code="model_not_found", param="model"
            )
        admission = await self.policy.admit(caller, request, [r.model for r in routes], trace)
        info.headers.update(admission.headers)
        hold = admission.hold
        try:
            return await self._call_routes(request, routes, clients, caller, trace, info, hold)
        except BaseException:
            self.costs.release(hold)  # no provider answered: nothing spent
            raise

    async def _call_routes(
        self,
        request: AIRequest,
        routes: list[Route],
        clients: dict[str, AIClient],
        caller: Caller,
        trace: Trace,
        info: CallInfo,
        hold: Hold,
    ) -> AIResponse | ChatStream:
        failures: list[ProviderError] = []
        for route in routes:
            call = request if route.model == request.model else dataclasses.replace(request, model=route.model)
            try:
                result = await clients[route.provider].execute(call, trace, info)
            except ProviderError as error:
                failures.append(error)
                if not _worth_falling_back(error):
                    raise gateway_error_from(error) from None
                continue
            self._served(route, routes[0], info)
            if isinstance(result, ChatStream):
                return self._priced_stream(result, info, caller, trace, hold)
            self._account(info, result.usage, caller, trace, hold)
            return result
        raise _final_error(failures)

    def _served(self, route: Route, primary: Route, info: CallInfo) -> None:
        info.provider, info.deployment, info.model = route.provider, route.deployment, route.model
        if route is not primary:
            info.fallback_from = primary.provider
            self.metrics.observe_fallback(primary.provider, route.provider)

    def _account(self, info: CallInfo, usage: Usage | None, caller: Caller, trace: Trace, hold: Hold) -> Decimal:
        """Count the tokens, price the call, settle its budget hold; the cost goes out as a header."""
        info.usage = usage
        provider, model = info.provider or "", info.model or ""
        if usage is not None:
            self.metrics.observe_tokens(provider, model, usage.prompt_tokens, usage.completion_tokens)
        client = self.clients.get(provider)
        billable = client is None or client.capabilities.billable
        cost = self.costs.settle(hold, caller, trace.request_id, provider, model, usage, billable)
        info.cost_usd = cost
        info.headers[COST_HEADER] = format_usd(cost)
        return cost

    def _priced_stream(
        self, stream: ChatStream, info: CallInfo, caller: Caller, trace: Trace, hold: Hold
    ) -> ChatStream:
        async def close() -> None:
            try:
                await stream.aclose()
            finally:
                if not hold.settled:  # closed before it was read through: the worst case is charged
                    self._account(info, stream.usage, caller, trace, hold)

        return ChatStream(self._account_stream(stream, info, caller, trace, hold), close=close)

    async def _account_stream(
        self, stream: ChatStream, info: CallInfo, caller: Caller, trace: Trace, hold: Hold
    ) -> AsyncIterator[dict[str, Any]]:
        """Relay the chunks; the usage chunk is priced on its way and carries the cost (`usage.cost_usd`)."""
        try:
            async for chunk in stream:
                usage = chunk.get("usage")
                if isinstance(usage, dict) and stream.usage is not None and not hold.settled:
                    cost = self._account(info, stream.usage, caller, trace, hold)
                    chunk = {**chunk, "usage": {**usage, "cost_usd": float(cost)}}
                yield chunk
        finally:
            if not hold.settled:  # cut short before usage came: charged at the worst case held
                self._account(info, stream.usage, caller, trace, hold)

    async def list_models(self) -> list[dict[str, Any]]:
        """Declared model aliases first, then what each provider serves, without duplicates."""
        names = {name: "aigw" for name in self.router.public_models()}
        listings = await asyncio.gather(*(self._models_of(c) for c in self.clients.values()))
        for client, models in zip(self.clients.values(), listings, strict=True):
            for model in models:
                names.setdefault(model, client.name)
        return [{"id": name, "object": "model", "created": 0, "owned_by": owner} for name, owner in names.items()]

    async def _models_of(self, client: AIClient) -> list[str]:
        try:
            return await asyncio.wait_for(client.provider.list_models(), _MODEL_LIST_TIMEOUT)
        except (TimeoutError, ProviderError):
            return []

    def provider_status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": c.name,
                "type": c.provider.type_name,
                "available": c.is_available(),
                "circuit": c.breaker.snapshot(),
            }
            for c in self.clients.values()
        ]


def _worth_falling_back(error: ProviderError) -> bool:
    """Another deployment may succeed where this one failed for reasons of its own."""
    return error.retryable or error.counts_against_health or isinstance(error, CircuitOpenError)


def _final_error(failures: list[ProviderError]) -> Exception:
    if failures and all(isinstance(f, CircuitOpenError) for f in failures):
        wait = min(f.retry_after for f in failures if isinstance(f, CircuitOpenError))
        return ServiceUnavailableError(
            "every provider for this model is failing; circuit open",
            code="circuit_open",
            headers={"retry-after": str(max(1, round(wait)))},
        )
    real = [f for f in failures if not isinstance(f, CircuitOpenError)]
    return gateway_error_from(real[-1] if real else failures[-1])

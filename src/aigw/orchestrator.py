"""The orchestrator: one request's pipeline, from routing to an answer, readable top to bottom.

kill switch -> policy (model allowed) -> routes for the model
-> context (template, PII policy, token budget)
-> admission (rate limits and budget hold of the worst case, together) -> for each route (primary, then fallbacks):
    client (breaker, retries, timeout) -> provider
-> usage and cost accounting (settles the hold) -> answer (or the last failure, as a GatewayError)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from aigw.cache.response_cache import CACHE_HEADER, CachedAnswer, ResponseCache
from aigw.client import AIClient, CircuitOpenError
from aigw.context.builder import ContextBuilder, ContextPolicy, PreparedRequest
from aigw.context.pii import Masker, PIIMode
from aigw.context.pii.restore import restore_answer, restore_stream
from aigw.context.templates import TemplateError, TemplateStore
from aigw.errors import (
    NotFoundError,
    ProviderError,
    ServiceUnavailableError,
    gateway_error_from,
)
from aigw.normalize.metadata import normalize_body
from aigw.normalize.response_format import (
    ExpectedFormat,
    expected_format,
    invalid_answer,
    repair_request,
)
from aigw.normalize.response_format import problems as format_problems
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

log = logging.getLogger("aigw")
_MODEL_LIST_TIMEOUT = 5.0
COST_HEADER = "x-aigw-cost-usd"
TRIMMED_HEADER = "x-aigw-trimmed-messages"


def format_usd(amount: Decimal) -> str:
    """Cost as plain decimal dollars ("0.000123"), never in exponent form."""
    return f"{amount:f}"


@dataclasses.dataclass(slots=True)
class _Call:
    """One request's routing, passed along its calls (the first, and a repair)."""

    routes: list[Route]
    clients: dict[str, AIClient]  # the clients it started with, even if a configuration swap replaces them
    caller: Caller
    trace: Trace
    info: CallInfo


_PII_MODES = {mode.value: mode for mode in PIIMode}
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
        context: ContextBuilder | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.router = router
        self.cache = cache
        self.costs = costs or CostControl(
            InProcessBudgetLedger(), PolicyConfig, metrics, BudgetAlerts(metrics, lambda: None)
        )
        self.policy = policy or PolicyEngine(
            LocalAdmission(InProcessRateLimiter(), self.costs.ledger), PolicyConfig, self.costs
        )
        self.clients = clients
        self.metrics = metrics
        self._flags = flags
        self.context = context or ContextBuilder(TemplateStore())
        self._templates_from: tuple[Any, Any] = ({}, {})  # the configuration the templates were built from

    def swap(self, router: Router, clients: dict[str, AIClient]) -> None:
        """A new provider configuration; calls already routed finish on the clients they started with."""
        self.router, self.clients = router, clients

    def serves_meaningfully(self, model: str, kind: TaskKind) -> bool:
        """Whether some deployment of `model` gives real answers (not only the stub's placeholders)."""
        routes = self.router.routes(model, kind)
        return any(r.provider in self.clients and self.clients[r.provider].capabilities.meaningful for r in routes)

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
        prepared = self._prepare(request, caller, trace, info)
        request = prepared.request
        expected = expected_format(request)
        cache_key = self._cache_key(request, caller, info)
        if cache_key is not None and info.cache_read:
            assert self.cache is not None
            hit = await self.cache.lookup(cache_key, request.kind.value)
            if hit is not None:
                return self._from_cache(hit, request, prepared.masker, trace, info)
        admission = await self.policy.admit(caller, request, [r.model for r in routes], trace)
        info.headers.update(admission.headers)
        info.request_id = trace.request_id
        started = time.perf_counter()
        call = _Call(routes, clients, caller, trace, info)
        result = await self._call_routes(request, call, admission.hold)
        info.latency_ms = (time.perf_counter() - started) * 1000
        if isinstance(result, ChatStream):
            return result if prepared.masker is None else self._restored_stream(result, prepared.masker)
        if expected is not None:
            assert isinstance(request, ChatRequest)
            result = await self._checked_format(result, request, expected, call)
        body = normalize_body(result.body, request, info)
        if cache_key is not None:
            info.headers[CACHE_HEADER] = "miss"
            if info.cache_write:  # stored masked, as the provider saw it: restored per caller on a hit
                assert self.cache is not None
                self.cache.store(cache_key, body, {"provider": info.provider, "deployment": info.deployment})
        if prepared.masker is not None:
            body = restore_answer(body, prepared.masker)
        return dataclasses.replace(result, body=body)

    def _cache_key(self, request: AIRequest, caller: Caller, info: CallInfo) -> str | None:
        """The request's response-cache key, or None when it is not cached (see `cache.response_cache`)."""
        if self.cache is None:
            return None
        key = self.cache.request_key(request, caller.key_id)
        if key is None:
            return None
        settings = caller.key.settings if caller.key is not None else {}
        if settings.get("cache") is False or not (info.cache_read or info.cache_write):
            self.cache.bypassed(request.kind.value)
            info.headers[CACHE_HEADER] = "bypass"
            return None
        return key

    def _from_cache(
        self, hit: CachedAnswer, request: AIRequest, masker: Masker | None, trace: Trace, info: CallInfo
    ) -> AIResponse:
        """A cached answer: no provider call, no budget spent (cost 0), `age` says how old it is."""
        info.provider = hit.meta.get("provider")
        info.deployment = hit.meta.get("deployment")
        info.model = str(hit.body.get("model") or request.model)
        info.request_id = trace.request_id
        info.cost_usd = Decimal(0)
        info.headers.update({COST_HEADER: "0", CACHE_HEADER: "hit", "age": str(int(hit.age_s))})
        trace.attrs["cache"] = "hit"
        body = normalize_body(hit.body, request, info)
        if masker is not None:
            body = restore_answer(body, masker)
        return AIResponse(body=body, usage=Usage.from_openai(body.get("usage")), model=info.model)

    @staticmethod
    def _restored_stream(stream: ChatStream, masker: Masker) -> ChatStream:
        return ChatStream(restore_stream(aiter(stream), masker), close=stream.aclose)

    async def _checked_format(
        self, result: AIResponse, request: ChatRequest, expected: ExpectedFormat, call: _Call
    ) -> AIResponse:
        """The answer if it has the format asked for; else one repair call (budgeted like any call), then a 502."""
        found = format_problems(result.body, expected)
        if not found:
            return result
        with call.trace.span("repair", format=expected.name, problems=len(found)):
            repair = repair_request(request, result.body, found, expected)
            hold = await self.costs.reserve(call.caller, repair, [r.model for r in call.routes], call.trace)
            first_usage, first_cost = result.usage, call.info.cost_usd or Decimal(0)
            repaired = await self._call_routes(repair, call, hold)
        assert isinstance(repaired, AIResponse)
        self._add_cost(call.info, first_cost)
        found = format_problems(repaired.body, expected)
        if found:
            raise invalid_answer(found, expected)
        usage = _sum_usage(first_usage, repaired.usage)
        body = {**repaired.body, "usage": usage.to_openai()} if usage is not None else repaired.body
        return dataclasses.replace(repaired, body=body, usage=usage)

    def _add_cost(self, info: CallInfo, earlier: Decimal) -> None:
        """Both calls of a repaired answer are paid for: the cost header says their sum."""
        info.cost_usd = (info.cost_usd or Decimal(0)) + earlier
        info.headers[COST_HEADER] = format_usd(info.cost_usd)

    def _prepare(self, request: AIRequest, caller: Caller, trace: Trace, info: CallInfo) -> PreparedRequest:
        """Template, PII policy and token budget (see `context.builder`), as the key or the policy says."""
        policy = self.policy.config()
        if (
            policy.prompt_templates is not self._templates_from[0]
            or policy.template_versions is not self._templates_from[1]
        ):
            self._reload_templates(policy)
        settings = caller.key.settings if caller.key is not None else {}
        prepared = self.context.prepare(
            request,
            ContextPolicy(
                pii_mode=_PII_MODES[settings.get("pii_mode") or policy.pii_mode],
                max_prompt_tokens=settings.get("max_prompt_tokens") or policy.max_prompt_tokens,
                overflow=settings.get("prompt_overflow") or policy.prompt_overflow,
            ),
            trace,
        )
        if prepared.pii_counts:
            trace.attrs["pii"] = prepared.pii_counts  # types and counts, never values
            self.metrics.observe_pii(prepared.pii_counts)
        if prepared.trimmed_messages:
            info.headers[TRIMMED_HEADER] = str(prepared.trimmed_messages)
        return prepared

    def _reload_templates(self, policy: PolicyConfig) -> None:
        """Templates changed in the configuration: swap them in (a bad set keeps the previous one)."""
        self._templates_from = (policy.prompt_templates, policy.template_versions)
        try:
            self.context.templates.replace(policy.prompt_templates, policy.template_versions)
        except TemplateError as exc:
            log.error("prompt templates in the configuration are invalid; keeping the previous ones: %s", exc)

    async def _call_routes(self, request: AIRequest, call: _Call, hold: Hold) -> AIResponse | ChatStream:
        """The first route's answer, else the next's; if none answers, the hold is released (nothing spent)."""
        try:
            return await self._first_answer(request, call, hold)
        except BaseException:
            self.costs.release(hold)
            raise

    async def _first_answer(self, request: AIRequest, call: _Call, hold: Hold) -> AIResponse | ChatStream:
        routes, caller, trace, info = call.routes, call.caller, call.trace, call.info
        failures: list[ProviderError] = []
        for route in routes:
            routed = request if route.model == request.model else dataclasses.replace(request, model=route.model)
            try:
                result = await call.clients[route.provider].execute(routed, trace, info)
            except ProviderError as error:
                failures.append(error)
                if not _worth_falling_back(error):
                    raise gateway_error_from(error) from None
                continue
            self._served(route, routes[0], info)
            if isinstance(result, ChatStream):
                return self._priced_stream(result, info, caller, trace, hold)
            if result.usage is None:
                hold.observe(result.body)  # what it wrote, for the estimate charged without usage
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
                hold.observe(chunk)  # what it wrote, for the estimate charged if it is cut before usage
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


def _sum_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    if first is None or second is None:
        return second or first
    return Usage(
        first.prompt_tokens + second.prompt_tokens,
        first.completion_tokens + second.completion_tokens,
        first.total_tokens + second.total_tokens,
    )


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

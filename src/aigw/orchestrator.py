"""The orchestrator: one request's pipeline, from routing to an answer, readable top to bottom.

kill switch -> policy (model allowed) -> routes for the model
-> rate limits, for a body costly to prepare (requests and tokens: over them, it costs nothing more)
-> context (template, PII policy, token budget)
-> response cache (a hit answers here: counted by the rate limits, costs no budget)
-> admission: rate limits (unless counted above) and budget hold of the worst case, together
   -> for each route (primary, then fallbacks): client (breaker, retries, timeout) -> provider
-> usage and cost accounting (settles the hold) -> answer (or the last failure, as a GatewayError)

Admission order. A caller over its rate limits must cost nothing: the PII scan and token count of a
large body would cost seconds per MiB. So a body that is costly to prepare (a template to render,
or more than `PREPARE_FIRST_BYTES`: see `orchestration.preparation`) is admitted against its rate
limits first (one round trip to the store) and holds its budget after the context stage (a second).
A small body is prepared first, its work bounded by that size, then admitted in one round trip
(limits and hold together): two trips for every call would cost ~150 us of CPU each with Redis.
Each limit is counted once, in one stage; a cache hit is counted by the rate limits, never the budget.

A task's own provider calls (`within_task=True`: a query embedding, an intent, a rerank) skip the
request limits, which the task counted once for the whole task call (`gateway.run_task`); their
tokens count against the key's token limit, admitted with the budget hold once prepared (the
prompt is the gateway's: there is no body to fear).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aigw.cache.response_cache import ResponseCache
from aigw.client import AIClient, CircuitOpenError
from aigw.context.builder import ContextBuilder
from aigw.context.pii import Masker
from aigw.context.pii.restore import restore_answer, restore_stream
from aigw.context.templates import TemplateStore
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
from aigw.orchestration.accounting import COST_HEADER, Accounting, add_cost, format_usd, sum_usage
from aigw.orchestration.cached_answers import CachedAnswers
from aigw.orchestration.call import Call
from aigw.orchestration.preparation import TRIMMED_HEADER, Preparation, costly_to_prepare
from aigw.orchestration.previews import note_answer, note_prompt, stream_preview
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
)

__all__ = ["COST_HEADER", "TRIMMED_HEADER", "Orchestrator", "format_usd"]

_MODEL_LIST_TIMEOUT = 5.0
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
        self.costs = costs or CostControl(
            InProcessBudgetLedger(), PolicyConfig, metrics, BudgetAlerts(metrics, lambda: None)
        )
        self.policy = policy or PolicyEngine(
            LocalAdmission(InProcessRateLimiter(), self.costs.ledger), PolicyConfig, self.costs
        )
        self.clients = clients
        self.metrics = metrics
        self._flags = flags
        self.preparation = Preparation(context or ContextBuilder(TemplateStore()), self.policy.config, metrics)
        self.answers = CachedAnswers(cache)
        self.accounting = Accounting(self.costs, metrics)

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

    async def chat(
        self, request: ChatRequest, caller: Caller, trace: Trace, info: CallInfo, *, within_task: bool = False
    ) -> AIResponse | ChatStream:
        return await self._run(request, Call([], self.clients, caller, trace, info), within_task)

    async def embeddings(
        self, request: EmbeddingRequest, caller: Caller, trace: Trace, info: CallInfo, *, within_task: bool = False
    ) -> AIResponse:
        result = await self._run(request, Call([], self.clients, caller, trace, info), within_task)
        assert isinstance(result, AIResponse)
        return result

    async def _run(self, request: AIRequest, call: Call, within_task: bool) -> AIResponse | ChatStream:
        caller, trace, info = call.caller, call.trace, call.info
        self._check_switches(request)
        self.policy.check_model(caller, request)
        with trace.span("route", model=request.model) as span:
            call.routes = self.router.routes(request.model, request.kind, sticky_key=caller.user or caller.key_id)
            span.set(routes=[r.deployment for r in call.routes])
        if not call.routes:
            raise NotFoundError(
                f"The model '{request.model}' is not served by this gateway", code="model_not_found", param="model"
            )
        limits_first = not within_task and costly_to_prepare(request)
        if limits_first:
            info.headers.update(await self._admit_limits(caller, request, trace))
        await self.preparation.ready(caller)
        prepared = self.preparation.prepare(request, caller, trace, info)
        request = prepared.request
        note_prompt(request, info)
        expected = expected_format(request)
        cache_key = self.answers.key(request, caller, info)
        if cache_key is not None:
            hit = await self.answers.lookup(cache_key, request, prepared.masker, trace, info)
            if hit is not None:
                if not (limits_first or within_task):
                    info.headers.update(await self._admit_limits(caller, request, trace))
                return hit
        limits = () if limits_first else self.policy.token_limits(caller, request) if within_task else None
        admission = await self.policy.admit(caller, request, [r.model for r in call.routes], trace, limits=limits)
        info.headers.update(admission.headers)
        info.request_id = trace.request_id
        started = time.perf_counter()
        result = await self._call_routes(request, call, admission.hold)
        info.latency_ms = (time.perf_counter() - started) * 1000
        if isinstance(result, ChatStream):
            result = stream_preview(result, info)
            return result if prepared.masker is None else _restored_stream(result, prepared.masker)
        if expected is not None:
            assert isinstance(request, ChatRequest)
            result = await self._checked_format(result, request, expected, call)
        body = normalize_body(result.body, request, info)
        if cache_key is not None:
            self.answers.store(cache_key, body, info)
        note_answer(body, info)
        if prepared.masker is not None:
            body = restore_answer(body, prepared.masker)
        return dataclasses.replace(result, body=body)

    async def _admit_limits(self, caller: Caller, request: AIRequest, trace: Trace) -> dict[str, str]:
        """The caller's rate limits alone (requests and tokens): x-ratelimit-* headers, or a 429."""
        return await self.policy.admit_limits(self.policy.limits_for(caller, request), trace)

    def _check_switches(self, request: AIRequest) -> None:
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

    async def _checked_format(
        self, result: AIResponse, request: ChatRequest, expected: ExpectedFormat, call: Call
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
        add_cost(call.info, first_cost)
        found = format_problems(repaired.body, expected)
        if found:
            raise invalid_answer(found, expected)
        usage = sum_usage(first_usage, repaired.usage)
        body = {**repaired.body, "usage": usage.to_openai()} if usage is not None else repaired.body
        return dataclasses.replace(repaired, body=body, usage=usage)

    async def _call_routes(self, request: AIRequest, call: Call, hold: Hold) -> AIResponse | ChatStream:
        """The first route's answer, else the next's; if none answers, the hold is released (nothing spent)."""
        try:
            return await self._first_answer(request, call, hold)
        except BaseException:
            self.costs.release(hold)
            raise

    async def _first_answer(self, request: AIRequest, call: Call, hold: Hold) -> AIResponse | ChatStream:
        routes, info = call.routes, call.info
        failures: list[ProviderError] = []
        for route in routes:
            routed = request if route.model == request.model else dataclasses.replace(request, model=route.model)
            try:
                result = await call.clients[route.provider].execute(routed, call.trace, info)
            except ProviderError as error:
                failures.append(error)
                if not _worth_falling_back(error):
                    raise gateway_error_from(error) from None
                continue
            self._served(route, routes[0], info)
            if isinstance(result, ChatStream):
                return self.accounting.stream(result, call, hold)
            self.accounting.answer(result, call, hold)
            return result
        raise _final_error(failures)

    def _served(self, route: Route, primary: Route, info: CallInfo) -> None:
        info.provider, info.deployment, info.model = route.provider, route.deployment, route.model
        if route is not primary:
            info.fallback_from = primary.provider
            self.metrics.observe_fallback(primary.provider, route.provider)

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


def _restored_stream(stream: ChatStream, masker: Masker) -> ChatStream:
    return ChatStream(restore_stream(aiter(stream), masker), close=stream.aclose)


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

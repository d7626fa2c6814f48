"""Gateway: builds and owns everything one gateway process runs (providers, clients, router,
orchestrator, control plane, traces, metrics) from its settings and configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aigw.breaker import BreakerState, CircuitBreaker
from aigw.cache import CacheBackend, CacheControl, MemoryCache, RedisCache, ResponseCache
from aigw.cache.response_cache import CacheSettings
from aigw.catalog.filters import check_filters
from aigw.client import AIClient
from aigw.config import GatewayConfig, ProviderConfigBase
from aigw.configfile import ConfigError, config_from_mapping, load_config
from aigw.control.service import ControlPlane
from aigw.control.state import ControlState
from aigw.control.sync import ControlSync
from aigw.errors import GatewayError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.otel import ProviderEndpoint
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.admission import AdmissionStore, LocalAdmission, RedisAdmission
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import InProcessBudgetLedger
from aigw.policy.budget_redis import RedisBudgetLedger
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl
from aigw.policy.engine import PolicyEngine
from aigw.policy.ratelimit import InProcessRateLimiter, RedisRateLimiter
from aigw.providers.registry import build_provider
from aigw.retry import RetryPolicy
from aigw.routing import Router
from aigw.settings import Settings, SettingsError, load_settings
from aigw.store.changes import ChangeBus, reconnect_delay
from aigw.store.database import Database
from aigw.store.redis import connect_redis
from aigw.store.spend import SpendWriter
from aigw.store.traces import TraceWriter
from aigw.tasks.requests import IntelligentRequest, RecommendRequest, SearchRequest, TaskRequest
from aigw.telemetry import Telemetry, provider_endpoint

if TYPE_CHECKING:  # the catalog tasks (NumPy, RapidFuzz) are imported at their first use
    from aigw.catalog.item import Item
    from aigw.gateway_tasks import TaskServices
    from aigw.tasks.cached import TaskAnswer

log = logging.getLogger("aigw")
PYTHON_CALLER = Caller("python", is_admin=True)
USE_CACHE = CacheControl()  # the embedding application is the gateway's owner


class Gateway:
    def __init__(self, settings: Settings, config: GatewayConfig) -> None:
        self.settings = settings
        self.config = config
        self.metrics = GatewayMetrics(enabled=settings.metrics_enabled)
        self.base_config = config  # from the file or the environment; a `routing` entry in the database replaces it
        self.clients = {p.name: self._client(p) for p in config.providers}
        router = self._router(config, self.clients)
        self.secret_sink: Callable[[str], None] | None = None  # the log scrubber learns keys of swapped-in providers
        self._routing_wanted: dict[str, Any] | None = None  # the stored `routing` entry last seen
        self._swap_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.database = Database(settings.effective_database_url)
        self.telemetry = Telemetry(settings, self.database, self.metrics, self._provider_endpoint, self.secrets())
        self.traces: TraceWriter | None = self.telemetry.writer  # None: AI_TRACING_ENABLED=false
        self.redis = connect_redis(settings.redis_url) if settings.redis_url else None
        self.control = ControlState.from_settings(settings)
        self.sync = ControlSync(
            self.control, settings, self.database, ChangeBus(self.database, self.redis), on_change=self._control_changed
        )
        self._budget_caps: tuple[float | None, ...] = ()
        self._cache_from: PolicyConfig | None = None
        self._cache_config = CacheSettings()
        self._seeding: asyncio.Task[None] | None = None
        self.plane = ControlPlane(self.database, ChangeBus(self.database, self.redis))
        ledger = RedisBudgetLedger(self.redis) if self.redis is not None else InProcessBudgetLedger()
        spool = settings.state_dir / f"spend-spool-{os.getpid()}.jsonl"  # one per process: workers share the folder
        self.spend = SpendWriter(self.database, spool, spool_glob="spend-spool-*.jsonl")
        alerts = BudgetAlerts(self.metrics, lambda: self.control.policy.alert_webhook_url)
        self.costs = CostControl(ledger, lambda: self.control.policy, self.metrics, alerts, self.spend)
        self.telemetry.watch(self.spend, self.costs)
        self.policy = PolicyEngine(self._admission(ledger), lambda: self.control.policy, self.costs)
        self.cache = ResponseCache(self._cache_backend(), self.metrics, self._cache_settings)
        self.orchestrator = Orchestrator(
            router,
            self.clients,
            self.metrics,
            flags=lambda: self.control.flags,
            policy=self.policy,
            costs=self.costs,
            cache=self.cache,
        )
        self.pgvector = False  # whether vectors live in pgvector, shared by the replicas (known after start)
        self._task_services: TaskServices | None = None
        self.ready = False

    @property
    def task_services(self) -> TaskServices:
        """The catalog tasks, built (and their modules imported) on first use."""
        if self._task_services is None:
            from aigw.gateway_tasks import TaskServices

            self._task_services = TaskServices(
                self.settings,
                self.database,
                self.orchestrator,
                self.cache,
                lambda: self.control.catalog_versions,
                lambda: self.control.policy.fallback_order or self.settings.fallback_order,
                lambda: self.pgvector,
            )
        return self._task_services

    def _cache_backend(self) -> CacheBackend:
        wanted = self.settings.cache_backend
        if wanted == "redis" and self.redis is None:
            raise SettingsError("invalid setting AI_CACHE_BACKEND=redis: it needs AI_REDIS_URL")
        if self.redis is not None and wanted != "memory":
            return RedisCache(self.redis)
        return MemoryCache(self.settings.cache_max_entries)

    def _cache_settings(self) -> CacheSettings:
        policy = self.control.policy
        if self._cache_from is not policy:  # built again only when the policy changes
            self._cache_from = policy
            self._cache_config = CacheSettings(policy.cache_enabled, policy.cache_ttl, policy.cache_scope)
        return self._cache_config

    def _admission(self, ledger: RedisBudgetLedger | InProcessBudgetLedger) -> AdmissionStore:
        if self.redis is not None and isinstance(ledger, RedisBudgetLedger):
            return RedisAdmission(RedisRateLimiter(self.redis), ledger)
        return LocalAdmission(InProcessRateLimiter(), ledger)

    @classmethod
    def from_environment(cls) -> Gateway:
        settings = load_settings()
        return cls(settings, load_config(settings))

    def _router(self, config: GatewayConfig, clients: dict[str, AIClient]) -> Router:
        return Router(
            config,
            {name: c.provider.get_capabilities() for name, c in clients.items()},
            fallback_enabled=self.settings.fallback_enabled,
            fallback_order=lambda: self.control.policy.fallback_order,
        )

    def _provider_endpoint(self, name: str) -> ProviderEndpoint | None:
        """A provider's kind and address, for the OpenTelemetry conventions (the current configuration)."""
        client = self.clients.get(name)
        if client is None:
            return None
        return provider_endpoint(client.provider.type_name, getattr(client.provider.config, "base_url", None))

    def _client(self, config: ProviderConfigBase) -> AIClient:
        name = config.name
        b = config.breaker

        def publish(state: BreakerState) -> None:
            self.metrics.set_circuit_state(name, state.value)

        breaker = CircuitBreaker(
            failure_rate=b.failure_rate,
            min_calls=b.min_calls,
            window=b.window,
            cooldown=b.cooldown,
            enabled=b.enabled,
            on_change=publish,
        )
        retry = RetryPolicy(config.retry.max_retries, config.retry.backoff_base, config.retry.max_delay)
        publish(BreakerState.CLOSED)
        return AIClient(build_provider(config), retry, breaker, self.metrics)

    def secrets(self) -> list[str]:
        """Every secret value this gateway holds, so logs can scrub them verbatim."""
        held = (self.settings.master_key, self.settings.openai_api_key, self.settings.oidc_client_secret)
        found = [s.get_secret_value() for s in held if s]
        for provider in self.config.providers:
            resolve = getattr(provider, "resolved_api_key", None)
            key = resolve() if resolve else None
            if key:
                found.append(key)
        return found

    async def start(self) -> None:
        for client in self.clients.values():
            await client.provider.start()
        await self.sync.start()
        await self._choose_vector_index()
        if self.control.catalog_versions:
            await self.task_services.warm(list(self.control.catalog_versions))
        if self.control.policy.routing is not None:  # a provider configuration stored in the database
            self._routing_wanted = self.control.policy.routing
            if not await self._try_routing(self._routing_wanted, attempt=0):  # serve on; retry in the background
                self._keep(asyncio.create_task(self._apply_until_done(self._routing_wanted, attempt=1)))
        self.spend.start()
        self.telemetry.start()
        await self.spend.flush()  # spend spooled by an earlier run reaches the database first
        await self.seed_budgets()
        self.ready = True

    async def _choose_vector_index(self) -> None:
        wanted = self.settings.vector_index
        if wanted != "memory" and self.database.dialect == "postgresql":
            from aigw.store.pgvector import pgvector_available

            self.pgvector = await pgvector_available(self.database)
        if wanted == "pgvector" and not self.pgvector:
            raise SettingsError(
                "invalid setting AI_VECTOR_INDEX=pgvector: the database is not PostgreSQL with the vector extension"
            )
        log.info("vector index chosen", extra={"vector_index": "pgvector" if self.pgvector else "memory"})

    async def seed_budgets(self) -> None:
        """Budgets start from the spend the database holds; a database that is away only delays it."""
        policy = self.control.policy
        self._budget_caps = (
            policy.budget_daily,
            policy.budget_monthly,
            policy.budget_user_daily,
            policy.budget_user_monthly,
        )
        try:
            seeded = await self.costs.seed(self.database, self.control.keys.records())
        except Exception as exc:  # database away: budgets count from zero until the next change
            log.warning("could not seed budgets from the spend ledger", extra={"error": type(exc).__name__})
            return
        if seeded:
            log.info("budgets seeded from the spend ledger", extra={"scopes": seeded})

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def load_collection(self, name: str, items: Sequence[Item], settings: dict[str, Any] | None = None) -> int:
        """Python API: create `name` if needed and upsert `items` (by id); returns how many were written."""
        from aigw.store import catalog as catalog_rows

        if await catalog_rows.get_collection(self.database, name) is None or settings is not None:
            await catalog_rows.put_collection(self.database, name, settings or {})
        written = await catalog_rows.upsert_items(self.database, name, items)
        await self.catalog_changed(name)
        return written

    async def run_task(
        self, task: str, request: TaskRequest, caller: Caller, trace: Trace, cache: CacheControl = USE_CACHE
    ) -> TaskAnswer:
        """One task call (HTTP and Python API alike), through the response cache; 404 for a missing
        collection, or when none of the given items is in it.

        The caller's request limits (per key, per user, per IP) count the task call once, before any
        work on it, a cached answer too; its own provider calls then skip them and count their
        tokens against the key's token limit (see `orchestrator`)."""
        limits = await self.policy.admit_limits(self.policy.request_limits(caller), trace)
        answer = await self.task_services.answer(task, request, caller, trace, cache)
        trace.attrs["served_by"] = answer.served_by
        trace.attrs["cache"] = answer.cache
        answer.rate_limits = limits
        return answer

    async def semantic_search(
        self,
        collection: str,
        query: str,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        caller: Caller = PYTHON_CALLER,
    ) -> dict[str, Any]:
        """Python API: the same answer as `POST /v1/tasks/semantic_search`."""
        request = SearchRequest(collection, query, k, check_filters(filters))
        return await self._python_task("semantic_search", request, caller)

    async def intelligent_search(
        self,
        collection: str,
        query: str,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        rerank: bool = False,
        locale: str = "en",
        caller: Caller = PYTHON_CALLER,
    ) -> dict[str, Any]:
        """Python API: the same answer as `POST /v1/tasks/intelligent_search`."""
        request = IntelligentRequest(collection, query, k, check_filters(filters), rerank, locale)
        return await self._python_task("intelligent_search", request, caller)

    async def recommendations(
        self,
        collection: str,
        item_ids: Sequence[str],
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        diversity: float = 0.3,
        explain: bool = False,
        locale: str = "en",
        caller: Caller = PYTHON_CALLER,
    ) -> dict[str, Any]:
        """Python API: the same answer as `POST /v1/tasks/recommendations`."""
        request = RecommendRequest(collection, tuple(item_ids), k, check_filters(filters), diversity, explain, locale)
        return await self._python_task("recommendations", request, caller)

    async def _python_task(self, task: str, request: TaskRequest, caller: Caller) -> dict[str, Any]:
        trace = Trace(uuid.uuid4().hex, method="python", endpoint="tasks", task=task)
        status = 500
        try:
            answer = (await self.run_task(task, request, caller, trace)).body
            status = 200
            return answer
        except GatewayError as exc:
            status = exc.status
            trace.attrs["error_code"] = exc.code or exc.error_type
            raise
        finally:
            trace.status = "ok" if status < 400 else "error"
            trace.attrs["http_status"] = status
            if self.traces is not None:
                self.traces.submit(trace)

    async def catalog_changed(self, name: str) -> None:
        """A collection or its items changed here: every replica reloads its versions (and so its index)."""
        await self.plane.bus.publish("catalog")
        await self.sync.refresh()

    def _control_changed(self, state: ControlState) -> None:
        """Reacts to a control-plane change: a budget cap set or changed while running starts from
        what was already spent this period; a new `routing` entry swaps the providers."""
        if not self.ready:
            return
        busy = self._seeding is not None and not self._seeding.done()
        if _budget_caps(state.policy) != self._budget_caps and not busy:
            self._seeding = asyncio.create_task(self.seed_budgets())
        routing = state.policy.routing
        if routing != self._routing_wanted:
            self._routing_wanted = routing
            self._keep(asyncio.create_task(self._apply_until_done(routing)))

    async def _apply_until_done(self, raw: dict[str, Any] | None, attempt: int = 0) -> None:
        """Apply `raw` until it is in force, it is found invalid, or another entry is wanted instead.
        A swap that fails for a passing reason (a provider's start() raised) is tried again with
        backoff (0.5 s doubling to 30 s); an invalid entry is logged once, by `apply_routing`, and
        waits for the entry to change."""
        while True:
            if attempt:
                await asyncio.sleep(reconnect_delay(attempt - 1))
            if raw != self._routing_wanted or await self._try_routing(raw, attempt):
                return
            attempt += 1

    async def _try_routing(self, raw: dict[str, Any] | None, attempt: int) -> bool:
        """One try at `apply_routing`: False when it failed for a reason that may pass."""
        try:
            await self.apply_routing(raw)
        except Exception as exc:  # whatever failed may pass: the current configuration stays meanwhile
            log.warning(
                "routing configuration could not be applied; it will be retried",
                extra={"error": type(exc).__name__, "attempt": attempt + 1},
            )
            return False
        return True

    async def apply_routing(self, raw: dict[str, Any] | None) -> bool:
        """Swap in a provider configuration (None: back to the file/environment one). Unchanged
        providers keep their client (pool, breaker); calls in flight finish on the clients they
        started with, which close after the grace period. An invalid entry changes nothing and
        returns False; a provider that fails to start changes nothing and raises (a retry may work)."""
        async with self._swap_lock:
            try:
                config = self.base_config if raw is None else config_from_mapping(raw, self.settings, "routing")
            except ConfigError as exc:
                log.error("routing configuration refused; the current one stays", extra={"error": str(exc)})
                return False
            old = self.clients
            clients = await self._clients_for(config)
            self.config, self.clients = config, clients
            self.orchestrator.swap(self._router(config, clients), clients)
            retired = [client for name, client in old.items() if clients.get(name) is not client]
            if retired:
                self._keep(asyncio.create_task(self._retire(retired, self.settings.provider_swap_grace)))
            source = "database" if raw is not None else "file or environment"
            log.info(
                "provider configuration replaced",
                extra={"providers": list(clients), "retired": [c.name for c in retired], "source": source},
            )
            return True

    async def _clients_for(self, config: GatewayConfig) -> dict[str, AIClient]:
        """A started client per provider of `config`, reusing the current one of an unchanged provider.
        If one fails to start, those started here are closed again and the error is raised."""
        current = {p.name: p for p in self.config.providers}
        clients: dict[str, AIClient] = {}
        started: list[AIClient] = []
        try:
            for provider in config.providers:
                if current.get(provider.name) == provider and provider.name in self.clients:
                    clients[provider.name] = self.clients[provider.name]
                    continue
                client = self._client(provider)
                started.append(client)
                await client.provider.start()
                clients[provider.name] = client
                self._learn_secret(provider)
        except BaseException:
            for client in started:
                with contextlib.suppress(Exception):
                    await client.provider.close()
            raise
        return clients

    def _learn_secret(self, provider: ProviderConfigBase) -> None:
        resolve = getattr(provider, "resolved_api_key", None)
        key = resolve() if resolve else None
        if key:
            self.telemetry.redactor.add_secret(key)
        if key and self.secret_sink is not None:
            self.secret_sink(key)

    async def _retire(self, clients: list[AIClient], grace: float) -> None:
        try:
            await asyncio.sleep(grace)
        finally:
            for client in clients:
                await client.provider.close()

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self.ready = False
        for task in list(self._tasks):
            task.cancel()  # a swap in progress stops; retiring clients close now
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.cache.close()
        if self._task_services is not None:
            await self._task_services.close()
        await self.costs.close()
        await self.spend.close()
        await self.telemetry.close()
        await self.sync.close()
        for client in self.clients.values():
            await client.provider.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.close()


def _budget_caps(policy: PolicyConfig) -> tuple[float | None, ...]:
    return (policy.budget_daily, policy.budget_monthly, policy.budget_user_daily, policy.budget_user_monthly)

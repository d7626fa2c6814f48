"""Gateway: builds and owns everything one gateway process runs (providers, clients, router,
orchestrator, control plane, traces, metrics) from its settings and configuration."""

from __future__ import annotations

import asyncio
import logging

from aigw.breaker import BreakerState, CircuitBreaker
from aigw.client import AIClient
from aigw.config import GatewayConfig, ProviderConfigBase
from aigw.configfile import load_config
from aigw.control.service import ControlPlane
from aigw.control.state import ControlState
from aigw.control.sync import ControlSync
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import TraceStore
from aigw.orchestrator import Orchestrator
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import InProcessBudgetLedger, RedisBudgetLedger
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl
from aigw.policy.engine import PolicyEngine
from aigw.policy.ratelimit import InProcessRateLimiter, RedisRateLimiter
from aigw.providers.registry import build_provider
from aigw.retry import RetryPolicy
from aigw.routing import Router
from aigw.settings import Settings, load_settings
from aigw.store.changes import ChangeBus
from aigw.store.database import Database
from aigw.store.redis import connect_redis
from aigw.store.spend import SpendWriter

log = logging.getLogger("aigw")


class Gateway:
    def __init__(self, settings: Settings, config: GatewayConfig) -> None:
        self.settings = settings
        self.config = config
        self.metrics = GatewayMetrics(enabled=settings.metrics_enabled)
        self.traces = TraceStore(settings.trace_buffer_size)
        self.clients = {p.name: self._client(p) for p in config.providers}
        capabilities = {name: c.provider.get_capabilities() for name, c in self.clients.items()}
        router = Router(
            config,
            capabilities,
            fallback_enabled=settings.fallback_enabled,
            fallback_order=lambda: self.control.policy.fallback_order,
        )
        self.database = Database(settings.effective_database_url)
        self.redis = connect_redis(settings.redis_url) if settings.redis_url else None
        self.control = ControlState.from_settings(settings)
        self.sync = ControlSync(
            self.control, settings, self.database, ChangeBus(self.database, self.redis), on_change=self._control_changed
        )
        self._budget_caps: tuple[float | None, ...] = ()
        self._seeding: asyncio.Task[None] | None = None
        self.plane = ControlPlane(self.database, ChangeBus(self.database, self.redis))
        limiter = RedisRateLimiter(self.redis) if self.redis is not None else InProcessRateLimiter()
        self.policy = PolicyEngine(limiter, lambda: self.control.policy)
        ledger = RedisBudgetLedger(self.redis) if self.redis is not None else InProcessBudgetLedger()
        self.spend = SpendWriter(self.database, settings.state_dir / "spend-spool.jsonl")
        alerts = BudgetAlerts(self.metrics, lambda: self.control.policy.alert_webhook_url)
        self.costs = CostControl(ledger, lambda: self.control.policy, self.metrics, alerts, self.spend)
        self.orchestrator = Orchestrator(
            router, self.clients, self.metrics, flags=lambda: self.control.flags, policy=self.policy, costs=self.costs
        )
        self.ready = False

    @classmethod
    def from_environment(cls) -> Gateway:
        settings = load_settings()
        return cls(settings, load_config(settings))

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
        found = [s.get_secret_value() for s in (self.settings.master_key, self.settings.openai_api_key) if s]
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
        self.spend.start()
        await self.spend.flush()  # spend spooled by an earlier run reaches the database first
        await self.seed_budgets()
        self.ready = True

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

    def _control_changed(self, state: ControlState) -> None:
        """A budget cap set or changed while running starts from what was already spent this period."""
        if (
            _budget_caps(state.policy) != self._budget_caps
            and self.ready
            and (self._seeding is None or self._seeding.done())
        ):
            self._seeding = asyncio.create_task(self.seed_budgets())

    async def close(self) -> None:
        self.ready = False
        await self.costs.close()
        await self.spend.close()
        await self.sync.close()
        for client in self.clients.values():
            await client.provider.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.close()


def _budget_caps(policy: PolicyConfig) -> tuple[float | None, ...]:
    return (policy.budget_daily, policy.budget_monthly, policy.budget_user_daily, policy.budget_user_monthly)

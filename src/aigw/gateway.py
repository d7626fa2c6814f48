"""Gateway: builds and owns everything one gateway process runs (providers, clients, router,
orchestrator, control plane, traces, metrics) from its settings and configuration."""

from __future__ import annotations

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
from aigw.policy.engine import PolicyEngine
from aigw.policy.ratelimit import InProcessRateLimiter, RedisRateLimiter
from aigw.providers.registry import build_provider
from aigw.retry import RetryPolicy
from aigw.routing import Router
from aigw.settings import Settings, load_settings
from aigw.store.changes import ChangeBus
from aigw.store.database import Database
from aigw.store.redis import connect_redis


class Gateway:
    def __init__(self, settings: Settings, config: GatewayConfig) -> None:
        self.settings = settings
        self.config = config
        self.metrics = GatewayMetrics(enabled=settings.metrics_enabled)
        self.traces = TraceStore(settings.trace_buffer_size)
        self.clients = {p.name: self._client(p) for p in config.providers}
        capabilities = {name: c.provider.get_capabilities() for name, c in self.clients.items()}
        router = Router(config, capabilities, fallback_enabled=settings.fallback_enabled)
        self.database = Database(settings.effective_database_url)
        self.redis = connect_redis(settings.redis_url) if settings.redis_url else None
        self.control = ControlState.from_settings(settings)
        self.sync = ControlSync(self.control, settings, self.database, ChangeBus(self.database, self.redis))
        self.plane = ControlPlane(self.database, ChangeBus(self.database, self.redis))
        limiter = RedisRateLimiter(self.redis) if self.redis is not None else InProcessRateLimiter()
        self.policy = PolicyEngine(limiter, lambda: self.control.policy)
        self.orchestrator = Orchestrator(
            router, self.clients, self.metrics, flags=lambda: self.control.flags, policy=self.policy
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
        self.ready = True

    async def close(self) -> None:
        self.ready = False
        await self.sync.close()
        for client in self.clients.values():
            await client.provider.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.close()

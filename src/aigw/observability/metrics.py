"""Prometheus metrics. With several worker processes (PROMETHEUS_MULTIPROC_DIR set) every
worker writes its own files and `/metrics` merges them, so any worker answers for all.

A label value that callers can choose or multiply (the model asked for, a budget scope named
after a key) is bounded twice: cut to `MAX_LABEL_LENGTH` characters, and past
`MAX_LABEL_VALUES` distinct values per label the new ones all count as "other". Every series
lives for the life of the process, in memory and on every scrape; labels set only by our code
(endpoints, outcomes, providers from the config) need no bound.

Background workers (the trace writer, the spend ledger, budget settles) keep their counts as plain
integers and import no metrics; `watch` registers a reader of one count and `sync_background`,
run before every scrape and every few seconds by the gateway (a scrape reaches one worker, and
each worker publishes its own counts), adds what each count grew by since the last look."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
MAX_LABEL_VALUES = 200
MAX_LABEL_LENGTH = 64
OTHER_LABEL = "other"
CIRCUIT_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}


class GatewayMetrics:
    """The gateway's collectors. One instance per app; `enabled=False` makes every call a no-op."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._label_values: dict[str, set[str]] = {}
        r = self.registry
        self.requests = Counter("aigw_requests", "HTTP requests answered", ["endpoint", "status"], registry=r)
        self.request_seconds = Histogram(
            "aigw_request_duration_seconds",
            "Time to answer a request",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "aigw_requests_in_flight", "Requests being answered", registry=r, multiprocess_mode="livesum"
        )
        self.upstream = Counter(
            "aigw_upstream_attempts", "Calls to providers by outcome", ["provider", "outcome"], registry=r
        )
        self.upstream_seconds = Histogram(
            "aigw_upstream_duration_seconds",
            "Provider call time (to head)",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "aigw_upstream_retries", "Retries after a failed provider call", ["provider"], registry=r
        )
        self.fallbacks = Counter(
            "aigw_fallbacks",
            "Requests served by a later deployment than the first",
            ["from_provider", "to_provider"],
            registry=r,
        )
        self.tokens = Counter(
            "aigw_tokens", "Tokens used, by provider, model and kind", ["provider", "model", "kind"], registry=r
        )
        self.cost = Counter("aigw_cost_usd", "Money spent on provider calls, USD", ["provider", "model"], registry=r)
        self.budget_refusals = Counter(
            "aigw_budget_refusals", "Calls refused because a budget would pass its cap", ["scope"], registry=r
        )
        self.budget_alerts = Counter(
            "aigw_budget_alerts",
            "Budget thresholds crossed (once per scope, period and threshold across replicas)",
            ["scope", "threshold"],
            registry=r,
        )
        self.policy_degraded = Counter(
            "aigw_policy_store_errors",
            "Rate-limit or budget store unreachable; the request was admitted or refused per policy",
            ["store"],
            registry=r,
        )
        self.pii_findings = Counter(
            "aigw_pii_findings",
            "Personal data or secrets found in requests (masked, restored or blocked)",
            ["type"],
            registry=r,
        )
        self.cache = Counter(
            "aigw_cache_requests",
            "Response cache lookups by kind (chat, embeddings, task) and result (hit, miss, bypass)",
            ["kind", "result"],
            registry=r,
        )
        self.circuit_state = Gauge(
            "aigw_circuit_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open",
            ["provider"],
            registry=r,
            multiprocess_mode="livemax",
        )

        self.traces_written = Counter(
            "aigw_traces_written", "Traces stored in the database (sampled, or always kept)", registry=r
        )
        self.traces_sampled_out = Counter(
            "aigw_traces_sampled_out", "Successful calls counted in the rollups but not stored", registry=r
        )
        self.traces_dropped = Counter(
            "aigw_traces_dropped",
            "Traces lost: queue_full (the writer's queue), database_unavailable, database_busy, otel_queue_full",
            ["reason"],
            registry=r,
        )
        self.trace_queue = Gauge(
            "aigw_trace_queue", "Finished traces waiting for the writer", registry=r, multiprocess_mode="livesum"
        )
        self.spend_records = Counter(
            "aigw_spend_records",
            "Spend ledger records by outcome: spooled (database away), rejected (refused for their data)",
            ["outcome"],
            registry=r,
        )
        self.settle_batches = Counter(
            "aigw_budget_settles",
            "Budget settles not delivered: failed_batches (retried), abandoned (at shutdown)",
            ["outcome"],
            registry=r,
        )
        self._watched: list[tuple[Any, Callable[[], int], list[int]]] = []
        self._gauges: list[tuple[Any, Callable[[], int]]] = []

    def watch(self, counter: Any, read: Callable[[], int]) -> None:
        """Publish the count `read()` returns (a background worker's integer) through `counter`."""
        self._watched.append((counter, read, [0]))

    def watch_gauge(self, gauge: Any, read: Callable[[], int]) -> None:
        self._gauges.append((gauge, read))

    def sync_background(self) -> None:
        """Add to each watched counter what its count grew by since the last call."""
        if not self.enabled:
            return
        for counter, read, last in self._watched:
            value = read()
            if value > last[0]:
                counter.inc(value - last[0])
            last[0] = value
        for gauge, read_gauge in self._gauges:
            gauge.set(read_gauge())

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered: the lookup costs more than the increment."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def _bounded(self, family: str, value: str) -> str:
        """`value` for a caller-influenced label (`family` names it): cut, and "other" past the bound."""
        known = self._label_values.setdefault(family, set())
        if value in known:
            return value
        value = value[:MAX_LABEL_LENGTH]
        if value in known or len(known) < MAX_LABEL_VALUES:
            known.add(value)
            return value
        return OTHER_LABEL

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        if self.enabled:
            self._child(self.requests, endpoint, str(status)).inc()
            self._child(self.request_seconds, endpoint).observe(seconds)

    def observe_attempt(self, provider: str, outcome: str, seconds: float) -> None:
        if self.enabled:
            self._child(self.upstream, provider, outcome).inc()
            self._child(self.upstream_seconds, provider).observe(seconds)

    def observe_retry(self, provider: str) -> None:
        if self.enabled:
            self._child(self.retries, provider).inc()

    def observe_fallback(self, from_provider: str, to_provider: str) -> None:
        if self.enabled:
            self._child(self.fallbacks, from_provider, to_provider).inc()

    def observe_tokens(self, provider: str, model: str, prompt: int, completion: int) -> None:
        if self.enabled:
            model = self._bounded("model", model)
            if prompt:
                self._child(self.tokens, provider, model, "prompt").inc(prompt)
            if completion:
                self._child(self.tokens, provider, model, "completion").inc(completion)

    def observe_cost(self, provider: str, model: str, usd: float) -> None:
        if self.enabled and usd > 0:
            self._child(self.cost, provider, self._bounded("model", model)).inc(usd)

    def observe_budget_refusal(self, scope: str) -> None:
        if self.enabled:
            self._child(self.budget_refusals, self._bounded("refused_scope", scope)).inc()

    def observe_budget_alert(self, scope: str, threshold: float) -> None:
        if self.enabled:
            self._child(self.budget_alerts, self._bounded("alert_scope", scope), f"{threshold:g}").inc()

    def observe_policy_store_error(self, store: str) -> None:
        if self.enabled:
            self._child(self.policy_degraded, store).inc()

    def observe_pii(self, counts: dict[str, int]) -> None:
        if self.enabled:
            for kind, n in counts.items():
                self._child(self.pii_findings, self._bounded("pii_type", kind)).inc(n)

    def observe_cache(self, kind: str, result: str) -> None:
        if self.enabled:
            self._child(self.cache, kind, result).inc()

    def set_circuit_state(self, provider: str, state: str) -> None:
        if self.enabled:
            self.circuit_state.labels(provider).set(CIRCUIT_STATE_VALUES.get(state, 0))

    def exposition(self) -> bytes:
        self.sync_background()
        if self.multiprocess:
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)

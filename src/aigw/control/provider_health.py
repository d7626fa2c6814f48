"""Provider health for the admin panel: breaker state, calls, error rate and latency, and a check.

Figures cover the last `WINDOW_MINUTES` minutes and come from the persisted rollups (every
replica's traffic, `aigw.store.traces`) when they hold any for the provider; otherwise (the
trace store is off, or the database is away) from this process: the breaker's own window for
calls and failures, and its Prometheus histogram for latency (since the process started). Each
provider says which (`source`: `rollups` or `process`).

`check()` makes one cheap call straight to the provider (a chat completion of one output token,
or an embedding of one word for an embeddings-only provider) within `CHECK_TIMEOUT_S`. It goes
around `AIClient` on purpose: an operator's probe neither opens nor closes the circuit, nor
counts in the request metrics; the breaker keeps judging real traffic, and the probe only tells
the operator whether the provider answers now.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from aigw.client import AIClient
from aigw.errors import ProviderError
from aigw.observability.metrics import GatewayMetrics
from aigw.store.database import Database
from aigw.store.traces.histogram import percentile, round_ms
from aigw.store.traces.tables import UPSTREAM_COLUMNS, rollups
from aigw.types import ChatRequest, ChatStream, EmbeddingRequest, TaskKind

log = logging.getLogger("aigw.admin")
WINDOW_MINUTES = 5
CHECK_TIMEOUT_S = 5.0
_CHECK_MODEL = "gpt-4o-mini"


async def rollup_window(
    database: Database, minutes: int = WINDOW_MINUTES, now: dt.datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Calls, errors and upstream p50/p95 per provider over the last `minutes`, from the rollups."""
    end = int((now or dt.datetime.now(dt.UTC)).timestamp() // 60)
    columns = [func.sum(rollups.c.requests), func.sum(rollups.c.errors)]
    columns += [func.sum(rollups.c[name]) for name in UPSTREAM_COLUMNS]
    statement = (
        select(rollups.c.provider, *columns)
        .where(rollups.c.minute > end - minutes, rollups.c.minute <= end)
        .group_by(rollups.c.provider)
    )
    async with database.sessions() as session:
        rows = (await session.execute(statement)).all()
    found = {}
    for provider, calls, errors, *buckets in rows:
        counts = [int(b or 0) for b in buckets]
        found[provider] = _figures(int(calls or 0), int(errors or 0), counts, lambda q, c=counts: percentile(c, q))
    return found


def process_window(client: AIClient, metrics: GatewayMetrics) -> dict[str, Any]:
    """The same figures from this process alone: the breaker's window, the latency histogram."""
    snapshot = client.breaker.snapshot()
    bounds, counts = _histogram(metrics, client.name)
    return _figures(
        snapshot["window_calls"], snapshot["window_failures"], counts, lambda q: _prometheus_quantile(bounds, counts, q)
    )


async def provider_health(
    clients: Mapping[str, AIClient], metrics: GatewayMetrics, database: Database
) -> list[dict[str, Any]]:
    """One entry per configured provider, in configuration order."""
    try:
        persisted = await rollup_window(database)
    except Exception as exc:  # the database is away: this process's own figures still help
        log.warning("provider health read from this process only", extra={"error": type(exc).__name__})
        persisted = {}
    shown = []
    for name, client in clients.items():
        recent = persisted.get(name)
        source = "rollups" if recent and recent["calls"] else "process"
        figures = recent if source == "rollups" else process_window(client, metrics)
        shown.append(
            {
                "name": name,
                "type": client.provider.type_name,
                "available": client.is_available(),
                "circuit": client.breaker.snapshot(),
                "window_minutes": WINDOW_MINUTES,
                "source": source,
                **(figures or {}),
            }
        )
    return shown


async def check(client: AIClient, default_model: str | None) -> dict[str, Any]:
    """One cheap call to the provider (see the module docstring); never raises for its failure."""
    capabilities = client.capabilities
    model = capabilities.models[0] if capabilities.models else default_model or _CHECK_MODEL
    request: ChatRequest | EmbeddingRequest
    if TaskKind.CHAT in capabilities.tasks:
        request = ChatRequest(model, [{"role": "user", "content": "ping"}], {"max_tokens": 1})
    else:
        request = EmbeddingRequest(model, ["ping"])
    started = time.perf_counter()
    outcome: dict[str, Any] = {"provider": client.name, "model": model, "task": request.kind.value}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            answer = await client.provider.execute_task(request)
            if isinstance(answer, ChatStream):  # the head was enough
                await answer.aclose()
        outcome.update(ok=True, error=None)
    except TimeoutError:
        outcome.update(ok=False, error=f"no answer within {CHECK_TIMEOUT_S:g} s")
    except ProviderError as exc:
        outcome.update(ok=False, error=_describe(exc))
    outcome["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return outcome


def _describe(error: ProviderError) -> str:
    status = getattr(error, "status", None)
    kind = type(error).__name__
    return f"{kind} (HTTP {status})" if status else kind


def _figures(calls: int, errors: int, counts: list[int], quantile: Any) -> dict[str, Any]:
    return {
        "calls": calls,
        "errors": errors,
        "error_rate": round(errors / calls, 4) if calls else None,
        "latency_ms": {"p50": round_ms(quantile(0.5)), "p95": round_ms(quantile(0.95))},
    }


def _histogram(metrics: GatewayMetrics, provider: str) -> tuple[list[float], list[int]]:
    """Upper bounds (ms) and per-bucket counts of this process's upstream latency for `provider`."""
    cumulative: list[tuple[float, int]] = []
    for family in metrics.upstream_seconds.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("provider") == provider:
                cumulative.append((float(sample.labels["le"]) * 1000, int(sample.value)))
    cumulative.sort()
    bounds = [bound for bound, _ in cumulative]
    counts = [total - (cumulative[i - 1][1] if i else 0) for i, (_, total) in enumerate(cumulative)]
    return bounds, counts


def _prometheus_quantile(bounds: list[float], counts: list[int], quantile: float) -> float | None:
    """As Prometheus' histogram_quantile: linear inside the bucket; the +Inf bucket answers its lower bound."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = quantile * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            lower = bounds[index - 1] if index else 0.0
            upper = bounds[index]
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return None

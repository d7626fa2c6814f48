"""Budget alerts: a scope reached 80 % or 100 % of its cap. Logged, counted and POSTed to a webhook.

The ledgers report each crossing once per scope, period and threshold across every replica, so
an alert here is never a duplicate of another replica's. The webhook is called in the background
with a short timeout; a webhook that fails is logged, never retried into the request path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable

import aiohttp

from aigw.observability.metrics import GatewayMetrics
from aigw.policy.budget import ThresholdCrossed

log = logging.getLogger("aigw.budget")
WEBHOOK_TIMEOUT_S = 5.0


class BudgetAlerts:
    def __init__(self, metrics: GatewayMetrics, webhook_url: Callable[[], str | None]) -> None:
        self.metrics = metrics
        self._webhook_url = webhook_url
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent: list[dict[str, object]] = []  # the last alerts, newest last (bounded), for the admin API

    def notify(self, crossings: Iterable[ThresholdCrossed]) -> None:
        for crossing in crossings:
            payload = alert_payload(crossing)
            level = logging.ERROR if crossing.threshold >= 1.0 else logging.WARNING
            log.log(level, "budget threshold reached", extra=payload)
            self.metrics.observe_budget_alert(crossing.scope.name, crossing.threshold)
            self.sent = [*self.sent[-99:], payload]
            url = self._webhook_url()
            if url:
                task = asyncio.create_task(self._post(url, payload))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let alerts being sent finish (each is bounded by its timeout)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _post(self, url: str, payload: dict[str, object]) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(url, json=payload) as answer:
                if answer.status >= 400:
                    log.warning("budget alert webhook refused the alert", extra={"status": answer.status})
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("budget alert webhook unreachable", extra={"error": type(exc).__name__})


def alert_payload(crossing: ThresholdCrossed) -> dict[str, object]:
    scope = crossing.scope
    return {
        "event": "budget_threshold",
        "scope": scope.name,
        "period": scope.period,
        "threshold": crossing.threshold,
        "percent": round(crossing.threshold * 100),
        "spent_usd": crossing.spent_usd,
        "cap_usd": crossing.cap_usd,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }

"""What one gateway process does with finished traces and its background counts: the trace writer
and its retention job (`aigw.store.traces`), the optional OpenTelemetry export
(`observability.otel`), and the Prometheus counters of background work.

The database is the one place traces are read from (the admin API), whichever worker or replica
wrote them; there is no in-process copy. `AI_TRACING_ENABLED=false` builds no writer and no
export: the retention job still runs, so rows written before are still deleted on time.

Background counts (traces written, sampled out or dropped by reason; spend records spooled or
rejected; budget settle batches failed or abandoned) stay plain integers in their owners, which
import no metrics; they are published by `GatewayMetrics.watch` (`sync_background`), here every
`SYNC_INTERVAL` seconds and before each scrape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from aigw.observability.metrics import GatewayMetrics
from aigw.observability.otel import OtelExport, ProviderEndpoint, otel_endpoint
from aigw.observability.redact import LogRedactor
from aigw.policy.cost_control import CostControl
from aigw.settings import Settings, SettingsError
from aigw.store.database import Database
from aigw.store.spend import SpendWriter
from aigw.store.traces import RetentionJob, TraceSettings, TraceWriter

__all__ = ["SYNC_INTERVAL", "Telemetry"]

log = logging.getLogger("aigw")
SYNC_INTERVAL = 5.0


class Telemetry:
    """Builds, starts and closes the trace writer, retention and OTel export of one process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        metrics: GatewayMetrics,
        providers: Callable[[str], ProviderEndpoint | None],
        secrets: list[str],
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        trace_settings = TraceSettings.of(settings)
        self.metrics = metrics
        self.redactor = LogRedactor(secrets)  # previews are scrubbed like log lines, known secrets first
        self.writer = TraceWriter(database, trace_settings, scrub=self.redactor) if settings.tracing_enabled else None
        self.retention = RetentionJob(database, trace_settings)
        self.otel = _otel(providers, environ) if settings.tracing_enabled else None
        self._sync: asyncio.Task[None] | None = None

    def watch(self, spend: SpendWriter, costs: CostControl) -> None:
        """Publish the background counts of the writers as Prometheus counters."""
        metrics = self.metrics
        if self.writer is not None:
            writer = self.writer
            metrics.watch(metrics.traces_written, lambda: writer.written)
            metrics.watch(metrics.traces_sampled_out, lambda: writer.sampled_out)
            metrics.watch(metrics.traces_dropped.labels("queue_full"), lambda: writer.dropped_full)
            metrics.watch(metrics.traces_dropped.labels("database_unavailable"), lambda: writer.dropped_unavailable)
            metrics.watch(metrics.traces_dropped.labels("database_busy"), lambda: writer.dropped_busy)
            metrics.watch_gauge(metrics.trace_queue, lambda: writer.pending)
        if self.otel is not None:
            otel = self.otel
            metrics.watch(metrics.traces_dropped.labels("otel_queue_full"), lambda: otel.dropped)
        metrics.watch(metrics.spend_records.labels("spooled"), lambda: spend.spooled)
        metrics.watch(metrics.spend_records.labels("rejected"), lambda: spend.rejected)
        metrics.watch(metrics.settle_batches.labels("failed_batches"), lambda: costs.settles.failed_batches)
        metrics.watch(metrics.settle_batches.labels("abandoned"), lambda: costs.settles.abandoned)

    def start(self) -> None:
        if self.writer is not None:
            self.writer.start()
        self.retention.start()
        if self.otel is not None:
            self.otel.start()
        if self._sync is None:
            self._sync = asyncio.create_task(self._sync_metrics())

    async def close(self) -> None:
        """Stop the loops and write what waits (before the database closes)."""
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync
            self._sync = None
        await self.retention.close()
        if self.writer is not None:
            await self.writer.close()
        if self.otel is not None:
            await self.otel.close()
        self.metrics.sync_background()

    async def _sync_metrics(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL)
            self.metrics.sync_background()


def provider_endpoint(kind: str, base_url: str | None) -> ProviderEndpoint:
    """The conventions' view of a provider: its kind, and the host and port of its base URL."""
    if not base_url:
        return ProviderEndpoint(kind)
    parts = urlsplit(base_url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return ProviderEndpoint(kind, parts.hostname, port)


def _otel(providers: Callable[[str], ProviderEndpoint | None], environ: Mapping[str, str]) -> OtelExport | None:
    endpoint = otel_endpoint(environ)
    if endpoint is None:
        return None
    try:
        export = OtelExport(providers)
    except ImportError:
        raise SettingsError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry is not installed: pip install 'aigw[otel]'"
        ) from None
    log.info("OpenTelemetry export on", extra={"endpoint": urlsplit(endpoint).netloc})
    return export

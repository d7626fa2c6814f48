"""Settings of persisted traces (`AI_TRACE_*`), until they join `aigw.settings.Settings`.

Defaults and why:
- `AI_TRACE_SAMPLE_RATE=1.0`: every successful call is stored. The request path pays the same
  whatever the rate (one append to a queue: sampling and the rows are made by the background
  flush), so the rate trades database size and flush CPU, not latency; lower it on busy
  gateways. Errors, fallbacks and refusals are always kept, and the dashboard's rollups count
  every request whatever the rate.
- `AI_TRACE_RETENTION_DAYS=7`: the dashboard's longest window.
- `AI_TRACE_PAYLOADS=masked`: a masked, truncated preview of prompt and answer is kept (what
  PII masking sent upstream, scrubbed again by the log redactor); `off` keeps none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TraceSettings"]


class TraceSettings(BaseSettings):
    """How traces are kept in the database. Read from `AI_TRACE_*`."""

    model_config = SettingsConfigDict(env_prefix="AI_TRACE_", extra="ignore", case_sensitive=False)

    sample_rate: float = Field(1.0, ge=0.0, le=1.0)  # of successful calls; the rest are always kept
    retention_days: float = Field(7.0, gt=0, le=3650)
    payloads: Literal["off", "masked"] = "masked"
    preview_chars: int = Field(500, ge=0, le=4000)  # of each masked preview
    queue_size: int = Field(20_000, ge=1, le=1_000_000)  # finished traces waiting; more are dropped
    batch_size: int = Field(500, ge=1, le=10_000)  # traces per flush (a full batch wakes the writer)
    flush_interval: float = Field(1.0, gt=0, le=60)  # seconds between flushes
    write_timeout: float = Field(5.0, gt=0, le=300)  # one flush's database time; past it the batch is dropped
    retention_interval: float = Field(600.0, gt=0, le=86_400)  # seconds between retention runs
    retention_batch: int = Field(500, ge=1, le=100_000)  # rows per DELETE

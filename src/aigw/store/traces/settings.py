"""Settings of persisted traces (`AI_TRACE_*`), until they join `aigw.settings.Settings`.

Defaults and why (costs measured by `scripts/bench_traces.py`, against ~460 us of gateway CPU
per chat request in docs/benchmarks.md, so the 5 % budget is ~23 us per request):
- `AI_TRACE_SAMPLE_RATE=0.1` of successful calls is stored. The request path pays the same
  whatever the rate (one append, ~0.5 us); the background flush pays ~8 us per request for the
  rollups (every request is counted, whatever the rate) and ~50 us per stored trace, plus
  ~70 us for its two scrubbed previews: at 0.1, ~20 us per request (about 4 %); at 1.0, ~125 us
  (about 27 %). Errors, fallbacks and refusals are always kept, and the dashboard's rollups
  count every request whatever the rate.
- `AI_TRACE_RETENTION_DAYS=7`: the dashboard's longest window.
- `AI_TRACE_PAYLOADS=masked`: a masked preview of prompt and answer, `AI_TRACE_PREVIEW_CHARS`
  (200) characters each, is kept: what PII masking sent upstream, scrubbed again by the log
  redactor (its patterns cost ~0.2 us per character, hence the short preview); `off` keeps none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TraceSettings"]


class TraceSettings(BaseSettings):
    """How traces are kept in the database. Read from `AI_TRACE_*`."""

    model_config = SettingsConfigDict(env_prefix="AI_TRACE_", extra="ignore", case_sensitive=False)

    sample_rate: float = Field(0.1, ge=0.0, le=1.0)  # of successful calls; the rest are always kept
    retention_days: float = Field(7.0, gt=0, le=3650)
    payloads: Literal["off", "masked"] = "masked"
    preview_chars: int = Field(200, ge=0, le=4000)  # of each masked preview
    queue_size: int = Field(20_000, ge=1, le=1_000_000)  # finished traces waiting; more are dropped
    batch_size: int = Field(500, ge=1, le=10_000)  # traces per flush (a full batch wakes the writer)
    flush_interval: float = Field(1.0, gt=0, le=60)  # seconds between flushes
    write_timeout: float = Field(5.0, gt=0, le=300)  # one flush's database time; past it the batch is dropped
    retention_interval: float = Field(600.0, gt=0, le=86_400)  # seconds between retention runs
    retention_batch: int = Field(500, ge=1, le=100_000)  # rows per DELETE

"""Settings of persisted traces: the `AI_TRACE_*` fields of `aigw.settings.Settings`, without the prefix.

The environment is read once, by `Settings` (bounds checked there, a bad value fails the start);
`TraceSettings.of(settings)` hands the writer and the retention job their part, and
`TraceSettings(...)` with keywords serves tests and benchmarks. Defaults are `Settings`' own, so
they are written once.

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

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aigw.settings import Settings

__all__ = ["TraceSettings"]

_PREFIX = "trace_"


def _default(name: str) -> Any:
    return Settings.model_fields[_PREFIX + name].default


class TraceSettings(BaseModel):
    """How traces are kept in the database (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_rate: float = _default("sample_rate")
    retention_days: float = _default("retention_days")
    payloads: Literal["off", "masked"] = _default("payloads")
    preview_chars: int = _default("preview_chars")
    queue_size: int = _default("queue_size")
    batch_size: int = _default("batch_size")
    flush_interval: float = _default("flush_interval")
    write_timeout: float = _default("write_timeout")
    retention_interval: float = _default("retention_interval")
    retention_batch: int = _default("retention_batch")

    @classmethod
    def of(cls, settings: Settings) -> TraceSettings:
        """The `trace_*` part of the process settings."""
        return cls(**{name: getattr(settings, _PREFIX + name) for name in cls.model_fields})

    @property
    def previews(self) -> bool:
        """Whether masked previews are kept (and so worth making on the request path)."""
        return self.payloads == "masked" and self.preview_chars > 0

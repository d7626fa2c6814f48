"""From a finished `Trace` to what the store keeps: facts for the rollups, and a row when kept.

Runs in the writer's background flush, never on the request path. Reads the trace attributes
named in `ATTRIBUTES` (set by the middleware and the pipeline); anything else in `attrs` goes to
the row's `attributes` JSON. Every value may come from a caller (a model name, a user), so each
is checked for its type, cut to its column (`tables.LENGTHS`), and stripped of NUL characters,
which PostgreSQL refuses in text: a row is never refused for its data, so one odd request cannot
cost its whole batch.

Classes of outcome (what the dashboard counts and sampling always keeps):
- refusal: the gateway said no to the caller, HTTP 4xx except 499 (the client went away); the
  reason is the error code (`rate_limit_exceeded`, `budget_exceeded`, `invalid_api_key`...);
- error: HTTP 5xx, a failure on our or the upstream's side;
- fallback: served by another provider than the first (`fallback_from`) or by a local fallback
  (`served_by` other than `provider` or `cache`).

Sampling is decided by a hash of the request id, not a random draw, so every replica (and a
retry of the same id) decides the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson

from aigw.observability.tracing import Trace
from aigw.store.traces.tables import LENGTHS

__all__ = ["ATTRIBUTES", "Facts", "facts_of", "must_keep", "row_of", "sampled"]

ATTRIBUTES = frozenset(
    {
        "http_status",
        "endpoint",
        "method",
        "key_id",
        "user",
        "model",
        "provider",
        "deployment",
        "served_by",
        "cache",
        "fallback_from",
        "error_code",
        "latency_ms",  # the whole request as the middleware timed it (else: the trace's spans)
        "upstream_ms",  # the provider's time (CallInfo.latency_ms)
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "pii",  # counts per type
    }
)
MAX_SPANS_JSON = 32_768  # characters of a row's spans; later spans are dropped and counted
MAX_ATTRIBUTES_JSON = 8_192
_CLIENT_CLOSED = 499
_PRIMARY_SERVERS = frozenset({"", "provider", "cache"})
_MAX_NUMBER = 1e15  # beyond any real latency, token count or cost: a bogus value is clamped


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much, per request
class Facts:
    """What the rollups and the sampling decision need, read cheaply from a finished trace."""

    minute: int
    provider: str
    model: str
    http_status: int
    error: bool
    refusal_reason: str | None
    fallback: bool
    cache_hit: bool
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    upstream_ms: float | None

    @property
    def added_ms(self) -> float:
        """What the gateway added to the provider's time."""
        return max(self.latency_ms - (self.upstream_ms or 0.0), 0.0)


def facts_of(trace: Trace) -> Facts:
    attrs = trace.attrs
    status = _int(attrs.get("http_status")) or (500 if trace.status == "error" else 200)
    refused = 400 <= status < 500 and status != _CLIENT_CLOSED
    served_by = _text(attrs.get("served_by"), "served_by") or ""
    latency = _number(attrs.get("latency_ms"))
    return Facts(
        minute=int(trace.started_at // 60),
        provider=_text(attrs.get("provider"), "provider") or _last_attempted(trace),
        model=_text(attrs.get("model"), "model") or "",
        http_status=status,
        error=status >= 500,
        refusal_reason=(_text(attrs.get("error_code"), "reason") or f"http_{status}") if refused else None,
        fallback=bool(attrs.get("fallback_from")) or served_by not in _PRIMARY_SERVERS,
        cache_hit=attrs.get("cache") == "hit",
        prompt_tokens=int(_number(attrs.get("prompt_tokens")) or 0),
        completion_tokens=int(_number(attrs.get("completion_tokens")) or 0),
        cost_usd=_number(attrs.get("cost_usd")) or 0.0,
        latency_ms=latency if latency is not None else trace.duration_ms,
        upstream_ms=_number(attrs.get("upstream_ms")),
    )


def _last_attempted(trace: Trace) -> str:
    """A request that failed on every provider names none: its error belongs to the last one tried
    (else the panel's provider health would show a failing provider without errors)."""
    for span in reversed(trace.spans):
        if span.name == "provider_attempt":
            return _text(span.attrs.get("provider"), "provider") or ""
    return ""


def must_keep(facts: Facts) -> bool:
    """Errors, refusals and fallbacks are kept whatever the sample rate."""
    return facts.error or facts.refusal_reason is not None or facts.fallback or facts.http_status >= 400


def sampled(request_id: str, rate: float) -> bool:
    """Whether a successful call with this id is kept at `rate`: the same answer on every replica."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(request_id.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2**64


def row_of(
    trace: Trace, facts: Facts, previews: tuple[str | None, str | None], scrub: Callable[[str], str]
) -> dict[str, Any]:
    """The `ai_traces` row of a kept trace. `previews` are already masked and cut; `scrub` (the log
    redactor) runs on them once more, as on everything else that leaves the process."""
    trace.bound()  # strings cut, containers shortened: cheap when nothing is large
    attrs = trace.attrs
    prompt, answer = previews
    return {
        "request_id": _text(trace.request_id, "request_id") or "",
        "started_at": dt.datetime.fromtimestamp(trace.started_at, dt.UTC),
        "status": "error" if trace.status != "ok" or facts.http_status >= 400 else "ok",
        "http_status": facts.http_status,
        "endpoint": _text(attrs.get("endpoint"), "endpoint"),
        "method": _text(attrs.get("method"), "method"),
        "key_id": _text(attrs.get("key_id"), "key_id"),
        "user": _text(attrs.get("user"), "user"),
        "model": facts.model or None,
        "provider": facts.provider or None,
        "deployment": _text(attrs.get("deployment"), "deployment"),
        "served_by": _text(attrs.get("served_by"), "served_by"),
        "cache": _text(attrs.get("cache"), "cache"),
        "fallback_from": _text(attrs.get("fallback_from"), "fallback_from"),
        "error_code": _text(attrs.get("error_code"), "error_code"),
        "duration_ms": round(facts.latency_ms, 3),
        "added_latency_ms": round(facts.added_ms, 3),
        "upstream_ms": facts.upstream_ms,
        "prompt_tokens": facts.prompt_tokens,
        "completion_tokens": facts.completion_tokens,
        "cost_usd": facts.cost_usd,
        "pii": _pii_counts(attrs.get("pii")),
        "prompt_preview": _clean(scrub(prompt)) if prompt else None,
        "answer_preview": _clean(scrub(answer)) if answer else None,
        "attributes": _json({k: v for k, v in attrs.items() if k not in ATTRIBUTES}, MAX_ATTRIBUTES_JSON),
        "spans": _spans_json(trace),
    }


def _spans_json(trace: Trace) -> str | None:
    """The spans as JSON, at most `MAX_SPANS_JSON` characters: whole spans are dropped from the end
    (and counted) when they would pass it."""
    if not trace.spans:
        return None
    spans = trace.to_dict()["spans"]  # bounded: `trace.bound()` ran
    if trace.dropped_spans:
        spans.append({"dropped_spans": trace.dropped_spans})
    text = _dumps(spans)
    if len(text) <= MAX_SPANS_JSON:
        return text
    pieces = [_dumps(span) for span in spans]
    kept, size = 0, 2
    while kept < len(pieces) and size + len(pieces[kept]) + 1 <= MAX_SPANS_JSON - 64:
        size += len(pieces[kept]) + 1
        kept += 1
    dropped = len(trace.spans) - kept + trace.dropped_spans
    return "[" + ",".join([*pieces[:kept], _dumps({"dropped_spans": dropped})]) + "]"


def _json(value: dict[str, Any], limit: int) -> str:
    """`value` (bounded) as JSON text of at most `limit` characters, else a marker."""
    text = _dumps(value)
    return text if len(text) <= limit else _dumps({"truncated_chars": len(text)})


def _dumps(value: Any) -> str:
    """JSON text; NaN and infinities become null, anything else unknown its `str`."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer past 64 bits
        return json.dumps(_finite(value), default=str, ensure_ascii=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _pii_counts(value: Any) -> dict[str, int] | None:
    if not isinstance(value, dict) or not value:
        return None
    counts = {}
    for name, count in islice(value.items(), 32):
        number = _int(count)
        if number is not None:
            counts[_clean(str(name))[:32]] = number
    return counts or None


def _text(value: Any, column: str) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return _clean(text[: LENGTHS[column]])


def _clean(text: str) -> str:
    return text.replace("\x00", "") if "\x00" in text else text


def _number(value: Any) -> float | None:
    """A finite number in [0, _MAX_NUMBER], or None for anything else (a bool is no number)."""
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif value is None or kind is bool:
        return None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if 0.0 <= number <= _MAX_NUMBER:  # the usual case; NaN fails it too
        return number
    if not math.isfinite(number):
        return None
    return 0.0 if number < 0 else _MAX_NUMBER


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)

"""The fallback chain every task runs: try its paths in order within one deadline, say why each
skipped path was skipped, answer from the first that answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aigw.catalog.item import Hit
from aigw.errors import ServiceUnavailableError, UpstreamTimeoutError
from aigw.observability.tracing import Trace

LOCAL_RESERVE_S = 0.25  # kept from the deadline for the local paths when the provider path is tried first


class PathSkipped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class ChainResult:
    hits: list[Hit]
    served_by: str
    fallbacks: list[dict[str, str]]


async def run_chain(
    paths: Sequence[str],
    attempt: Callable[[str], Awaitable[list[Hit]]],
    *,
    deadline_s: float,
    trace: Trace,
    task: str,
    fallback_enabled: bool = True,
) -> ChainResult:
    """`attempt(path)` for each path until one answers; raises a 503 or 504 when none does."""
    deadline = time.monotonic() + deadline_s
    fallbacks: list[dict[str, str]] = []
    for i, path in enumerate(paths):
        remaining = deadline - time.monotonic()
        if path == "provider" and i < len(paths) - 1:
            remaining -= LOCAL_RESERVE_S
        if remaining <= 0:
            fallbacks.append({"path": path, "reason": "deadline"})
            continue
        with trace.span(f"{task}.{path}") as span:
            try:
                async with asyncio.timeout(remaining):
                    hits = await attempt(path)
            except PathSkipped as skipped:
                span.fail(skipped.reason)
                fallbacks.append({"path": path, "reason": skipped.reason})
                continue
            except TimeoutError:
                span.fail("timeout")
                fallbacks.append({"path": path, "reason": "timeout"})
                continue
        return ChainResult(hits, path, fallbacks)
    why = ", ".join(f"{f['path']}: {f['reason']}" for f in fallbacks)
    if fallbacks and all(f["reason"] in ("timeout", "deadline") for f in fallbacks):
        raise UpstreamTimeoutError(f"The {task} did not finish within its deadline ({why})")
    hint = "" if fallback_enabled else "; local fallbacks are switched off (AI_FALLBACK_ENABLED)"
    raise ServiceUnavailableError(f"No {task} path could answer ({why}){hint}", code="task_unavailable")

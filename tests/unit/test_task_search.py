"""The semantic search chain's order and the reasons it gives for skipping the provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from aigw.errors import (
    GatewayError,
    RateLimitError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from aigw.tasks.llm_step import skip_reason
from aigw.tasks.search import CatalogTasks


def chain(order: Sequence[str], fallback_enabled: bool = True) -> CatalogTasks:
    unused: Any = None
    return CatalogTasks(
        unused, unused, unused, embedding_model=lambda: "m", order=lambda: order, fallback_enabled=fallback_enabled
    )


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["openai", "local"], ["provider", "local_embeddings", "fuzzy"]),
        (["openai"], ["provider", "local_embeddings", "fuzzy"]),
        ([], ["provider", "local_embeddings", "fuzzy"]),
        (["local", "openai"], ["local_embeddings", "fuzzy", "provider"]),
    ],
)
def test_paths_follow_the_fallback_order(order: list[str], expected: list[str]) -> None:
    assert chain(order).paths() == expected


def test_without_fallbacks_only_the_provider_answers() -> None:
    assert chain(["openai", "local"], fallback_enabled=False).paths() == ["provider"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ServiceUnavailableError("off", code="gateway_disabled"), "flag_off"),
        (ServiceUnavailableError("off", code="task_disabled"), "flag_off"),
        (ServiceUnavailableError("open", code="circuit_open"), "circuit_open"),
        (RateLimitError("cap", code="budget_exceeded"), "budget"),
        (RateLimitError("slow down"), "rate_limited"),
        (UpstreamTimeoutError("late"), "timeout"),
        (UpstreamError("bad"), "provider_error"),
    ],
)
def test_reasons(error: GatewayError, reason: str) -> None:
    assert skip_reason(error) == reason

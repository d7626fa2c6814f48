"""One LLM step of a task (intent extraction, reranking, explanations): a versioned template whose
answer must match a JSON schema, within the time the task has left.

The call goes through the orchestrator like any chat call, so the caller's budgets, token limit,
PII policy and the circuit breaker apply, and the normalizer checks the schema (asking once for a
repair); the caller's request limits counted the task call once (`gateway.run_task`), not each
step. A step that cannot answer raises `StepFailed` with the same reasons the fallback chain gives
(`flag_off`, `circuit_open`, `timeout`, `budget` ...): the task goes on without it and says why.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aigw.errors import GatewayError, RateLimitError, UpstreamTimeoutError
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.caller import Caller
from aigw.types import AIResponse, CallInfo, ChatRequest, TaskKind


class StepFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class JsonStep:
    """A template (`name`, or `name@version`) and the schema its answer must match."""

    template: str
    schema: Mapping[str, Any]
    max_tokens: int = 800


async def ask_json(
    orchestrator: Orchestrator,
    step: JsonStep,
    variables: dict[str, Any],
    *,
    model: str,
    caller: Caller,
    trace: Trace,
    timeout_s: float,
) -> dict[str, Any]:
    """The step's JSON answer (valid under its schema), or StepFailed."""
    if not orchestrator.enabled:
        raise StepFailed("flag_off")
    if timeout_s <= 0.05:
        raise StepFailed("deadline")
    if not orchestrator.serves_meaningfully(model, TaskKind.CHAT):
        raise StepFailed("no_provider")  # only the stub serves it: its answer would mean nothing
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": step.template.partition("@")[0], "schema": dict(step.schema), "strict": False},
    }
    request = ChatRequest(
        model,
        [],
        {"temperature": 0, "max_tokens": step.max_tokens, "response_format": response_format},
        template=step.template,
        variables=variables,
    )
    try:
        async with asyncio.timeout(timeout_s):
            answer = await orchestrator.chat(request, caller, trace, CallInfo(), within_task=True)
    except TimeoutError:
        raise StepFailed("timeout") from None
    except GatewayError as error:
        raise StepFailed(skip_reason(error)) from None
    assert isinstance(answer, AIResponse)
    try:
        document = json.loads(answer.body["choices"][0]["message"]["content"])
    except (KeyError, IndexError, TypeError, json.JSONDecodeError):
        raise StepFailed("invalid_response") from None  # a refusal or a tool call instead of text
    if not isinstance(document, dict):
        raise StepFailed("invalid_response")
    return document


def skip_reason(error: GatewayError) -> str:
    """Why a provider call of a task did not answer, as the task's answer names it."""
    code = error.code or ""
    if code in ("gateway_disabled", "task_disabled"):
        return "flag_off"
    if code == "circuit_open":
        return "circuit_open"
    if code in ("budget_exceeded", "budget_unavailable", "request_cost_too_high"):
        return "budget"
    if code == "invalid_response_format":
        return "invalid_response"
    if code == "pii_detected":
        return "pii_blocked"
    if isinstance(error, RateLimitError):
        return "rate_limited"
    if isinstance(error, UpstreamTimeoutError):
        return "timeout"
    return "provider_error"

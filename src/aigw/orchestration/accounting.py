"""Usage and cost accounting: count a call's tokens, price it, settle its budget hold.

An answer is priced when it arrives. A stream is priced when its usage chunk passes (that chunk
carries the cost, `usage.cost_usd`); cut short or closed before it, the stream is charged the
estimate its hold makes from what it wrote, never less than the worst case held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aigw.observability.metrics import GatewayMetrics
from aigw.orchestration.call import Call
from aigw.policy.cost_control import CostControl, Hold
from aigw.types import AIResponse, CallInfo, ChatStream, Usage

COST_HEADER = "x-aigw-cost-usd"


def format_usd(amount: Decimal) -> str:
    """Cost as plain decimal dollars ("0.000123"), never in exponent form."""
    return f"{amount:f}"


@dataclass(slots=True)
class Accounting:
    costs: CostControl
    metrics: GatewayMetrics

    def answer(self, result: AIResponse, call: Call, hold: Hold) -> None:
        """Price a complete answer (estimated from what it wrote when it reports no usage)."""
        if result.usage is None:
            hold.observe(result.body)  # what it wrote, for the estimate charged without usage
        self.settle(call, result.usage, hold)

    def stream(self, stream: ChatStream, call: Call, hold: Hold) -> ChatStream:
        """The stream, priced on its way (see the module docstring)."""

        async def close() -> None:
            try:
                await stream.aclose()
            finally:
                if not hold.settled:  # closed before it was read through: the worst case is charged
                    self.settle(call, stream.usage, hold)

        return ChatStream(self._relay(stream, call, hold), close=close)

    async def _relay(self, stream: ChatStream, call: Call, hold: Hold) -> AsyncIterator[dict[str, Any]]:
        """Relay the chunks; the usage chunk is priced on its way and carries the cost (`usage.cost_usd`)."""
        try:
            async for chunk in stream:
                hold.observe(chunk)  # what it wrote, for the estimate charged if it is cut before usage
                usage = chunk.get("usage")
                if isinstance(usage, dict) and stream.usage is not None and not hold.settled:
                    cost = self.settle(call, stream.usage, hold)
                    chunk = {**chunk, "usage": {**usage, "cost_usd": float(cost)}}
                yield chunk
        finally:
            if not hold.settled:  # cut short before usage came: charged at the worst case held
                self.settle(call, stream.usage, hold)

    def settle(self, call: Call, usage: Usage | None, hold: Hold) -> Decimal:
        """Count the tokens, price the call, settle its budget hold; the cost goes out as a header."""
        info = call.info
        info.usage = usage
        provider, model = info.provider or "", info.model or ""
        if usage is not None:
            self.metrics.observe_tokens(provider, model, usage.prompt_tokens, usage.completion_tokens)
        billable = call.billable(provider)
        cost = self.costs.settle(hold, call.caller, call.trace.request_id, provider, model, usage, billable)
        info.cost_usd = cost
        info.headers[COST_HEADER] = format_usd(cost)
        return cost


def add_cost(info: CallInfo, earlier: Decimal) -> None:
    """Both calls of a repaired answer are paid for: the cost header says their sum."""
    info.cost_usd = (info.cost_usd or Decimal(0)) + earlier
    info.headers[COST_HEADER] = format_usd(info.cost_usd)


def sum_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    if first is None or second is None:
        return second or first
    return Usage(
        first.prompt_tokens + second.prompt_tokens,
        first.completion_tokens + second.completion_tokens,
        first.total_tokens + second.total_tokens,
    )

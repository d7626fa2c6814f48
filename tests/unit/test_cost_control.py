"""CostControl: the prompt and output bounds, the output cap the gateway sets, reserve (worst case of the
most expensive candidate model, in every budget that applies), refusals (429 budget_exceeded, 400
request_cost_too_high), settle (real cost, once), release, spend records, per-key and per-user scopes,
threshold alerts to a real webhook, seeding from the database, and 300 concurrent calls under a cap.

In-process ledger, no network but a loopback webhook; the spend ledger is a SQLite file under tmp_path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from aigw.errors import InvalidRequestError, RateLimitError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import (
    BudgetScope,
    InProcessBudgetLedger,
    Reservation,
    ScopeUsage,
    period_end,
    period_key,
    usd_to_micros,
)
from aigw.policy.caller import ANONYMOUS, Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl, Hold, cap_output, output_cap, prompt_token_bound
from aigw.policy.keys import KeyRecord
from aigw.policy.pricing import PriceTable, micros_to_usd
from aigw.store.database import Database
from aigw.store.migrate import upgrade
from aigw.store.models import SpendRecord
from aigw.store.spend import Spend, SpendWriter, period_starts
from aigw.types import ChatRequest, EmbeddingRequest, Usage

PRICES = PriceTable.load()
MASTER = Caller("master", is_admin=True)
# Documented image token costs (OpenAI "Calculating costs" for vision): a high-detail image is at most
# 2 x 4 tiles of 512 px (after fitting 2048 px and scaling the short side to 768 px).
MAX_TILES = 8
GPT_4O_MAX_IMAGE_TOKENS = 85 + 170 * MAX_TILES  # gpt-4o, gpt-4.1: 85 base + 170 per tile = 1,445
GPT_4O_MINI_MAX_IMAGE_TOKENS = 2833 + 5667 * MAX_TILES  # gpt-4o-mini: 2,833 base + 5,667 per tile = 48,169
# A model priced at exactly one micro-dollar per token (input and output): worst case = tokens.
UNIT_PRICES = {"unit-model": {"input": 1.0, "output": 1.0}}

TEXTS = [
    "Hello, world!",
    "こんにちは、世界。今日はいい天気ですね。",  # 3 bytes per character
    "👩‍👩‍👧‍👦🎉🇯🇵 family, party, flag",  # emoji: 4-byte code points and ZWJ sequences
    "Ünïcödé ñ ß — 中文 한국어 العربية עברית",
    "tabs\tnew\nlines \x00 and nul",
    "",
]


# Helpers ---------------------------------------------------------------------------------------------


def chat(model: str = "gpt-4o-mini", content: Any = "hello", **params: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": content}], params=dict(params))


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def json_bytes(value: Any) -> int:
    """The compact UTF-8 JSON the provider sees (no spaces, non-ASCII as is): its smallest form."""
    return utf8(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def make_costs(config: PolicyConfig, spend: SpendWriter | None = None) -> CostControl:
    metrics = GatewayMetrics(enabled=True)
    alerts = BudgetAlerts(metrics, lambda: config.alert_webhook_url)
    return CostControl(InProcessBudgetLedger(), lambda: config, metrics, alerts, spend)


def sample(costs: CostControl, name: str, **labels: str) -> float:
    return costs.metrics.registry.get_sample_value(name, labels) or 0.0


async def usage_of(costs: CostControl, name: str = "global", period: str = "daily") -> ScopeUsage:
    scope = BudgetScope(name, "daily" if period == "daily" else "monthly", 1.0)  # the cap is not part of the key
    return await costs.ledger.usage(scope)


def key_caller(
    key_id: str = "k1", user: str | None = "alice", daily: str | None = None, monthly: str | None = None
) -> Caller:
    key = KeyRecord(
        id=key_id,
        prefix=f"sk-aigw-{key_id}",
        user=user,
        budget_daily=Decimal(daily) if daily is not None else None,
        budget_monthly=Decimal(monthly) if monthly is not None else None,
    )
    return Caller(key_id, is_admin=False, key=key)


def unit_chat(worst_micros: int) -> ChatRequest:
    """A unit-model request whose worst case is exactly `worst_micros` (prompt bound + max_tokens)."""
    request = chat("unit-model", "hi")
    request.params["max_tokens"] = worst_micros - prompt_token_bound(request)
    assert request.params["max_tokens"] > 0
    return request


# prompt_token_bound ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_prompt_bound_covers_every_utf8_byte(text: str) -> None:
    bound = prompt_token_bound(chat(content=text))
    assert bound >= utf8(text), f"bound {bound} < {utf8(text)} UTF-8 bytes (a token covers at least one byte)"
    parts = chat(content=[{"type": "text", "text": text}, {"type": "text", "text": text}])
    assert prompt_token_bound(parts) >= 2 * utf8(text), "text parts count their bytes too"


def test_prompt_bound_counts_bytes_not_characters() -> None:
    japanese = "日本語のテキスト" * 100  # 800 characters, 2,400 bytes
    bound = prompt_token_bound(chat(content=japanese))
    assert bound >= utf8(japanese) == 3 * len(japanese), f"bound {bound} must reach 3 bytes per character"
    emoji = "🎉" * 100  # 100 characters, 400 bytes: a tokenizer may need one token per byte
    assert prompt_token_bound(chat(content=emoji)) >= 400


def test_prompt_bound_holds_for_random_conversations() -> None:
    rng = random.Random(20261125)
    alphabet = [
        chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x800), *range(0x3040, 0x30FF), *range(0x1F300, 0x1F64F))
    ]
    for _ in range(200):
        messages: list[dict[str, Any]] = []
        total = 0
        for turn in range(rng.randint(1, 6)):
            text = "".join(rng.choices(alphabet, k=rng.randint(0, 300)))
            total += utf8(text)
            content: Any = text if rng.random() < 0.5 else [{"type": "text", "text": text}]
            messages.append({"role": ("user", "assistant")[turn % 2], "content": content})
        bound = prompt_token_bound(ChatRequest("gpt-4o", messages))
        assert bound >= total, f"bound {bound} < {total} UTF-8 bytes"


def test_prompt_bound_counts_tools_functions_and_response_format() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "東京の天気を調べる 🌦",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    functions = [{"name": "lookup", "parameters": {"type": "object", "properties": {}}}]
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}},
    }
    base = prompt_token_bound(chat())
    extras: list[tuple[str, Any]] = [("tools", tools), ("functions", functions), ("response_format", response_format)]
    for name, value in extras:
        grown = prompt_token_bound(ChatRequest("gpt-4o-mini", chat().messages, {name: value})) - base
        assert grown >= json_bytes(value), f"{name}: +{grown} < its {json_bytes(value)} JSON bytes"
    everything = prompt_token_bound(chat(tools=tools, functions=functions, response_format=response_format)) - base
    assert everything >= json_bytes(tools) + json_bytes(functions) + json_bytes(response_format)


def test_prompt_bound_counts_tool_calls_names_and_tool_results() -> None:
    tool_calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"q":"天気"}'}}]
    result = "晴れ、最高気温 25 度 ☀️"
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief.", "name": "policy"},
        {"role": "user", "content": "天気は?", "name": "太郎"},
        {"role": "assistant", "content": None, "tool_calls": tool_calls},
        {"role": "tool", "tool_call_id": "call_1", "content": result},
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
    ]
    texts = utf8("Be brief.") + utf8("天気は?") + utf8(result)
    extras = (
        json_bytes("policy") + json_bytes("太郎") + json_bytes(tool_calls) + json_bytes(messages[4]["function_call"])
    )
    bound = prompt_token_bound(ChatRequest("gpt-4o", messages))
    assert bound >= texts + extras, f"bound {bound} < {texts + extras} bytes of text, names and calls"


def test_prompt_bound_counts_each_image_part() -> None:
    question = "この画像は何ですか?"
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}
    inline = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    responses_style = {"type": "input_image", "image_url": "https://example.com/dog.png"}
    none = prompt_token_bound(chat(content=[{"type": "text", "text": question}]))
    one = prompt_token_bound(chat(content=[{"type": "text", "text": question}, image]))
    three = prompt_token_bound(chat(content=[{"type": "text", "text": question}, image, inline, responses_style]))
    assert one >= utf8(question) + GPT_4O_MAX_IMAGE_TOKENS, f"one image: {one} < text + {GPT_4O_MAX_IMAGE_TOKENS}"
    assert one - none >= GPT_4O_MAX_IMAGE_TOKENS, f"an image adds {one - none} < {GPT_4O_MAX_IMAGE_TOKENS} tokens"
    assert three - one >= 2 * GPT_4O_MAX_IMAGE_TOKENS, "every image part counts, whatever its url"


def test_prompt_bound_covers_an_image_billed_by_gpt_4o_mini() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}
    bound = prompt_token_bound(chat("gpt-4o-mini", [image]))
    assert bound >= GPT_4O_MINI_MAX_IMAGE_TOKENS, f"bound {bound} < {GPT_4O_MINI_MAX_IMAGE_TOKENS} billed tokens"


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("日本語の埋め込み 🧭", utf8("日本語の埋め込み 🧭")),
        (["first text", "二番目", "🎉🎉"], utf8("first text") + utf8("二番目") + utf8("🎉🎉")),
        ([15339, 1917, 0, 100_256, 7], 5),  # one token id: one token
        (list(range(5000)), 5000),
        ([[1, 2, 3], [199_999] * 40, []], 43),  # a list of token-id lists
        ([], 0),
    ],
    ids=["string", "strings", "token-ids", "5000-token-ids", "token-id-lists", "empty"],
)
def test_prompt_bound_of_embeddings_input(value: str | list[Any], tokens: int) -> None:
    request = EmbeddingRequest("text-embedding-3-small", value)
    bound = prompt_token_bound(request)
    assert bound >= tokens, f"bound {bound} < {tokens} (bytes of text, or token ids)"


# output_cap and cap_output -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_tokens": 100, "n": 3}, 300),
        ({"max_completion_tokens": 50, "n": 4}, 200),
        ({"max_tokens": 100, "n": 1}, 100),
        ({}, None),
        ({"n": 4}, None),
        ({"max_tokens": 0}, None),
        ({"max_tokens": -5}, None),
        ({"max_tokens": True}, None),
        ({"max_tokens": "100"}, None),
        ({"max_tokens": None}, None),
    ],
)
def test_output_cap(params: dict[str, Any], expected: int | None) -> None:
    assert output_cap(chat(**params)) == expected


def test_output_cap_of_embeddings_is_zero() -> None:
    assert output_cap(EmbeddingRequest("text-embedding-3-small", ["a", "b"])) == 0


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("gpt-4o-mini", "max_tokens"),
        ("gpt-4o-mini-2024-07-18", "max_tokens"),
        ("gpt-4o", "max_tokens"),
        ("gpt-4.1-nano", "max_tokens"),
        ("gpt-3.5-turbo", "max_tokens"),
        ("o1", "max_completion_tokens"),
        ("o1-mini", "max_completion_tokens"),
        ("O1-Preview", "max_completion_tokens"),
        ("o3", "max_completion_tokens"),
        ("o3-mini", "max_completion_tokens"),
        ("o4-mini", "max_completion_tokens"),
        ("gpt-5", "max_completion_tokens"),
        ("gpt-5-mini", "max_completion_tokens"),
    ],
)
def test_cap_output_uses_the_parameter_the_model_family_takes(model: str, name: str) -> None:
    request = chat(model)
    cap_output(request, 500)
    other = "max_tokens" if name == "max_completion_tokens" else "max_completion_tokens"
    assert request.params == {name: 500}, f"{model} takes {name}, never {other}"
    assert output_cap(request) == 500


@pytest.mark.parametrize(("choices", "per_choice"), [(2, 500), (4, 250), (3, 333), (7, 142)])
def test_cap_output_divides_by_the_number_of_choices(choices: int, per_choice: int) -> None:
    request = chat("gpt-4o-mini", n=choices)
    cap_output(request, 1000)
    assert request.params["max_tokens"] == per_choice
    allowed = output_cap(request)
    assert allowed is not None and allowed <= 1000, f"{choices} choices may write {allowed} > 1000 tokens"
    reasoning = chat("o3-mini", n=choices)
    cap_output(reasoning, 1000)
    assert reasoning.params == {"n": choices, "max_completion_tokens": per_choice}


# reserve --------------------------------------------------------------------------------------------------


async def test_reserve_without_caps_holds_nothing_and_leaves_the_request_alone() -> None:
    costs = make_costs(PolicyConfig())
    request = chat("gpt-4o", "hello", temperature=0.2)
    trace = Trace("req-1")
    hold = await costs.reserve(ANONYMOUS, request, ["gpt-4o", "o1"], trace)
    assert hold == Hold(None, 0)
    assert request.params == {"temperature": 0.2}, "no output cap is set when no budget applies"
    assert trace.spans == []
    assert costs.scopes(key_caller(daily=None)) == []
    await costs.close()


async def test_reserve_holds_the_worst_case_of_the_most_expensive_candidate() -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0))
    request = chat("gpt-4o-mini", "お元気ですか? " * 20, max_tokens=300)
    models = ["gpt-4o-mini", "gpt-4o", "gpt-3.5-turbo"]
    trace = Trace("req-1")
    hold = await costs.reserve(MASTER, request, models, trace)

    prompt = prompt_token_bound(request)
    worst = {m: PRICES.worst_case_micros(m, prompt, 300) for m in models}
    assert max(worst, key=lambda m: worst[m]) == "gpt-4o"
    assert hold.worst_micros == worst["gpt-4o"]
    assert hold.reservation is not None
    assert hold.reservation.amount_micros == worst["gpt-4o"]
    assert hold.reservation.scopes == (BudgetScope("global", "daily", 1.0),)
    assert (await usage_of(costs)).reserved_micros == worst["gpt-4o"]
    assert request.params == {"max_tokens": 300}, "a request with an output cap keeps it"
    assert [(s.name, s.status, s.attrs["scopes"]) for s in trace.spans] == [("budget", "ok", 1)]
    await costs.close()


@pytest.mark.parametrize(("model", "name"), [("gpt-4o-mini", "max_tokens"), ("o3-mini", "max_completion_tokens")])
async def test_reserve_sets_the_reserved_output_cap_on_a_request_without_one(model: str, name: str) -> None:
    costs = make_costs(PolicyConfig(budget_monthly=5.0, reserve_output_tokens=777))
    request = chat(model, "Write a poem.")
    hold = await costs.reserve(MASTER, request, [model], Trace("req-1"))
    assert request.params == {name: 777}
    assert hold.worst_micros == PRICES.worst_case_micros(model, prompt_token_bound(request), 777)
    assert (await usage_of(costs, period="monthly")).reserved_micros == hold.worst_micros
    await costs.close()


async def test_reserve_with_several_choices_reserves_what_they_may_write() -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0, reserve_output_tokens=1000))
    request = chat("gpt-4o-mini", n=4)
    hold = await costs.reserve(MASTER, request, ["gpt-4o-mini"], Trace("req-1"))
    assert request.params["max_tokens"] == 250
    allowed = output_cap(request)
    assert allowed == 1000
    assert hold.worst_micros >= PRICES.worst_case_micros("gpt-4o-mini", prompt_token_bound(request), allowed)
    await costs.close()


async def test_injected_output_cap_never_allows_more_than_is_reserved() -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0, reserve_output_tokens=10))
    request = chat("gpt-4o-mini", n=16)
    hold = await costs.reserve(MASTER, request, ["gpt-4o-mini"], Trace("req-1"))
    allowed = output_cap(request)
    assert allowed is not None
    need = PRICES.worst_case_micros("gpt-4o-mini", prompt_token_bound(request), allowed)
    assert hold.worst_micros >= need, f"held {hold.worst_micros} µ$ but {allowed} output tokens may cost {need} µ$"
    await costs.close()


async def test_embeddings_reserve_their_input_only() -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0))
    request = EmbeddingRequest("text-embedding-3-large", ["埋め込み"] * 10)
    hold = await costs.reserve(MASTER, request, ["text-embedding-3-large"], Trace("req-1"))
    assert hold.worst_micros == PRICES.worst_case_micros("text-embedding-3-large", prompt_token_bound(request), 0)
    assert request.params == {}
    await costs.close()


# Refusals -------------------------------------------------------------------------------------------------


async def test_a_budget_that_would_be_passed_refuses_with_429() -> None:
    costs = make_costs(PolicyConfig(budget_daily=0.0001))  # 100 micro-dollars
    request = chat("gpt-4o", "hello", max_tokens=100)  # at least 1,000 micro-dollars of output
    trace = Trace("req-1")
    with pytest.raises(RateLimitError) as caught:
        await costs.reserve(MASTER, request, ["gpt-4o"], trace)
    error = caught.value
    assert (error.status, error.code, error.to_body()["error"]["type"]) == (429, "budget_exceeded", "rate_limit_error")
    assert "global" in error.message
    assert error.headers["x-should-retry"] == "false"
    retry_after = int(error.headers["retry-after"])
    until_midnight = period_end(period_key("daily", time.time())) - time.time()
    assert 1 <= retry_after <= 86_400, f"retry-after {retry_after} s must be within a day (bound 1..86400)"
    assert abs(retry_after - until_midnight) <= 2, f"retry-after {retry_after} s, period ends in {until_midnight:.0f} s"
    assert [(s.name, s.status, s.attrs["error"]) for s in trace.spans] == [("budget", "error", "budget_exceeded")]
    assert sample(costs, "aigw_budget_refusals_total", scope="global:daily") == 1

    with pytest.raises(RateLimitError):
        await costs.reserve(MASTER, chat("gpt-4o", "again", max_tokens=100), ["gpt-4o"], Trace("req-2"))
    assert sample(costs, "aigw_budget_refusals_total", scope="global:daily") == 2
    now = await usage_of(costs)
    assert (now.spent_micros, now.reserved_micros) == (0, 0), "a refusal holds nothing"
    await costs.close()
    assert [a["percent"] for a in costs.alerts.sent] == [100], "the first refusal reports the cap reached, once"


async def test_a_request_costlier_than_the_per_request_cap_is_refused_with_400() -> None:
    costs = make_costs(PolicyConfig(max_request_cost=0.001, budget_daily=10.0))
    request = chat("o1", "hello", max_completion_tokens=1000)  # 60,000+ micro-dollars
    with pytest.raises(InvalidRequestError) as caught:
        await costs.reserve(MASTER, request, ["o1"], Trace("req-1"))
    error = caught.value
    assert (error.status, error.code) == (400, "request_cost_too_high")
    assert error.to_body()["error"]["type"] == "invalid_request_error"
    assert (await usage_of(costs)).reserved_micros == 0, "nothing is held for a refused request"
    assert sample(costs, "aigw_budget_refusals_total", scope="global:daily") == 0
    await costs.close()


async def test_the_per_request_cap_applies_without_budgets_and_admits_exactly_the_cap() -> None:
    costs = make_costs(PolicyConfig(max_request_cost=0.001, prices=UNIT_PRICES))
    hold = await costs.reserve(MASTER, unit_chat(1000), ["unit-model"], Trace("req-1"))
    assert hold == Hold(None, 1000), "a worst case equal to the cap passes"
    with pytest.raises(InvalidRequestError):
        await costs.reserve(MASTER, unit_chat(1001), ["unit-model"], Trace("req-2"))
    await costs.close()


async def test_a_worst_case_equal_to_any_per_request_cap_is_admitted() -> None:
    costs = make_costs(PolicyConfig(max_request_cost=0.001001, prices=UNIT_PRICES))
    hold = await costs.reserve(MASTER, unit_chat(1001), ["unit-model"], Trace("req-1"))
    assert hold.worst_micros == 1001
    await costs.close()


class UnreachableLedger(InProcessBudgetLedger):
    async def reserve(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> Reservation:
        raise ConnectionError("budget store unreachable")


@pytest.mark.parametrize("fail_closed", [False, True])
async def test_an_unreachable_budget_store_admits_or_refuses_per_policy(fail_closed: bool) -> None:
    config = PolicyConfig(budget_daily=1.0, budget_fail_closed=fail_closed)
    metrics = GatewayMetrics(enabled=True)
    costs = CostControl(UnreachableLedger(), lambda: config, metrics, BudgetAlerts(metrics, lambda: None))
    request = chat("gpt-4o", max_tokens=10)
    if fail_closed:
        with pytest.raises(RateLimitError) as caught:
            await costs.reserve(MASTER, request, ["gpt-4o"], Trace("req-1"))
        assert (caught.value.code, caught.value.headers["retry-after"]) == ("budget_unavailable", "1")
    else:
        hold = await costs.reserve(MASTER, request, ["gpt-4o"], Trace("req-1"))
        assert hold == Hold(None, PRICES.worst_case_micros("gpt-4o", prompt_token_bound(request), 10))
    assert sample(costs, "aigw_policy_store_errors_total", store="budget") == 1
    await costs.close()


# Settle and release ---------------------------------------------------------------------------------------


@pytest.fixture
async def spend_writer(tmp_path: Path) -> AsyncIterator[SpendWriter]:
    database = Database(f"sqlite:///{tmp_path / 'aigw.db'}")
    await upgrade(database)
    writer = SpendWriter(database, tmp_path / "spool.jsonl")
    yield writer
    await writer.close()
    await database.close()


async def test_settle_charges_the_real_cost_once_and_records_it(spend_writer: SpendWriter) -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0), spend_writer)
    caller = key_caller("k1", "alice", daily="1")
    hold = await costs.reserve(caller, chat("gpt-4o", "hi", max_tokens=500), ["gpt-4o"], Trace("req-1"))
    usage = Usage(1234, 56, 1290)
    cost = costs.settle(hold, caller, "req-1", "openai", "gpt-4o-2024-08-06", usage)
    assert cost == PRICES.cost("gpt-4o", usage) == Decimal("0.003645")  # 1234 x 2.5 + 56 x 10 micro-dollars
    assert costs.settle(hold, caller, "req-1", "openai", "gpt-4o", usage) == 0, "a second settle charges nothing"
    costs.release(hold)  # and a release after it frees nothing more
    await costs.close()

    for name in ("global", "key:k1"):
        now = await usage_of(costs, name)
        assert (now.spent_micros, now.reserved_micros) == (3645, 0), name
    assert sample(costs, "aigw_cost_usd_total", provider="openai", model="gpt-4o-2024-08-06") == float(cost)

    assert spend_writer.pending == 1, "one call, one spend record"
    await spend_writer.flush()
    async with spend_writer.database.sessions() as session:
        rows = (await session.execute(SpendRecord.__table__.select())).all()
    assert len(rows) == 1
    row = rows[0]._mapping
    assert (row["request_id"], row["key_id"], row["user"], row["provider"], row["model"]) == (
        "req-1",
        "k1",
        "alice",
        "openai",
        "gpt-4o-2024-08-06",
    )
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]) == (1234, 56, Decimal("0.003645"))


async def test_settle_without_usage_charges_the_worst_case(spend_writer: SpendWriter) -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0), spend_writer)
    hold = await costs.reserve(MASTER, chat("gpt-4o-mini", max_tokens=200), ["gpt-4o-mini"], Trace("req-1"))
    cost = costs.settle(hold, MASTER, "req-1", "openai", "gpt-4o-mini", None)
    assert cost == micros_to_usd(hold.worst_micros) > 0
    await costs.close()
    now = await usage_of(costs)
    assert (now.spent_micros, now.reserved_micros) == (hold.worst_micros, 0)
    assert spend_writer.pending == 1


async def test_settle_without_budgets_still_prices_and_records(spend_writer: SpendWriter) -> None:
    costs = make_costs(PolicyConfig(), spend_writer)
    hold = await costs.reserve(MASTER, chat("gpt-4o-mini"), ["gpt-4o-mini"], Trace("req-1"))
    usage = Usage(10, 20, 30)
    assert costs.settle(hold, MASTER, "req-1", "openai", "gpt-4o-mini", usage) == PRICES.cost("gpt-4o-mini", usage)
    assert spend_writer.pending == 1
    await costs.close()


async def test_a_provider_that_is_not_billable_costs_nothing_and_frees_its_hold(spend_writer: SpendWriter) -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0), spend_writer)
    hold = await costs.reserve(MASTER, chat("gpt-4o", max_tokens=100), ["gpt-4o"], Trace("req-1"))
    usage = Usage(10, 20, 30)
    assert costs.settle(hold, MASTER, "req-1", "stub", "gpt-4o", usage, billable=False) == 0
    await costs.close()
    now = await usage_of(costs)
    assert (now.spent_micros, now.reserved_micros) == (0, 0), "the stub's answers are free; the hold is gone"
    assert spend_writer.pending == 1, "its usage is still recorded"


async def test_release_frees_the_hold_and_spends_nothing(spend_writer: SpendWriter) -> None:
    costs = make_costs(PolicyConfig(budget_daily=1.0, budget_monthly=10.0), spend_writer)
    hold = await costs.reserve(MASTER, chat("gpt-4o", max_tokens=1000), ["gpt-4o"], Trace("req-1"))
    assert (await usage_of(costs)).reserved_micros == hold.worst_micros > 0
    costs.release(hold)
    costs.release(hold)
    assert costs.settle(hold, MASTER, "req-1", "openai", "gpt-4o", Usage(5, 5, 10)) == 0, "released: settled already"
    await costs.close()
    for period in ("daily", "monthly"):
        now = await usage_of(costs, period=period)
        assert (now.spent_micros, now.reserved_micros) == (0, 0), period
    assert spend_writer.pending == 0, "a failed call is not spend"


# Scopes: key and user -------------------------------------------------------------------------------------


def test_scopes_of_global_key_and_user_budgets() -> None:
    config = PolicyConfig(budget_daily=10, budget_monthly=100, budget_user_daily=2, budget_user_monthly=20)
    costs = make_costs(config)
    assert costs.scopes(key_caller("k1", "alice", daily="0.05", monthly="1.5")) == [
        BudgetScope("global", "daily", 10.0),
        BudgetScope("global", "monthly", 100.0),
        BudgetScope("key:k1", "daily", 0.05),
        BudgetScope("key:k1", "monthly", 1.5),
        BudgetScope("user:alice", "daily", 2.0),
        BudgetScope("user:alice", "monthly", 20.0),
    ]
    assert [s.name for s in costs.scopes(key_caller("k2", None, daily="1"))] == ["global", "global", "key:k2"]
    assert [s.name for s in costs.scopes(MASTER)] == ["global", "global"]
    only_keys = make_costs(PolicyConfig())
    assert only_keys.scopes(key_caller("k3", "bob", daily="3")) == [BudgetScope("key:k3", "daily", 3.0)]


async def test_a_key_budget_refuses_while_the_global_one_has_room() -> None:
    costs = make_costs(PolicyConfig(budget_daily=10.0))
    capped = key_caller("k1", "alice", daily="0.0001")
    request = chat("gpt-4o", max_tokens=100)
    with pytest.raises(RateLimitError) as caught:
        await costs.reserve(capped, request, ["gpt-4o"], Trace("req-1"))
    assert caught.value.code == "budget_exceeded"
    assert "key:k1" in caught.value.message
    assert sample(costs, "aigw_budget_refusals_total", scope="key:daily") == 1
    assert (await usage_of(costs)).reserved_micros == 0, "nothing held in the global scope either"

    hold = await costs.reserve(key_caller("k2", "alice"), chat("gpt-4o", max_tokens=100), ["gpt-4o"], Trace("r2"))
    assert hold.reservation is not None, "another key of the same user is not capped"
    assert (await usage_of(costs)).reserved_micros == hold.worst_micros
    await costs.close()


async def test_a_user_budget_is_shared_by_the_users_keys() -> None:
    costs = make_costs(PolicyConfig(budget_user_daily=0.0015, prices=UNIT_PRICES))  # 1,500 micro-dollars
    first = await costs.reserve(key_caller("k1", "alice"), unit_chat(1000), ["unit-model"], Trace("r1"))
    assert first.reservation is not None
    with pytest.raises(RateLimitError) as caught:
        await costs.reserve(key_caller("k2", "alice"), unit_chat(1000), ["unit-model"], Trace("r2"))
    assert "user:alice" in caught.value.message
    assert sample(costs, "aigw_budget_refusals_total", scope="user:daily") == 1
    other = await costs.reserve(key_caller("k3", "bob"), unit_chat(1000), ["unit-model"], Trace("r3"))
    assert other.reservation is not None
    costs.settle(first, key_caller("k1", "alice"), "r1", "test", "unit-model", Usage(100, 100, 200))
    await costs.close()
    alice = await usage_of(costs, "user:alice")
    assert (alice.spent_micros, alice.reserved_micros) == (200, 0)
    again = await costs.reserve(key_caller("k2", "alice"), unit_chat(1000), ["unit-model"], Trace("r4"))
    assert again.reservation is not None, "the settle gave back the unused part of the hold"
    await costs.close()


# Alerts ---------------------------------------------------------------------------------------------------


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on loopback that keeps what is POSTed to it."""
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/budget", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hooks/budget", received
    await runner.cleanup()


async def test_crossing_80_and_100_percent_alerts_once_each(webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = webhook
    costs = make_costs(PolicyConfig(budget_daily=0.001, prices=UNIT_PRICES, alert_webhook_url=url))  # 1,000 µ$

    async def call(worst: int, spent: int) -> None:
        request = unit_chat(worst)
        prompt = prompt_token_bound(request)
        hold = await costs.reserve(MASTER, request, ["unit-model"], Trace("req"))
        costs.settle(hold, MASTER, "req", "test", "unit-model", Usage(prompt, spent - prompt, spent))
        await costs.close()  # waits for the settle and for the webhook calls

    await call(400, 300)
    await call(400, 300)
    assert costs.alerts.sent == [], "600 of 1,000: no threshold yet"
    await call(250, 250)  # 850: past 80 %
    assert [(a["scope"], a["period"], a["percent"]) for a in costs.alerts.sent] == [("global", "daily", 80)]
    assert costs.alerts.sent[0]["spent_usd"] == 0.00085
    await call(150, 150)  # 1,000: the cap reached
    assert [a["percent"] for a in costs.alerts.sent] == [80, 100]
    with pytest.raises(RateLimitError):  # full: refused, and the 100 % alert is not sent again
        await costs.reserve(MASTER, unit_chat(50), ["unit-model"], Trace("req"))
    await costs.close()
    assert [a["percent"] for a in costs.alerts.sent] == [80, 100]
    assert sample(costs, "aigw_budget_alerts_total", scope="global", threshold="0.8") == 1
    assert sample(costs, "aigw_budget_alerts_total", scope="global", threshold="1") == 1
    assert received == costs.alerts.sent, "the webhook got each alert, once"
    now = await usage_of(costs)
    assert (now.spent_micros, now.reserved_micros) == (1000, 0)


# Seeding from the database ----------------------------------------------------------------------------------


async def test_seed_starts_the_budgets_from_the_spend_ledger(spend_writer: SpendWriter) -> None:
    day, month = period_starts()
    now = dt.datetime.now(dt.UTC)
    before_today = day - dt.timedelta(seconds=1)
    for key_id, user, cost, ts in [
        ("k1", "alice", "0.002", now),
        ("k2", "alice", "0.003", now),
        (None, None, "0.001", now),
        ("k1", "alice", "0.5", before_today),
    ]:
        spend_writer.record(Spend(ts, "r", key_id, user, "openai", "gpt-4o", 1, 1, Decimal(cost)))
    await spend_writer.flush()
    config = PolicyConfig(budget_daily=5, budget_monthly=50, budget_user_daily=2)
    costs = make_costs(config)
    keys = [
        KeyRecord("k1", "p1", user="alice", budget_daily=Decimal(1), budget_monthly=Decimal(10)),
        KeyRecord("k2", "p2", user="alice"),
        KeyRecord("k3", "p3", user="bob", budget_daily=Decimal(1)),  # nothing spent: nothing to seed
    ]
    seeded = await costs.seed(spend_writer.database, keys)

    yesterday_this_month = Decimal("0.5") if before_today >= month else Decimal(0)
    expected = {
        ("global", "daily"): Decimal("0.006"),
        ("key:k1", "daily"): Decimal("0.002"),
        ("user:alice", "daily"): Decimal("0.005"),
        ("global", "monthly"): Decimal("0.006") + yesterday_this_month,
        ("key:k1", "monthly"): Decimal("0.002") + yesterday_this_month,
    }
    assert seeded == len(expected)
    for (name, period), amount in expected.items():
        assert (await usage_of(costs, name, period)).spent_micros == usd_to_micros(amount), (name, period)
    assert (await usage_of(costs, "key:k3")).spent_micros == 0
    assert await costs.seed(spend_writer.database, keys) == 0, "scopes that count spend are left alone"
    await costs.close()


# Concurrency ------------------------------------------------------------------------------------------------


DAILY_CAP = 0.03  # three cents
KEY_CAP = 0.01  # one cent for the even calls' key
CALLS = 300


@dataclass
class Run:
    admitted: int = 0
    refused: int = 0
    released: int = 0
    spent: dict[str, int] = field(default_factory=dict)  # scope name -> micro-dollars settled
    violations: list[str] = field(default_factory=list)


def random_request(rng: random.Random) -> ChatRequest:
    words = ["hello", "世界", "🎉", "budget", "テスト", "Ünïcödé", "tokens", "\n"]
    text = " ".join(rng.choices(words, k=rng.randint(1, 60)))
    params: dict[str, Any] = {} if rng.random() < 0.3 else {"max_tokens": rng.randint(1, 800)}
    return chat("gpt-4o-mini", text, **params)


async def one_call(costs: CostControl, i: int, run: Run, callers: Callable[[int], Caller]) -> None:
    rng = random.Random(i)
    caller = callers(i)
    request = random_request(rng)
    try:
        hold = await costs.reserve(caller, request, ["gpt-4o-mini"], Trace(f"req-{i}"))
    except RateLimitError:
        run.refused += 1
        return
    run.admitted += 1
    await check_caps(costs, run)
    await asyncio.sleep(rng.uniform(0, 0.004))
    if rng.random() < 0.1:
        costs.release(hold)
        run.released += 1
        return
    allowed = output_cap(request)
    assert allowed is not None, "the gateway set an output cap"
    usage = Usage(rng.randint(1, prompt_token_bound(request)), rng.randint(0, allowed))
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    cost = usd_to_micros(costs.settle(hold, caller, f"req-{i}", "openai", "gpt-4o-mini", usage))
    for scope in costs.scopes(caller):
        run.spent[scope.name] = run.spent.get(scope.name, 0) + cost


async def check_caps(costs: CostControl, run: Run) -> None:
    for name, cap in (("global", DAILY_CAP), ("key:even", KEY_CAP)):
        now = await usage_of(costs, name)
        if now.spent_micros + now.reserved_micros > usd_to_micros(cap):
            run.violations.append(f"{name}: spent {now.spent_micros} + reserved {now.reserved_micros} µ$ > cap")


async def test_300_concurrent_calls_never_spend_past_the_caps() -> None:
    costs = make_costs(PolicyConfig(budget_daily=DAILY_CAP, reserve_output_tokens=600))
    even = key_caller("even", None, daily=str(KEY_CAP))

    def callers(i: int) -> Caller:
        return even if i % 2 == 0 else MASTER

    run = Run()
    await asyncio.gather(*(one_call(costs, i, run, callers) for i in range(CALLS)))
    await costs.close()

    assert not run.violations, run.violations[:5]
    assert run.admitted + run.refused == CALLS
    assert run.refused > 0 and run.admitted > 0, f"the cap must bind: {run.admitted} admitted, {run.refused} refused"
    final = await usage_of(costs)
    assert final.reserved_micros == 0, "every hold settled or released"
    assert final.spent_micros == run.spent["global"], "the ledger counts exactly the settled costs"
    assert final.spent_micros <= usd_to_micros(DAILY_CAP), f"spent {final.spent_micros} µ$ > cap 30,000 µ$"
    key = await usage_of(costs, "key:even")
    assert key.reserved_micros == 0
    assert key.spent_micros == run.spent["key:even"] <= usd_to_micros(KEY_CAP), f"key spent {key.spent_micros} µ$"

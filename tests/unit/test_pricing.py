"""PriceTable: the shipped table, family resolution of dated names, defaults for unknown models,
overrides, exact micro-dollar costs and the worst case a budget reserves."""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

import pytest

from aigw.policy.budget import usd_to_micros
from aigw.policy.pricing import MAX_DEFAULTED_MODELS, ModelPrice, PriceTable, shipped_prices
from aigw.types import Usage

CHAT_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3-mini", "gpt-3.5-turbo")
EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.load()


def test_shipped_table_is_package_data_and_prices_every_current_model() -> None:
    prices = shipped_prices()
    for model in CHAT_MODELS:
        assert prices[model].input_per_million > 0
        assert prices[model].output_per_million > prices[model].input_per_million  # output costs more
    for model in EMBEDDING_MODELS:
        assert prices[model].input_per_million > 0
        assert prices[model].output_per_million == 0
    assert prices["stub-*"].is_free


def test_known_model_costs_exactly(table: PriceTable) -> None:
    # gpt-4o: $2.50 in / $10 out per 1M tokens -> 1000 * 2.5 + 500 * 10 micro-dollars.
    assert table.cost_micros("gpt-4o", Usage(1000, 500, 1500)) == 7_500
    assert table.cost("gpt-4o", Usage(1000, 500, 1500)) == Decimal("0.0075")
    assert table.cost("gpt-4o-mini", Usage(1_000_000, 1_000_000, 2_000_000)) == Decimal("0.75")
    assert table.cost("text-embedding-3-small", Usage(1_000_000, 0, 1_000_000)) == Decimal("0.02")
    assert table.cost("o1", Usage(0, 1_000_000, 1_000_000)) == Decimal(60)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # longest prefix, not gpt-4o
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o1-2024-12-17", "o1"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("GPT-4o-2024-08-06", "gpt-4o"),
        ("stub-chat", "stub-*"),
        ("stub-embedding", "stub-*"),
    ],
)
def test_dated_snapshots_resolve_to_their_family(table: PriceTable, model: str, family: str) -> None:
    assert table.resolve(model) == family
    assert table.is_known(model)
    assert table.price(model) == shipped_prices()[family]
    assert table.defaulted_models == frozenset()


@pytest.mark.parametrize("model", ["gpt-4omni", "o1x", "gpt-4", "gpt-4-turbo", "claude-3-opus", "stub", "my-finetune"])
def test_a_family_only_matches_whole(table: PriceTable, model: str) -> None:
    assert table.resolve(model) is None
    assert not table.is_known(model)


def test_stub_models_are_free(table: PriceTable) -> None:
    assert table.cost("stub-chat", Usage(10_000, 10_000, 20_000)) == 0
    assert table.worst_case("stub-chat", 10_000, 10_000) == 0


def test_unknown_models_pay_the_most_expensive_known_price_and_are_listed(table: PriceTable) -> None:
    most = shipped_prices()
    assert table.default == ModelPrice(
        max(p.input_per_million for p in most.values()), max(p.output_per_million for p in most.values())
    )
    assert table.default == shipped_prices()["claude-opus-4"]  # today's most expensive chat model
    assert not table.default.is_free
    usage = Usage(100, 100, 200)
    assert table.cost("gpt-9-ultra", usage) == table.cost("claude-opus-4", usage) > 0
    assert table.worst_case("gpt-9-ultra", 100, 100) > 0
    table.cost("gpt-4o-2024-08-06", usage)
    assert table.defaulted_models == frozenset({"gpt-9-ultra"})


def test_defaulted_models_are_bounded(table: PriceTable) -> None:
    for n in range(MAX_DEFAULTED_MODELS + 50):
        table.price(f"unknown-{n}")
    assert len(table.defaulted_models) == MAX_DEFAULTED_MODELS


def test_explicit_default_price() -> None:
    table = PriceTable.load(default=ModelPrice(1.0, 2.0))
    assert table.cost("mystery", Usage(1_000_000, 1_000_000, 2_000_000)) == Decimal(3)
    assert table.defaulted_models == {"mystery"}


def test_a_table_of_free_models_needs_an_explicit_default() -> None:
    with pytest.raises(ValueError, match="explicit default"):
        PriceTable({"stub-*": ModelPrice(0, 0)})
    free = PriceTable({"stub-*": ModelPrice(0, 0)}, default=ModelPrice(0, 0))  # an operator's explicit choice
    assert free.cost("anything", Usage(5, 5, 10)) == 0


def test_overrides_replace_and_add_entries_and_apply_to_snapshots() -> None:
    table = PriceTable.load({"gpt-4o": ModelPrice(1.0, 1.0), "local-llama": ModelPrice(0.0, 0.0)})
    assert table.cost("gpt-4o-2024-08-06", Usage(1_000_000, 1_000_000, 2_000_000)) == Decimal(2)
    assert table.cost("gpt-4o-mini", Usage(1_000_000, 0, 1_000_000)) == Decimal("0.15")  # untouched
    assert table.cost("local-llama-3-8b", Usage(1000, 1000, 2000)) == 0
    assert table.defaulted_models == frozenset()
    # A dated override beats its family.
    table = PriceTable.load({"gpt-4o-2024-05-13": ModelPrice(5.0, 15.0)})
    assert table.price("gpt-4o-2024-05-13") == ModelPrice(5.0, 15.0)
    assert table.price("gpt-4o-2024-08-06") == shipped_prices()["gpt-4o"]


def test_overrides_can_raise_the_default() -> None:
    table = PriceTable.load({"gpt-5-pro": ModelPrice(20.0, 160.0)})
    assert table.default == ModelPrice(20.0, 160.0)


def test_costs_round_up_to_a_whole_micro_dollar(table: PriceTable) -> None:
    # gpt-4o-mini input: 0.15 micro-dollars a token.
    assert table.cost_micros("gpt-4o-mini", Usage(1, 0, 1)) == 1
    assert table.cost_micros("gpt-4o-mini", Usage(20, 0, 20)) == 3
    assert table.cost_micros("gpt-4o-mini", Usage(21, 0, 21)) == 4  # 3.15 -> 4
    assert table.cost_micros("gpt-4o-mini", Usage(0, 0, 0)) == 0
    cost = table.cost("gpt-4o-mini", Usage(21, 0, 21))
    assert cost == Decimal("0.000004")
    assert usd_to_micros(cost) == 4  # the ledger's integer, without loss
    assert usd_to_micros(float(cost)) == 4


def test_tokens_not_split_into_prompt_and_completion_are_charged_at_the_higher_price(table: PriceTable) -> None:
    # A provider reporting only total_tokens must not be free.
    assert table.cost_micros("gpt-4o", Usage(0, 0, 1000)) == 10_000
    assert table.cost_micros("text-embedding-3-large", Usage(0, 0, 1000)) == 130
    assert table.cost_micros("gpt-4o", Usage(400, 100, 1000)) == 400 * 2.5 + 100 * 10 + 500 * 10


def test_worst_case_is_the_cost_of_the_full_answer(table: PriceTable) -> None:
    assert table.worst_case_micros("gpt-4o", 1000, 500) == table.cost_micros("gpt-4o", Usage(1000, 500, 1500))
    assert table.worst_case("gpt-4o", 1000, 500) == Decimal("0.0075")
    with pytest.raises(ValueError):
        table.worst_case("gpt-4o", -1, 10)


def test_worst_case_bounds_every_usage_within_the_reserved_tokens(table: PriceTable) -> None:
    rng = random.Random(20261125)
    models = [*shipped_prices(), "gpt-4o-2024-08-06", "stub-chat", "unknown-model"]
    models = [m for m in models if not m.endswith("*")]
    for model, (prompt, max_out) in itertools.product(models, [(0, 0), (1, 1), (7, 3), (1000, 4096), (123_457, 77)]):
        worst = table.worst_case(model, prompt, max_out)
        corners = [(prompt, max_out), (0, 0), (prompt, 0), (0, max_out)]
        samples = corners + [(rng.randint(0, prompt), rng.randint(0, max_out)) for _ in range(50)]
        for p, c in samples:
            assert table.cost(model, Usage(p, c, p + c)) <= worst, (model, prompt, max_out, p, c)


def test_model_price_validation() -> None:
    for bad in (-0.01, math.nan, math.inf, True, "1.0"):
        with pytest.raises(ValueError):
            ModelPrice(bad, 1.0)  # type: ignore[arg-type]
    assert ModelPrice.from_dict({"input": 1, "output": 2}) == ModelPrice(1, 2)
    assert ModelPrice.from_dict({"input_per_million": 0.5}) == ModelPrice(0.5, 0.0)
    with pytest.raises(ValueError, match="unknown price field"):
        ModelPrice.from_dict({"inptu": 1})

"""The shipped price table knows Anthropic's current models, dated snapshots included."""

from __future__ import annotations

import pytest

from aigw.policy.pricing import PriceTable


@pytest.mark.parametrize(
    ("model", "family", "input_price", "output_price"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", 3.0, 15.0),
        ("claude-opus-4-5-20251101", "claude-opus-4-5", 5.0, 25.0),
        ("claude-opus-4-6", "claude-opus-4-6", 5.0, 25.0),
        ("claude-opus-4-20250514", "claude-opus-4", 15.0, 75.0),
        ("claude-opus-4-1-20250805", "claude-opus-4-1", 15.0, 75.0),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5", 1.0, 5.0),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", 0.8, 4.0),
        ("claude-opus-4-7", "claude-opus-4", 15.0, 75.0),  # unlisted: the family's higher price, never less
    ],
)
def test_anthropic_models_are_priced(model: str, family: str, input_price: float, output_price: float) -> None:
    table = PriceTable.load()
    assert table.resolve(model) == family
    price = table.price(model)
    assert (float(price.input_per_million), float(price.output_per_million)) == (input_price, output_price)

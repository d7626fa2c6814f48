"""The shipped price table knows Gemini's current models and the priced presets' known models."""

from __future__ import annotations

import pytest

from aigw.policy.pricing import PriceTable
from aigw.providers.presets import presets


@pytest.mark.parametrize(
    ("model", "family", "input_price", "output_price"),
    [
        ("gemini-2.5-flash", "gemini-2.5-flash", 0.30, 2.50),
        ("gemini-2.5-flash-lite-preview-09-2025", "gemini-2.5-flash-lite", 0.10, 0.40),
        ("gemini-2.5-pro", "gemini-2.5-pro", 1.25, 10.0),
        ("gemini-3.1-pro-preview", "gemini-3.1-pro", 2.0, 12.0),
        ("gemini-3-flash-preview", "gemini-3-flash", 0.50, 3.0),
        ("gemini-embedding-001", "gemini-embedding-001", 0.15, 0.0),
        ("mistral-large-latest", "mistral-large", 2.0, 6.0),
        ("deepseek-reasoner", "deepseek-reasoner", 0.28, 0.42),
    ],
)
def test_models_are_priced(model: str, family: str, input_price: float, output_price: float) -> None:
    table = PriceTable.load()
    assert table.resolve(model) == family
    price = table.price(model)
    assert (float(price.input_per_million), float(price.output_per_million)) == (input_price, output_price)


@pytest.mark.parametrize("family", ["mistral", "groq", "deepseek"])
def test_every_known_model_of_a_priced_preset_has_a_price(family: str) -> None:
    table = PriceTable.load()
    assert [m for m in presets()[family]["models"] if not table.is_known(m)] == []

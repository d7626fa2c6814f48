"""The shipped price table knows Bedrock's model ids: on-demand ids, cross-region inference profiles,
and the regional premium of Claude 4.5 and later (global. is 10 % cheaper)."""

from __future__ import annotations

import pytest

from aigw.policy.pricing import PriceTable


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0, 15.0),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.3, 16.5),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", 1.1, 5.5),
        ("eu.anthropic.claude-opus-4-5-20251101-v1:0", 5.5, 27.5),
        ("anthropic.claude-opus-4-1-20250805-v1:0", 15.0, 75.0),
        ("apac.anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
        ("us.amazon.nova-pro-v1:0", 0.8, 3.2),
        ("amazon.nova-micro-v1:0", 0.035, 0.14),
        ("amazon.nova-2-lite-v1:0", 0.3, 2.5),
        ("us.meta.llama4-maverick-17b-instruct-v1:0", 0.24, 0.97),
        ("meta.llama3-3-70b-instruct-v1:0", 0.72, 0.72),
        ("mistral.mistral-large-2407-v1:0", 2.0, 6.0),
        ("us.mistral.pixtral-large-2502-v1:0", 2.0, 6.0),
    ],
)
def test_bedrock_models_are_priced(model: str, input_price: float, output_price: float) -> None:
    price = PriceTable.load().price(model)
    assert (float(price.input_per_million), float(price.output_per_million)) == (input_price, output_price)


def test_an_unlisted_profile_gets_the_default_price_and_is_reported() -> None:
    table = PriceTable.load()
    assert not table.is_known("jp.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert table.price("jp.anthropic.claude-sonnet-4-5-20250929-v1:0") == table.default
    assert "jp.anthropic.claude-sonnet-4-5-20250929-v1:0" in table.defaulted_models

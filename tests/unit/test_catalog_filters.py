"""Metadata filters shared by every search path."""

from __future__ import annotations

import pytest

from aigw.catalog.filters import check_filters, matches
from aigw.errors import InvalidRequestError

ITEM = {"category": "Shoes", "price": 50, "tags": ["trail", "waterproof"], "in_stock": True, "count": 1}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"category": "shoes"}, True),  # strings compare without case
        ({"category": "boots"}, False),
        ({"category": ["boots", "shoes"]}, True),
        ({"tags": "trail"}, True),  # a list-valued field contains the value
        ({"price": {"gte": 50, "lt": 100}}, True),
        ({"price": {"gt": 50}}, False),
        ({"price": {"lte": "60"}}, False),  # a number is not compared with a string
        ({"in_stock": True}, True),
        ({"in_stock": 1}, False),  # True is not 1
        ({"count": True}, False),
        ({"brand": "acme"}, False),  # a missing field never matches ...
        ({"brand": {"ne": "acme"}}, True),  # ... except "not equal"
        ({"category": {"ne": "SHOES"}}, False),
        ({"category": "shoes", "price": {"lt": 10}}, False),  # every condition must hold
    ],
)
def test_matches(filters: dict[str, object], expected: bool) -> None:
    assert matches(ITEM, filters) is expected


def test_bad_filters_are_400() -> None:
    assert check_filters(None) == {}
    for bad in (["category"], {"price": {"between": [1, 2]}}, {"price": {}}):
        with pytest.raises(InvalidRequestError):
            check_filters(bad)

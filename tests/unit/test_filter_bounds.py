"""Filters are bounded before any search (fields, names, values, nesting): a request cannot make
every item of a catalog cost more than a few hundred comparisons."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.catalog.filters import MAX_CHOICES, MAX_FIELDS, MAX_VALUES, check_filters, matches
from aigw.errors import InvalidRequestError


@pytest.mark.parametrize(
    "filters",
    [
        {f"field{i}": "x" for i in range(MAX_FIELDS + 1)},  # too many fields
        {"x" * 101: "shoes"},  # a name past 100 characters
        {"": "shoes"},
        {7: "shoes"},  # a name that is no string (Python API)
        {"category": "x" * 1001},  # a value past 1,000 characters
        {"category": list(range(MAX_CHOICES + 1))},  # too many choices
        {"category": []},
        {f"f{i}": list(range(MAX_CHOICES)) for i in range(3)},  # too many values in all
        {"category": [["nested"]]},  # nothing deeper than a list of choices
        {"category": {"nested": {"deeper": 1}}},
        {"price": {"gt": {"deeper": 1}}},  # a range bound that is no scalar
        {"price": {"gt": [1, 2]}},
        {"category": {"a": 1}},
    ],
    ids=[
        "fields", "long-name", "empty-name", "int-name", "long-value", "choices", "no-choices", "values",
        "nested-list", "nested-object", "object-bound", "list-bound", "unknown-op",
    ],
)  # fmt: skip
def test_unbounded_filters_are_400(filters: dict[Any, Any]) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        check_filters(filters)
    assert refused.value.param == "filters"
    assert len(str(refused.value)) < 300  # the message never echoes the request's bulk


def test_filters_at_the_bounds_pass_and_still_match() -> None:
    filters = {
        **{f"f{i}": i for i in range(MAX_FIELDS - 2)},
        "category": [f"c{i}" for i in range(MAX_CHOICES)],
        "price": {"gte": 1, "lt": 2.5, "ne": None},
    }
    assert sum(len(v) if isinstance(v, list | dict) else 1 for v in filters.values()) <= MAX_VALUES
    checked = check_filters(filters)
    item = {**{f"f{i}": i for i in range(MAX_FIELDS - 2)}, "category": "c99", "price": 2}
    assert matches(item, checked)


def test_tuples_of_choices_from_the_python_api_are_choices() -> None:
    checked = check_filters({"category": ("shoes", "boots")})
    assert checked == {"category": ["shoes", "boots"]}
    assert matches({"category": "boots"}, checked)

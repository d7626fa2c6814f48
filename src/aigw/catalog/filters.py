"""Metadata filters shared by every search path.

A filter is a mapping of field -> condition, all of which must hold:
    {"category": "shoes"}                 equal (for a list-valued field: contains)
    {"category": ["shoes", "boots"]}      one of
    {"price": {"gte": 10, "lt": 100}}     range (gt, gte, lt, lte), numbers or ISO date strings
    {"brand": {"ne": "acme"}}             not equal
    {"in_stock": true}                    booleans compare as values
A missing field never matches a condition (except `ne`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw.errors import InvalidRequestError

_RANGE = {"gt", "gte", "lt", "lte", "ne"}


def check_filters(filters: Any) -> dict[str, Any]:
    """The filters, or a 400 naming what is wrong with them."""
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise InvalidRequestError("filters must be an object of field -> condition", param="filters")
    for name, condition in filters.items():
        if isinstance(condition, Mapping):
            unknown = set(condition) - _RANGE
            if unknown or not condition:
                raise InvalidRequestError(
                    f"filter on {name!r}: use gt, gte, lt, lte or ne, not {sorted(unknown) or 'nothing'}",
                    param="filters",
                )
    return dict(filters)


def matches(metadata: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for name, condition in filters.items():
        present = name in metadata
        value = metadata.get(name)
        if isinstance(condition, Mapping):
            if not _range(value, present, condition):
                return False
        elif isinstance(condition, list):
            if not present or not any(_equal(value, c) for c in condition):
                return False
        elif not present or not _equal(value, condition):
            return False
    return True


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(value, list):
        return any(_equal(v, wanted) for v in value)
    if isinstance(value, str) and isinstance(wanted, str):
        return value.casefold() == wanted.casefold()
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted  # True is not 1 here
    return bool(value == wanted)


def _range(value: Any, present: bool, condition: Mapping[str, Any]) -> bool:
    for op, bound in condition.items():
        if op == "ne":
            if present and _equal(value, bound):
                return False
            continue
        if not present or isinstance(value, bool) or not _comparable(value, bound):
            return False
        if (
            (op == "gt" and not value > bound)
            or (op == "gte" and not value >= bound)
            or (op == "lt" and not value < bound)
            or (op == "lte" and not value <= bound)
        ):
            return False
    return True


def _comparable(value: Any, bound: Any) -> bool:
    numbers = (int, float)
    return (isinstance(value, numbers) and isinstance(bound, numbers)) or (
        isinstance(value, str) and isinstance(bound, str)
    )

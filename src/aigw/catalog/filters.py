"""Metadata filters shared by every search path.

A filter is a mapping of field -> condition, all of which must hold:
    {"category": "shoes"}                 equal (for a list-valued field: contains)
    {"category": ["shoes", "boots"]}      one of
    {"price": {"gte": 10, "lt": 100}}     range (gt, gte, lt, lte), numbers or ISO date strings
    {"brand": {"ne": "acme"}}             not equal
    {"in_stock": true}                    booleans compare as values
A missing field never matches a condition (except `ne`).

Filters come from requests and are checked against every candidate item, so `check_filters` bounds
them before any search: at most 32 fields with names of at most 100 characters, values that are
scalars (strings of at most 1,000 characters, numbers, booleans, null), at most 100 choices in a
list and 200 values in all; nothing nests deeper than a list of choices or a range. An item then
costs at most a few hundred comparisons, whatever the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw.errors import InvalidRequestError

_RANGE = {"gt", "gte", "lt", "lte", "ne"}
MAX_FIELDS = 32
MAX_NAME_CHARS = 100
MAX_VALUE_CHARS = 1000
MAX_CHOICES = 100
MAX_VALUES = 200


def check_filters(filters: Any) -> dict[str, Any]:
    """The filters, or a 400 naming what is wrong with them (see the module docstring for the bounds)."""
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise _bad("filters must be an object of field -> condition")
    if len(filters) > MAX_FIELDS:
        raise _bad(f"at most {MAX_FIELDS} fields may be filtered on, not {len(filters)}")
    values = 0
    checked: dict[str, Any] = {}
    for name, condition in filters.items():
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
            raise _bad(f"a filtered field's name is a string of 1 to {MAX_NAME_CHARS} characters")
        values += _check_condition(name, condition)
        if values > MAX_VALUES:
            raise _bad(f"filters may hold at most {MAX_VALUES} values in all")
        checked[name] = list(condition) if isinstance(condition, tuple) else condition  # choices, as `matches` reads
    return checked


def _check_condition(name: str, condition: Any) -> int:
    """How many values the condition holds; a 400 when it is not one the module docstring allows."""
    if isinstance(condition, Mapping):
        unknown = set(condition) - _RANGE
        if unknown or not condition:
            shown = sorted(str(op)[:20] for op in unknown)[:5] or "nothing"
            raise _bad(f"filter on {name!r}: use gt, gte, lt, lte or ne, not {shown}")
        bounds = list(condition.values())
    elif isinstance(condition, list | tuple):
        if not condition or len(condition) > MAX_CHOICES:
            raise _bad(f"filter on {name!r}: a list of choices holds 1 to {MAX_CHOICES} values")
        bounds = list(condition)
    else:
        bounds = [condition]
    for value in bounds:
        if not _scalar(value):
            raise _bad(
                f"filter on {name!r}: values are strings of at most {MAX_VALUE_CHARS} characters, "
                "numbers, booleans or null"
            )
    return len(bounds)


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_VALUE_CHARS
    return value is None or isinstance(value, bool | int | float)


def _bad(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param="filters")


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

"""What a collection's metadata fields hold, so an LLM can be told which filters exist and an
intent's filters can be checked against them.

A field whose values are a few distinct strings is a list of allowed values; a numeric field is a
range; a boolean field is true/false; free text is not offered as a filter. A collection may
declare its own description (`settings["filters"]`: name -> meaning or allowed values) instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aigw.catalog.item import Item

MAX_CHOICES = 40  # a string field with more distinct values is free text, not a filter
_RANGE_OPS = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    kind: str  # "choice", "number", "boolean", or "described" (declared by the collection)
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    meaning: str = ""
    by_fold: dict[str, str] = field(default_factory=dict)  # casefolded choice -> as stored

    def describe(self) -> str | list[str]:
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "number":
            return f'a number from {self.low:g} to {self.high:g}; a range as {{"gte": x, "lte": y}}'
        if self.kind == "boolean":
            return "true or false"
        return self.meaning


def field_specs(items: Iterable[Item], declared: Mapping[str, Any] | None = None) -> dict[str, FieldSpec]:
    """The filterable fields of `items` (or the collection's declared ones), by name."""
    if declared:
        return {name: _declared(spec) for name, spec in declared.items()}
    strings, numbers, booleans, mixed = _values_by_kind(items)
    specs: dict[str, FieldSpec] = {}
    for name, values in strings.items():
        if len(values) <= MAX_CHOICES and name not in numbers and name not in booleans:
            specs[name] = _choice(sorted(values))
    for name, found in numbers.items():
        if name not in strings and name not in booleans:
            specs[name] = FieldSpec("number", low=min(found), high=max(found))
    for name in booleans - set(strings) - set(numbers):
        specs[name] = FieldSpec("boolean")
    return {name: spec for name, spec in sorted(specs.items()) if name not in mixed}


def _values_by_kind(
    items: Iterable[Item],
) -> tuple[dict[str, set[str]], dict[str, list[float]], set[str], set[str]]:
    strings: dict[str, set[str]] = {}
    numbers: dict[str, list[float]] = {}
    booleans: set[str] = set()
    mixed: set[str] = set()
    for item in items:
        for name, value in item.metadata.items():
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, bool):
                    booleans.add(name)
                elif isinstance(one, int | float):
                    numbers.setdefault(name, []).append(float(one))
                elif isinstance(one, str):
                    strings.setdefault(name, set()).add(one)
                else:
                    mixed.add(name)
    return strings, numbers, booleans, mixed


def usable_filters(proposed: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """The conditions of `proposed` that name a known field with a value it can hold; others are dropped."""
    kept: dict[str, Any] = {}
    for name, condition in proposed.items():
        spec = specs.get(name)
        if spec is None or condition is None:
            continue
        usable = _usable(condition, spec)
        if usable is not None:
            kept[name] = usable
    return kept


def _usable(condition: Any, spec: FieldSpec) -> Any:
    if spec.kind == "number":
        if isinstance(condition, Mapping):
            bounds = {op: v for op, v in condition.items() if op in _RANGE_OPS and _is_number(v)}
            return bounds or None
        return condition if _is_number(condition) else None
    if spec.kind == "boolean":
        return condition if isinstance(condition, bool) else None
    if spec.kind == "choice":
        wanted = condition if isinstance(condition, list) else [condition]
        known = [spec.by_fold[w.casefold()] for w in wanted if isinstance(w, str) and w.casefold() in spec.by_fold]
        if not known:
            return None
        return known[0] if len(known) == 1 else known
    if isinstance(condition, str | int | float | bool):  # a declared field: plain values only
        return condition
    if isinstance(condition, list) and all(isinstance(c, str | int | float) for c in condition):
        return condition or None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _choice(values: list[str]) -> FieldSpec:
    return FieldSpec("choice", choices=tuple(values), by_fold={v.casefold(): v for v in values})


def _declared(spec: Any) -> FieldSpec:
    if isinstance(spec, list) and spec and all(isinstance(v, str) for v in spec):
        return _choice(spec)
    return FieldSpec("described", meaning=str(spec))

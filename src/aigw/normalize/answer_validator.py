"""The validator that judges a provider's answer against a caller's JSON schema, with its work bounded.

A schema of a few hundred bytes can ask for exponential work: `$ref`s shared in a chain of
`anyOf`s (2^22 evaluations took over ten minutes), or a recursive schema applied twice per level
of the answer. Bounding the schema's size does not bound that, so the work itself is metered: each keyword
applied and each error passed up a level is a tick (an error made here weighs more for its message,
which `jsonschema` fills with the value's `repr`), and every `_TICKS_BETWEEN_CLOCK_READS` ticks the
thread's CPU time is read; a check past `MAX_CHECK_CPU_S` stops with a problem instead of a verdict.
CPU time, not a count of steps, because a step costs from 0.2 to 20 µs depending on the keyword
(a `$ref` lookup and a descent cost most), so only the clock bounds the stall whatever the schema;
the thread's time, not the wall clock's, so that a loaded machine does not fail sound answers.
A `RecursionError` (a `$ref` chain deep enough to exhaust the stack) is the same kind of problem.
So the check can neither stall the event loop nor raise after the provider was paid.

Keywords replaced (the rest are `jsonschema`'s, metered):
- `pattern`, `patternProperties`, `additionalProperties`: RE2 (`schema_regex`), linear time.
- `uniqueItems`: `jsonschema` compares unhashable items pairwise (5,000 objects took 20 s); here
  each item gets a hashable key equal exactly when JSON Schema calls two items equal, one pass.
- `multipleOf`: `jsonschema` divides as floats first, which raises on an integer past 1e308 (and on
  a number with a fraction past 1e308, which Python reads as infinity).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from aigw.normalize.schema_regex import additional_properties_keyword, pattern_keyword, pattern_properties_keyword

MAX_CHECK_CPU_S = 0.2  # per answer; an answer of 1,000 objects of 10 properties takes about 0.07 s
_TICKS_BETWEEN_CLOCK_READS = 256  # about 1 ms of work at most between two reads
_MESSAGE_CHARS_PER_TICK = 2_000  # a repr of 2,000 characters costs about as much as the slowest tick

Keyword = Callable[[Any, Any, Any, Any], Iterable[ValidationError] | None]


class CheckTooCostly(Exception):
    """The check of one answer took more than MAX_CHECK_CPU_S, or a deeper stack than Python has."""


class _Meter:
    __slots__ = ("deadline", "ticks_left")

    def __init__(self, seconds: float) -> None:
        self.deadline = time.thread_time() + seconds
        self.ticks_left = _TICKS_BETWEEN_CLOCK_READS

    def tick(self, ticks: int = 1) -> None:
        self.ticks_left -= ticks
        if self.ticks_left <= 0:
            self.ticks_left = _TICKS_BETWEEN_CLOCK_READS
            if time.thread_time() > self.deadline:
                raise CheckTooCostly


_METER: ContextVar[_Meter] = ContextVar("answer_check_meter")


def _metered(keyword: Keyword) -> Keyword:
    def metered(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        meter = _METER.get()  # no meter: the validator was run outside `errors_within_budget`
        meter.tick()
        for error in keyword(validator, value, instance, schema) or ():
            made_here = not error.relative_schema_path  # not passed up from a subschema
            meter.tick(1 + len(error.message) // _MESSAGE_CHARS_PER_TICK if made_here else 1)
            yield error

    return metered


def _equality_key(value: Any) -> Any:
    """A hashable key, equal for two JSON values exactly when JSON Schema holds them equal
    (1 == 1.0, but true != 1; objects regardless of key order). Recursion is bounded by the
    answer's depth, which is checked before it is parsed."""
    if isinstance(value, bool) or value is None:
        return (type(value), value)
    if isinstance(value, int | float):
        return (float, value)  # int and float compare and hash alike when equal
    if isinstance(value, str):
        return (str, value)
    if isinstance(value, list | tuple):
        return (list, tuple(_equality_key(item) for item in value))
    if isinstance(value, dict):
        return (dict, frozenset((key, _equality_key(item)) for key, item in value.items()))
    return (object, id(value))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    if len({_equality_key(item) for item in instance}) < len(instance):
        yield ValidationError("has non-unique elements")


_LIBRARY_MULTIPLE_OF = Draft202012Validator.VALIDATORS["multipleOf"]


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, float) and not math.isfinite(instance):  # a number past 1e308 is read as infinity
        yield ValidationError(f"is not a multiple of {divisor}")
        return
    try:
        yield from _LIBRARY_MULTIPLE_OF(validator, divisor, instance, schema)
    except OverflowError:  # a huge integer divided as a float: exact arithmetic instead
        if (Fraction(instance) / Fraction(divisor)).denominator != 1:
            yield ValidationError(f"is not a multiple of {divisor}")


_KEYWORDS: dict[str, Keyword] = {
    **Draft202012Validator.VALIDATORS,
    "pattern": pattern_keyword,
    "patternProperties": pattern_properties_keyword,
    "additionalProperties": additional_properties_keyword,
    "uniqueItems": _unique_items,
    "multipleOf": _multiple_of,
}

AnswerValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {name: _metered(keyword) for name, keyword in _KEYWORDS.items()},
)


def errors_within_budget(validator: Validator, document: Any, limit: int) -> list[ValidationError]:
    """The first `limit` errors of `document` under `validator`; raises CheckTooCostly past MAX_CHECK_CPU_S."""
    token = _METER.set(_Meter(MAX_CHECK_CPU_S))
    try:
        found: list[ValidationError] = []
        for error in validator.iter_errors(document):
            found.append(error)
            if len(found) >= limit:
                break
        return found
    except RecursionError:
        raise CheckTooCostly from None
    finally:
        _METER.reset(token)

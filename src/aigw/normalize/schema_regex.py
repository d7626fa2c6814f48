"""The regular expressions of a caller's JSON schema, run by RE2 so that they take linear time.

JSON Schema's `pattern` and `patternProperties` are ECMA-262 regexes that `jsonschema` runs with
Python's backtracking `re`: `^(a+)+$` against 26 `a` and a `!` took 5 s (28: 46 s) on the event
loop. RE2 (google-re2, a wheel with the library inside) matches in time linear in the text,
whatever the pattern; in exchange it has no backreferences and no lookarounds, so a pattern using
them is refused with the request (a 400 that says why), never run by a backtracking engine.

ECMA-262 escapes RE2 spells differently are translated (`\\uXXXX`, `\\u{X}` → `\\x{X}`); RE2's `$`
matches only at the very end, as ECMA's does (Python's also matched before a final newline).
Texts and patterns are passed as UTF-8 bytes (`surrogatepass`), so a lone surrogate in a parsed
answer cannot make the encoding raise. Each compiled program may use at most `_MAX_MEM` bytes
(a larger one is refused): with at most a few thousand schema nodes, memory stays bounded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import re2  # type: ignore[import-untyped]
from jsonschema import FormatChecker, ValidationError

_MAX_MEM = 256 << 10  # bytes per compiled pattern and its DFA cache (RE2's default is 8 MiB)
_MAX_QUOTED = 60  # characters of a refused pattern quoted in the error
# One escape at a time (each match consumes the backslash and what it escapes): linear, no nesting.
_ECMA_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|(.))", re.DOTALL)


class PatternRefused(ValueError):
    """A caller's pattern RE2 cannot run (a backreference, a lookaround, bad syntax, too big)."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.max_mem = _MAX_MEM
    return options


_OPTIONS = _options()


def _ecma_to_re2(pattern: str) -> str:
    def translate(escape: re.Match[str]) -> str:
        code = escape.group(1) or escape.group(2)
        return escape.group(0) if code is None else f"\\x{{{code}}}"

    return _ECMA_ESCAPE.sub(translate, pattern)


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program for an ECMA-262 `pattern`; raises PatternRefused with RE2's reason."""
    try:
        return re2.compile(_ecma_to_re2(pattern).encode("utf-8", "surrogatepass"), _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        quoted = pattern if len(pattern) <= _MAX_QUOTED else pattern[: _MAX_QUOTED - 3] + "..."
        raise PatternRefused(
            f"pattern {quoted!r} that RE2 cannot run in linear time ({reason}): "
            "backreferences and lookarounds are not supported"
        ) from None


def matches(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema's `pattern` is not anchored)."""
    return compile_pattern(pattern).search(text.encode("utf-8", "surrogatepass")) is not None


def refuse_nonlinear(pattern: object) -> bool:
    """The `regex` format for the meta-schema check of a caller's schema: raises PatternRefused."""
    if isinstance(pattern, str):
        compile_pattern(pattern)
    return True


REGEX_FORMAT = FormatChecker(formats=())
REGEX_FORMAT.checks("regex", raises=PatternRefused)(refuse_nonlinear)


# The keywords that run patterns, as `jsonschema` writes them but with RE2.


def pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")


def pattern_properties_keyword(
    validator: Any, pattern_properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def additional_properties_keyword(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    named = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [k for k in instance if k not in named and not any(matches(p, k) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield ValidationError(f"{len(extras)} additional properties are not allowed")

"""A caller's `response_format` JSON schema, checked and compiled when the request is read.

Everything that can be refused is refused here, as a 400 before any provider is called, rather
than found while judging the answer (a 500, or a stalled event loop, after the provider was paid):
- size: at most `MAX_SCHEMA_CHARS` of canonical JSON, `MAX_SCHEMA_NODES` values, `MAX_JSON_DEPTH`
  levels; the work of every later step is linear in these;
- the meta-schema (JSON Schema 2020-12), with its `regex` format checked by RE2 (`schema_regex`):
  a pattern RE2 cannot run is refused, saying why;
- the dialect: only 2020-12 (`$schema` absent or 2020-12's). `jsonschema` switches to another
  validator class, without our linear keywords and our meter, on a subschema naming another
  dialect, and even on one naming 2020-12 (its own class, not ours), so `$schema` is dropped from
  the private copy the validator runs on;
- references: each resolves inside the schema and none loops in place (`schema_refs`);
- `patternProperties` beside `unevaluatedProperties`: `jsonschema` finds the properties the latter
  has not seen with Python's backtracking `re`, out of our reach, so the two are not accepted together.

Compiling costs a meta-schema check, about 0.15 ms per value with `jsonschema` (0.3 s for a schema of
`MAX_SCHEMA_NODES` values, 15 ms for a typical one); it used to be paid on every request. The
compiled validator is kept per distinct schema (an LRU of `_CACHED_SCHEMAS`, keyed by canonical JSON: the
same schema written with its keys in another order is the same entry).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from aigw.json_nesting import MAX_JSON_DEPTH, value_exceeds_depth
from aigw.normalize.answer_validator import AnswerValidator
from aigw.normalize.schema_refs import NO_RETRIEVAL, ReferenceRefused, check_references
from aigw.normalize.schema_regex import REGEX_FORMAT, PatternRefused

MAX_SCHEMA_CHARS = 64 * 1024
MAX_SCHEMA_NODES = 2_000  # objects, arrays and scalars; a schema of 100 described properties has about 400
_CACHED_SCHEMAS = 128  # a compiled schema of 2,000 values holds well under 1 MB
_DIALECTS = frozenset({"https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2020-12/schema#"})
_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=REGEX_FORMAT)


class SchemaRefused(ValueError):
    """Why a caller's schema cannot be used to check answers (the message names the schema's fault)."""


def compile_answer_schema(schema: dict[str, Any]) -> Validator:
    """The validator for answers under `schema`; raises SchemaRefused."""
    if value_exceeds_depth(schema):
        raise SchemaRefused(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        canonical = json.dumps(schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # the Python API: keys that are not strings, values that are not JSON
        raise SchemaRefused("is not JSON") from None
    if len(canonical) > MAX_SCHEMA_CHARS:
        raise SchemaRefused(f"is longer than {MAX_SCHEMA_CHARS} characters of JSON")
    return _compiled(canonical)


@functools.lru_cache(maxsize=_CACHED_SCHEMAS)
def _compiled(canonical: str) -> Validator:
    schema = json.loads(canonical)  # a private copy: the caller's request may be changed later
    if _count_nodes(schema) > MAX_SCHEMA_NODES:
        raise SchemaRefused(f"has more than {MAX_SCHEMA_NODES} values")
    error = next(_META_VALIDATOR.iter_errors(schema), None)
    if error is not None:
        if isinstance(error.cause, PatternRefused):
            raise SchemaRefused(f"has a {error.cause}")
        raise SchemaRefused(f"is not valid JSON Schema: {_bounded(error.message)}")
    try:
        subschemas = check_references(schema)
    except ReferenceRefused as refused:
        raise SchemaRefused(f"has a {refused}") from None
    for subschema in subschemas:
        dialect = subschema.pop("$schema", None)
        if dialect is not None and dialect not in _DIALECTS:
            raise SchemaRefused(f"names the dialect {_bounded(str(dialect))}: only JSON Schema 2020-12 is supported")
    if any("unevaluatedProperties" in s for s in subschemas) and any("patternProperties" in s for s in subschemas):
        raise SchemaRefused("uses patternProperties together with unevaluatedProperties, which is not supported")
    return AnswerValidator(schema, registry=NO_RETRIEVAL)


def _count_nodes(value: Any) -> int:
    """How many values `value` holds, counted up to one past MAX_SCHEMA_NODES."""
    count, pending = 0, [value]
    while pending and count <= MAX_SCHEMA_NODES:
        current = pending.pop()
        count += 1
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return count


def _bounded(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""A caller's `response_format` schema is hostile: its references never leave it (no URL, no file is
opened), a reference that does not resolve or loops is a 400 when the request is read, its patterns
run on RE2 in linear time (or are a 400 saying why), its size is bounded, and judging an answer
under it takes bounded CPU and never raises."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigw.errors import InvalidRequestError
from aigw.normalize.answer_schema import MAX_SCHEMA_CHARS, MAX_SCHEMA_NODES
from aigw.normalize.answer_validator import MAX_CHECK_CPU_S
from aigw.normalize.response_format import ExpectedFormat, expected_format, problems
from aigw.types import ChatRequest
from tests.support.counting_http import CountingServer

FAST_S = 0.1
NOT_A_STRING = "at (root): fails 'type' \"string\""
TOO_COSTLY = f"checking it against the schema takes more than {MAX_CHECK_CPU_S:g} s of CPU: simplify the schema"
SCHEMA_SERVED = {"type": "string"}


def request_with(schema: Any) -> ChatRequest:
    return ChatRequest(
        "gpt-4o-mini",
        [{"role": "user", "content": "x"}],
        {"response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}},
    )


def compiled(schema: Any) -> ExpectedFormat:
    expected = expected_format(request_with(schema))
    assert expected is not None
    return expected


def refusal(schema: Any) -> str:
    with pytest.raises(InvalidRequestError) as raised:
        expected_format(request_with(schema))
    error = raised.value
    assert (error.status, error.param, error.code) == (400, "response_format", "invalid_value")
    return error.message


def judged(schema: Any, content: str) -> list[str]:
    return problems({"choices": [{"message": {"role": "assistant", "content": content}}]}, compiled(schema))


@pytest.fixture
def schema_server() -> Iterator[CountingServer]:
    with CountingServer(SCHEMA_SERVED) as server:
        yield server


def remote_schemas(url: str, file_url: str) -> list[Any]:
    return [
        {"$ref": f"{url}/s.json"},
        {"$ref": file_url},
        {"$id": f"{url}/root.json", "$ref": "s.json"},  # relative to a remote base
        {"properties": {"a": {"$ref": f"{url}/s.json#/x"}}},
        {"$defs": {"a": {"$dynamicRef": f"{url}/s.json#meta"}}},
        {"anyOf": [{"type": "integer"}, {"$ref": f"{url}/s.json"}]},  # only followed for some answers
    ]


def test_a_remote_or_file_reference_is_refused_and_never_opened(schema_server: CountingServer, tmp_path: Path) -> None:
    served_file = tmp_path / "s.json"
    served_file.write_text(json.dumps(SCHEMA_SERVED))
    assert schema_server.hits == [] and json.loads(served_file.read_text()) == SCHEMA_SERVED
    for schema in remote_schemas(schema_server.url, served_file.as_uri()):
        message = refusal(schema)  # had the document been read, the reference would have resolved
        assert "does not resolve inside the schema" in message and "never fetched" in message
    assert schema_server.hits == []


def test_the_server_counts_what_is_fetched(schema_server: CountingServer) -> None:
    """The counting server sees a plain fetch, so its silence above means nothing was fetched."""
    with urllib.request.urlopen(f"{schema_server.url}/s.json", timeout=5) as response:
        assert json.loads(response.read()) == SCHEMA_SERVED
    assert schema_server.hits == ["/s.json"]


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        ({"$ref": "#/$defs/missing"}, "#/$defs/missing"),
        ({"$ref": "#nowhere"}, "#nowhere"),
        ({"$ref": "urn:nowhere"}, "urn:nowhere"),
        ({"$ref": "http://[::1/broken"}, "http://[::1/broken"),
        ({"items": {"$ref": "#/$defs/a/b"}, "$defs": {"a": {}}}, "#/$defs/a/b"),
        ({"$id": "https://example.com/root", "$ref": "other.json"}, "other.json"),
    ],
)
def test_an_unresolvable_reference_is_a_400_naming_it(schema: Any, named: str) -> None:
    assert repr(named) in refusal(schema)


def test_a_long_reference_is_named_cut() -> None:
    message = refusal({"$ref": "#/$defs/" + "x" * 10_000})
    assert "..." in message and len(message) < 300


@pytest.mark.parametrize(
    ("schema", "answer", "verdict"),
    [
        ({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s"}, '"a"', []),
        ({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s"}, "1", [NOT_A_STRING]),
        ({"definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s"}, '"a"', []),
        (
            {"$defs": {"s": {"$anchor": "str", "type": "string"}}, "$ref": "#str"},
            "1",
            ["at (root): fails 'type' \"string\""],
        ),
        (
            {"$id": "https://example.com/r", "$defs": {"s": {"$id": "s.json", "type": "string"}}, "$ref": "s.json"},
            '"a"',
            [],
        ),
        (  # a tree: the recursion reads one level deeper into the answer each time
            {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}},
            '{"kids": [{"kids": [{"kids": 1}]}]}',
            ["at kids/0/kids/0/kids: fails 'type' \"array\""],
        ),
        (
            {"$dynamicAnchor": "node", "type": "object", "properties": {"next": {"$dynamicRef": "#node"}}},
            '{"next": {"next": 3}}',
            ["at next/next: fails 'type' \"object\""],
        ),
    ],
)
def test_references_inside_the_schema_still_work(schema: Any, answer: str, verdict: list[str]) -> None:
    assert judged(schema, answer) == verdict


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}},  # used or not
        {"anyOf": [{"type": "string"}, {"$ref": "#"}]},
        {"if": {"$ref": "#"}},
        {"$ref": "#", "unevaluatedProperties": False},
        {"$dynamicAnchor": "m", "oneOf": [{"$dynamicRef": "#m"}]},
    ],
)
def test_a_reference_that_loops_in_place_is_a_400(schema: Any) -> None:
    assert "loops back without reading deeper into the answer" in refusal(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/enum/0", "enum": [5]},
        {"$ref": "#/const", "const": {"type": 12}},
        {"$ref": "#/$defs", "$defs": {"a": {}}},  # a map of schemas, not a schema
    ],
)
def test_a_reference_to_data_rather_than_a_schema_is_a_400(schema: Any) -> None:
    assert "does not point at a schema" in refusal(schema)


@pytest.mark.parametrize(
    ("schema", "answer", "verdict"),
    [
        ({"type": "string", "pattern": "^(a+)+$"}, json.dumps("a" * 5_000 + "!"), "fails 'pattern'"),
        ({"type": "string", "pattern": "^(a|aa)+$"}, json.dumps("a" * 5_000 + "!"), "fails 'pattern'"),
        ({"type": "string", "pattern": "^(\\w+\\s?)*$"}, json.dumps("word " * 2_000 + "!"), "fails 'pattern'"),
        (  # the key does not match, so its value is not judged by the pattern's schema
            {"patternProperties": {"^(a+)+$": {"type": "integer"}}},
            json.dumps({"a" * 5_000 + "!": "x", "aaa": "y"}),
            "at aaa: fails 'type'",
        ),
        (
            {"patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},
            json.dumps({"a" * 5_000 + "!": 1, "aaa": 2}),
            "fails 'additionalProperties' false",
        ),
        ({"properties": {"p": {"pattern": "(x+x+)+y"}}}, json.dumps({"p": "x" * 5_000}), "at p: fails 'pattern'"),
    ],
)
def test_a_backtracking_pattern_is_judged_in_linear_time(schema: Any, answer: str, verdict: str) -> None:
    expected = compiled(schema)
    started = time.perf_counter()
    found = problems({"choices": [{"message": {"content": answer}}]}, expected)
    assert time.perf_counter() - started < FAST_S
    assert len(found) == 1 and verdict in found[0]  # judged, not skipped


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z]+$", "abc", True),
        ("^[a-z]+$", "abc\n", False),  # ECMA's `$` is the very end (Python's also matched before a newline)
        ("b", "abc", True),  # not anchored
        ("^\\u00e9t\\u00e9$", "été", True),  # ECMA's \\u escapes
        ("^\\\\u0041$", "\\u0041", True),  # an escaped backslash before u is no escape
        ("^\\d{3}$", "١٢٣", False),  # \\d is ASCII digits, as in ECMA-262
        ("^.$", "é", True),  # one code point
        ("^\\p{Lu}", "Été", True),
        ("a", "\ud800a", True),  # a lone surrogate in the answer does not break the check
    ],
)
def test_patterns_keep_their_json_schema_meaning(pattern: str, text: str, matches: bool) -> None:
    found = judged({"type": "string", "pattern": pattern}, json.dumps(text))
    assert (found == []) is matches


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"pattern": "^(a)\\1$"}, "invalid escape sequence: \\1"),
        ({"pattern": "^a(?=b)"}, "invalid perl operator: (?="),
        ({"pattern": "(?<!a)b"}, "invalid perl operator: (?<!"),
        ({"properties": {"p": {"pattern": "(?!x)"}}}, "invalid perl operator: (?!"),
        ({"patternProperties": {"^(\\w)\\1": {}}}, "invalid escape sequence: \\1"),
        ({"pattern": "x{2000}"}, "invalid repetition size"),
    ],
)
def test_a_pattern_re2_cannot_run_is_a_400_saying_why(schema: Any, reason: str) -> None:
    message = refusal(schema)
    assert "RE2 cannot run in linear time" in message and reason in message
    assert "backreferences and lookarounds are not supported" in message


def test_a_pattern_too_large_for_its_memory_bound_is_a_400() -> None:
    assert "RE2 cannot run in linear time" in refusal({"pattern": "[a-z]{1000}" * 30})


def test_the_schema_size_is_bounded() -> None:
    assert f"longer than {MAX_SCHEMA_CHARS} characters" in refusal({"description": "x" * MAX_SCHEMA_CHARS})
    assert f"more than {MAX_SCHEMA_NODES} values" in refusal({"enum": list(range(MAX_SCHEMA_NODES))})
    assert compiled({"enum": list(range(MAX_SCHEMA_NODES - 2))}).validator is not None


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"}, "only JSON Schema 2020-12"),
        ({"properties": {"a": {"$schema": "http://json-schema.org/draft-04/schema#"}}}, "only JSON Schema 2020-12"),
        ({"patternProperties": {"a": {}}, "unevaluatedProperties": False}, "patternProperties together with"),
    ],
)
def test_what_would_escape_the_linear_keywords_is_a_400(schema: Any, message: str) -> None:
    assert message in refusal(schema)


def test_naming_2020_12_keeps_the_linear_keywords() -> None:
    """`jsonschema` switches to its own class on a subschema that names a dialect, 2020-12 included."""
    schema = {"properties": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema", "pattern": "^(a+)+$"}}}
    started = time.perf_counter()
    assert judged(schema, json.dumps({"a": "a" * 30 + "!"})) == ["at a: fails 'pattern' \"^(a+)+$\""]
    assert time.perf_counter() - started < FAST_S


def exponential_schema(levels: int) -> dict[str, Any]:
    """Each level refers twice to the next: 2^levels evaluations for an answer no branch accepts."""
    defs = {f"l{i}": {"anyOf": [{"$ref": f"#/$defs/l{i + 1}"}, {"$ref": f"#/$defs/l{i + 1}"}]} for i in range(levels)}
    defs[f"l{levels}"] = {"type": "string"}
    return {"$defs": defs, "$ref": "#/$defs/l0"}


@pytest.mark.parametrize(
    ("schema", "answer"),
    [
        (exponential_schema(30), "1"),
        (  # applied twice per level of the answer: 2^40
            {"$defs": {"n": {"allOf": [{"properties": {"a": {"$ref": "#/$defs/n"}}}] * 2}}, "$ref": "#/$defs/n"},
            '{"a":' * 40 + "1" + "}" * 40,
        ),
        ({"anyOf": [{"type": "integer"}] * 900}, json.dumps("x" * 1_000_000)),  # 900 error messages of 1 MB
        (  # a chain of references deeper than Python's stack
            {
                "$defs": {f"c{i}": {"$ref": f"#/$defs/c{i + 1}"} for i in range(900)} | {"c900": {}},
                "$ref": "#/$defs/c0",
            },
            "1",
        ),
    ],
)
def test_a_check_that_would_cost_too_much_stops_with_a_problem(schema: Any, answer: str) -> None:
    expected = compiled(schema)
    started = time.thread_time()
    found = problems({"choices": [{"message": {"content": answer}}]}, expected)
    assert time.thread_time() - started < MAX_CHECK_CPU_S + 0.3
    assert found == [
        f"checking it against the schema takes more than {MAX_CHECK_CPU_S:g} s of CPU: simplify the schema"
    ]


def test_unique_items_takes_linear_time_and_keeps_json_schema_equality() -> None:
    schema = {"type": "array", "uniqueItems": True}
    distinct = [{"id": i, "tags": [i, str(i)]} for i in range(20_000)]
    started = time.perf_counter()
    assert judged(schema, json.dumps(distinct)) == []
    assert time.perf_counter() - started < 1.0
    duplicate = "at (root): fails 'uniqueItems' true"
    assert judged(schema, '[{"a": 1, "b": [1.0]}, {"b": [1], "a": 1.0}]') == [duplicate]  # 1 == 1.0, any key order
    assert judged(schema, "[1, true, 0, false, null]") == []  # true is not 1


@pytest.mark.parametrize(
    ("schema", "answer", "verdict"),
    [
        ({"multipleOf": 0.5}, "1" * 400, []),  # past 1e308: divided exactly, not as floats
        ({"multipleOf": 0.5}, "1" * 300 + ".5", []),
        ({"multipleOf": 0.5}, "1" * 400 + ".5", ["at (root): fails 'multipleOf' 0.5"]),  # read as infinity
        ({"type": "number"}, "NaN", ["not valid JSON (NaN is not a JSON number)"]),
        ({"type": "number"}, "[Infinity]", ["not valid JSON (Infinity is not a JSON number)"]),
    ],
)
def test_numbers_never_make_the_check_raise(schema: Any, answer: str, verdict: list[str]) -> None:
    assert judged(schema, answer) == verdict


def test_a_number_longer_than_python_reads_is_not_json() -> None:
    (found,) = judged({"type": "integer"}, "1" * 5_000)
    assert found.startswith("not valid JSON (") and len(found) < 250


def test_a_schema_is_compiled_once_whatever_the_order_of_its_keys() -> None:
    first = compiled({"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}})
    again = compiled({"properties": {"a": {"pattern": "^x", "type": "string"}}, "type": "object"})
    assert first.validator is again.validator
    assert compiled({"type": "object", "properties": {"a": {"type": "string"}}}).validator is not first.validator


def test_the_compiled_validator_is_not_changed_by_the_callers_later_edits() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    expected = compiled(schema)
    schema["properties"]["n"]["type"] = "string"
    assert problems({"choices": [{"message": {"content": '{"n": "x"}'}}]}, expected) == [
        "at n: fails 'type' \"integer\""
    ]

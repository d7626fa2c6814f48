"""normalize/response_format: which requests ask for a format, how an answer is judged, the repair request and the
final error. The answer's values never appear in what is reported, only paths and rules."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.errors import InvalidRequestError, UpstreamError
from aigw.normalize.response_format import ExpectedFormat, expected_format, invalid_answer, problems, repair_request
from aigw.types import ChatRequest, EmbeddingRequest

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "who?"}]


def chat(response_format: Any, stream: bool = False) -> ChatRequest:
    return ChatRequest("gpt-4o-mini", list(MESSAGES), {"response_format": response_format}, stream=stream)


def with_schema(schema: Any, name: str | None = "person") -> ChatRequest:
    described: dict[str, Any] = {"schema": schema}
    if name is not None:
        described["name"] = name
    return chat({"type": "json_schema", "json_schema": described})


def answer(*contents: Any) -> dict[str, Any]:
    return {"choices": [{"index": i, "message": {"role": "assistant", "content": c}} for i, c in enumerate(contents)]}


def person_format() -> ExpectedFormat:
    expected = expected_format(with_schema(PERSON))
    assert expected is not None
    return expected


@pytest.mark.parametrize(
    "request_",
    [
        ChatRequest("m", MESSAGES),
        chat({"type": "text"}),
        chat("json_object"),  # not an object: nothing asked
        chat({"type": "json_object"}, stream=True),  # a stream is on its way before it could be judged
        EmbeddingRequest("m", "text", {"response_format": {"type": "json_object"}}),
    ],
)
def test_requests_that_ask_for_no_checked_format(request_: Any) -> None:
    assert expected_format(request_) is None


def test_json_object_wants_an_object() -> None:
    expected = expected_format(chat({"type": "json_object"}))
    assert expected == ExpectedFormat("json_object")
    assert problems(answer('{"a": 1}'), expected) == []
    assert problems(answer("[1, 2]"), expected) == ["a JSON list, not an object"]
    (found,) = problems(answer("{'a': 1}"), expected)
    assert found.startswith("not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2")


def test_json_schema_names_the_path_and_the_rule_never_the_value() -> None:
    expected = person_format()
    assert expected.name == "person"
    assert problems(answer('{"name": "Ada", "age": 36}'), expected) == []
    found = problems(answer('{"name": "secret-value-42", "age": -3, "extra": true}'), expected)
    assert "at age: fails 'minimum' 0" in found
    assert any("additionalProperties" in p for p in found)
    assert not any("secret-value-42" in p for p in found)


def test_every_choice_is_checked_and_tool_calls_are_not() -> None:
    expected = person_format()
    body = answer('{"name": "Ada", "age": 1}', None, "nope")
    assert problems(body, expected) == ["not valid JSON (Expecting value at line 1 column 1)"]


def test_at_most_three_errors_per_answer() -> None:
    expected = expected_format(with_schema({"type": "array", "items": {"type": "integer"}}))
    assert expected is not None
    assert len(problems(answer('["a", "b", "c", "d", "e"]'), expected)) == 3


def test_a_long_rule_is_cut() -> None:
    expected = expected_format(with_schema({"enum": ["x" * 200]}))
    assert expected is not None
    (found,) = problems(answer('"y"'), expected)
    assert found == "at (root): fails 'enum' " + ('["' + "x" * 200)[:77] + "..."


def test_an_unnamed_schema_is_called_json_schema() -> None:
    expected = expected_format(with_schema(PERSON, name=None))
    assert expected is not None and expected.name == "json_schema"


@pytest.mark.parametrize(
    ("response_format", "message"),
    [
        ({"type": "json_schema"}, "needs a 'schema' object"),
        ({"type": "json_schema", "json_schema": {"schema": [1]}}, "needs a 'schema' object"),
        ({"type": "json_schema", "json_schema": "person"}, "needs a 'schema' object"),
        ({"type": "json_schema", "json_schema": {"schema": {"type": "nonsense"}}}, "is not valid JSON Schema"),
    ],
)
def test_a_bad_schema_is_a_400_when_the_request_is_read(response_format: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message) as raised:
        expected_format(chat(response_format))
    assert raised.value.status == 400 and raised.value.param == "response_format"


def test_the_repair_request_carries_the_answer_and_what_is_wrong() -> None:
    request = with_schema(PERSON)
    expected = person_format()
    body = answer('{"name": 1}')
    found = problems(body, expected)
    repair = repair_request(request, body, found, expected)
    assert repair.messages[: len(MESSAGES)] == MESSAGES
    assert repair.messages[-2] == {"role": "assistant", "content": '{"name": 1}'}
    note = repair.messages[-1]
    assert note["role"] == "user"
    assert "JSON valid under the schema 'person'" in note["content"] and found[0] in note["content"]
    assert repair.params == request.params and repair.params is not request.params
    assert repair.stream is False


def test_the_repair_of_a_json_object_answer() -> None:
    request = chat({"type": "json_object"})
    expected = ExpectedFormat("json_object")
    repair = repair_request(request, {"choices": []}, ["a JSON list, not an object"], expected)
    assert repair.messages[-2] == {"role": "assistant", "content": ""}
    assert "was not a JSON object: a JSON list, not an object." in repair.messages[-1]["content"]


def test_the_final_error_is_a_502_naming_the_format() -> None:
    error = invalid_answer(["one", "two", "three", "four"], ExpectedFormat("person"))
    assert isinstance(error, UpstreamError) and error.status == 502
    assert error.code == "invalid_response_format"
    assert error.message.endswith("(person) after one repair attempt: one; two; three")

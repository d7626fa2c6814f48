"""`response_format` checks: an answer that should be JSON (`json_object`) or match a JSON schema
(`json_schema`) is checked before it is returned; the orchestrator asks once for a repair.

Only text answers are checked (not tool calls, not streams: a stream is already on its way when it
could be judged). The schema is the caller's, so it is treated as hostile: it is checked and
compiled when the request is read (`answer_schema`: size, meta-schema, dialect, references, RE2
patterns), so a bad schema is a 400 at once, before any provider is paid; then each answer is judged
with metered work (`answer_validator`), so a costly schema gives a problem, never a stall or a 500.
`jsonschema` and `json` recurse per level, so an answer nested deeper than `MAX_JSON_DEPTH` is not
walked: it is a problem like any other. An answer is parsed as strict JSON: `NaN` and `Infinity`,
which Python's parser accepts, are not JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw.errors import InvalidRequestError, UpstreamError
from aigw.json_nesting import MAX_JSON_DEPTH, text_exceeds_depth
from aigw.types import AIRequest, ChatRequest

if TYPE_CHECKING:  # jsonschema and RE2 are imported by the first request that sends a json_schema
    from jsonschema.protocols import Validator

_MAX_ERRORS = 3  # validation errors named in a repair request or an error message


@dataclass(frozen=True, slots=True)
class ExpectedFormat:
    """What the answer's text must be: any JSON object, or one valid under `validator`."""

    name: str
    validator: Validator | None = None


def expected_format(request: AIRequest) -> ExpectedFormat | None:
    """The format the request asks for, or None; raises 400 on a schema that cannot be used (see
    `answer_schema`)."""
    if not isinstance(request, ChatRequest) or request.stream:
        return None
    spec = request.params.get("response_format")
    if not isinstance(spec, dict):
        return None
    if spec.get("type") == "json_object":
        return ExpectedFormat("json_object")
    if spec.get("type") != "json_schema":
        return None
    described = spec.get("json_schema")
    schema = described.get("schema") if isinstance(described, dict) else None
    if not isinstance(schema, dict):
        raise InvalidRequestError(
            "response_format json_schema needs a 'schema' object", param="response_format", code="invalid_value"
        )
    from aigw.normalize.answer_schema import SchemaRefused, compile_answer_schema

    try:
        validator = compile_answer_schema(schema)
    except SchemaRefused as refused:
        raise InvalidRequestError(
            f"response_format schema {refused}", param="response_format", code="invalid_value"
        ) from None
    name = described.get("name") if isinstance(described, dict) else None
    return ExpectedFormat(str(name or "json_schema"), validator)


def problems(body: dict[str, Any], expected: ExpectedFormat) -> list[str]:
    """Why the answer's texts do not have the expected format ([] when they do). Names paths and
    rules, never the answer's values."""
    found: list[str] = []
    for choice in body.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            continue  # a tool call or a refusal: nothing to check
        if text_exceeds_depth(content):
            found.append(f"nested deeper than {MAX_JSON_DEPTH} levels")
            continue
        try:
            document = json.loads(content, parse_constant=_not_json)
        except json.JSONDecodeError as exc:
            found.append(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
            continue
        except ValueError as exc:  # NaN or Infinity, or an integer past Python's 4,300 digits
            found.append(f"not valid JSON ({_bounded(str(exc))})")
            continue
        if expected.validator is None:
            if not isinstance(document, dict):
                found.append(f"a JSON {type(document).__name__}, not an object")
            continue
        from aigw.normalize.answer_validator import MAX_CHECK_CPU_S, CheckTooCostly, errors_within_budget

        try:
            errors = errors_within_budget(expected.validator, document, _MAX_ERRORS)
        except CheckTooCostly:
            found.append(
                f"checking it against the schema takes more than {MAX_CHECK_CPU_S:g} s of CPU: simplify the schema"
            )
            continue
        for error in errors:
            where = _bounded("/".join(str(p) for p in error.absolute_path)) or "(root)"
            found.append(f"at {where}: fails '{error.validator}' {_rule(error.validator_value)}")
    return found


def repair_request(
    request: ChatRequest, body: dict[str, Any], found: list[str], expected: ExpectedFormat
) -> ChatRequest:
    """The request again, with the invalid answer and what is wrong with it, asking for a corrected one."""
    choices = body.get("choices") or [{}]
    answer = (choices[0].get("message") or {}).get("content") or ""
    want = "a JSON object" if expected.validator is None else f"JSON valid under the schema '{expected.name}'"
    note = (
        f"Your previous answer was not {want}: {'; '.join(found[:_MAX_ERRORS])}. "
        "Reply again with only the corrected JSON, no other text."
    )
    messages = [*request.messages, {"role": "assistant", "content": answer}, {"role": "user", "content": note}]
    return ChatRequest(request.model, messages, dict(request.params), stream=False)


def invalid_answer(found: list[str], expected: ExpectedFormat) -> UpstreamError:
    return UpstreamError(
        f"The provider's answer did not match response_format ({expected.name}) after one repair attempt: "
        + "; ".join(found[:_MAX_ERRORS]),
        code="invalid_response_format",
    )


def _rule(value: Any) -> str:
    return _bounded(json.dumps(value, ensure_ascii=False), 80)


def _bounded(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")

"""Schemathesis against the running gateway: every operation of its OpenAPI schema, plus the OpenAI hot routes
(described by tests/fuzz/openai_schema.py since FastAPI does not list them), with valid and invalid inputs.

Each answer must come (a dropped connection fails the test), within a bound, never as a 5xx, in the declared
content type and schema where one is declared, and every error in OpenAI's error format. The examples are
derandomized and bounded, so a run is reproducible and takes about a minute.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    CheckContext,
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation, BaseSchema

from tests.fuzz.conftest import FUZZ_AUTH
from tests.fuzz.openai_schema import openai_paths
from tests.support.processes import GatewayProcess

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

EXAMPLES_PER_OPERATION = 60
ANSWER_WITHIN_S = 5.0
ERROR_FIELDS = {"message", "type", "param", "code"}


def answers_quickly(ctx: CheckContext, response: Response, case: Case) -> None:
    """No input may freeze a request (a slow regex on the path or a body, say)."""
    assert response.elapsed < ANSWER_WITHIN_S, f"answered in {response.elapsed:.1f} s"


def errors_in_openai_format(ctx: CheckContext, response: Response, case: Case) -> None:
    """A 4xx or 5xx body is `{"error": {"message", "type", "param", "code"}}` in JSON, whatever the route."""
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == ERROR_FIELDS, body


CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    answers_quickly,
    errors_in_openai_format,
]


def gateway_schema(gateway: GatewayProcess) -> dict[str, Any]:
    """The gateway's own `/openapi.json`, with the hot routes added where it does not describe them."""
    raw: dict[str, Any] = httpx.get(f"{gateway.url}/openapi.json", timeout=10).raise_for_status().json()
    for path, operations in openai_paths().items():
        raw["paths"].setdefault(path, operations)
    return raw


@pytest.fixture(scope="module")
def api_schema(fuzz_gateway: GatewayProcess) -> BaseSchema:
    schema = schemathesis.openapi.from_dict(gateway_schema(fuzz_gateway))
    schema.config.update(base_url=fuzz_gateway.url, headers=FUZZ_AUTH, request_timeout=10)
    return schema


def fuzz_operation(operation: APIOperation, mode: GenerationMode) -> None:
    """EXAMPLES_PER_OPERATION generated requests to `operation`; a failing one is shrunk and raised."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        case.call_and_validate(headers=FUZZ_AUTH, checks=CHECKS)

    call()


# schemathesis.pytest.from_fixture (a schema loaded from a running server) fails on pytest 9 ('Function' object has
# no attribute '_nodeid', schemathesis 4.32), so the operations are fuzzed here with their Hypothesis strategies,
# in groups known before the server runs.
@pytest.mark.parametrize(
    "prefix", ["/v1/chat", "/v1/embeddings", "/v1/models", "/v1/tasks/", "/v1/collections", "/admin/"]
)
def test_api_answers_every_input_without_server_errors(
    api_schema: BaseSchema, fuzz_gateway: GatewayProcess, prefix: str
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    group = [operation for operation in operations if operation.path.startswith(prefix)]
    assert group, f"no operation under {prefix}: the schema lost them"
    failures = []
    for operation in group:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_operation(operation, mode)
            except Unsatisfiable:  # an operation without inputs has no invalid ones
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as exc:  # every failing operation is reported, not just the first
                failures.append(f"{operation.label} ({mode.value}): {''.join(traceback.format_exception_only(exc))}")
    assert not failures, "\n\n".join([*failures, "The gateway logged:", *unhandled_errors(fuzz_gateway)])


def unhandled_errors(gateway: GatewayProcess) -> list[str]:
    """The last line (exception and message) of each traceback the gateway logged."""
    lines = [line for line in gateway.log_lines() if line.get("msg") == "unhandled error"]
    return sorted({str(line.get("exc", "")).strip().splitlines()[-1][:300] for line in lines})


def test_the_fragment_adds_the_hot_routes(fuzz_gateway: GatewayProcess) -> None:
    """The OpenAI routes are fuzzed too: the merged schema lists them (from the gateway's schema or the fragment)."""
    paths = gateway_schema(fuzz_gateway)["paths"]
    assert {"/v1/chat/completions", "/v1/embeddings", "/v1/models"} <= set(paths)
    assert httpx.get(f"{fuzz_gateway.url}/healthz", timeout=5).status_code == 200

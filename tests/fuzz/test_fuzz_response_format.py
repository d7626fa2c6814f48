"""Hostile `response_format` schemas: the caller's JSON Schema is checked when the request is read (a 400) and
later run against the provider's answer, so it must neither raise there (a 500 after the call was paid) nor make
the check slow (a caller's regex with nested quantifiers backtracks exponentially on a crafted answer).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigw.errors import InvalidRequestError
from aigw.normalize.response_format import expected_format, problems
from aigw.types import ChatRequest

pytestmark = pytest.mark.fuzz

CHECK_WITHIN_S = 1.0


def judge(schema: Any, content: str) -> list[str] | InvalidRequestError:
    """What the gateway does with a json_schema request, then with the provider's answer `content`."""
    request = ChatRequest(
        "gpt-4o-mini",
        [{"role": "user", "content": "x"}],
        {"response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}},
    )
    try:
        expected = expected_format(request)
    except InvalidRequestError as refused:
        assert refused.status == 400
        return refused
    assert expected is not None
    return problems({"choices": [{"message": {"role": "assistant", "content": content}}]}, expected)


@pytest.mark.parametrize(
    "ref",
    ["http://127.0.0.1:9/schema.json", "file:///etc/passwd", "#/$defs/missing", "urn:nowhere"],
)
def test_an_unresolvable_ref_is_refused_or_ignored_never_raised(ref: str) -> None:
    judge({"$ref": ref}, "{}")


def test_a_remote_ref_is_never_fetched() -> None:
    """A caller's schema must not make the gateway open connections (SSRF, and blocking I/O with no timeout)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(1.0)
        schema = {"$ref": f"http://127.0.0.1:{listener.getsockname()[1]}/schema.json"}

        def check_quietly() -> None:
            with contextlib.suppress(Exception):  # raising is the other test's concern
                judge(schema, "{}")

        checking = threading.Thread(target=check_quietly, daemon=True)
        checking.start()
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            return  # nothing was fetched
        connection.close()  # lets the fetch fail so the thread ends
        checking.join(5)
        pytest.fail("checking an answer fetched the caller's $ref URL")


def test_a_backtracking_pattern_cannot_stall_the_check() -> None:
    started = time.monotonic()
    # 2^26 steps for a backtracking engine (about 5 s here); a linear one takes microseconds
    judge({"type": "string", "pattern": "^(a+)+$"}, json.dumps("a" * 26 + "!"))
    assert time.monotonic() - started < CHECK_WITHIN_S


schema_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "properties", "items", "enum", "const", "required", "minimum", "maxLength", "not"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(schema=schema_values, answer=st.text(max_size=60) | schema_values.map(json.dumps))
def test_any_schema_and_answer_give_a_400_or_a_verdict(schema: Any, answer: str) -> None:
    judge(schema, answer)

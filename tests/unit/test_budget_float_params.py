"""The parameters a budget prices are the parameters sent upstream: `n`, `max_tokens`,
`max_completion_tokens` (and embeddings' `dimensions` and token ids) must be JSON integers, and the
request carries the validated values. A float `"n": 128.0` used to pass validation (lax coercion)
while the output bound, which reads integers only, priced one choice: the provider wrote 128.
"""

from __future__ import annotations

from typing import Any

import pytest

from aigw.api.bodies import chat_request, embedding_request
from aigw.context.bounds import MAX_CHOICES, choice_count, output_cap
from aigw.errors import InvalidRequestError
from aigw.policy.cost_control import cap_output
from aigw.policy.engine import estimate_tokens
from aigw.types import ChatRequest

USER = [{"role": "user", "content": "hi"}]


def chat_body(**params: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": USER, **params}


@pytest.mark.parametrize("name", ["n", "max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", [128.0, 2.0, 1.5, "128", True, [3], {"n": 3}])
def test_priced_chat_integers_must_be_json_integers(name: str, value: Any) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        chat_request(chat_body(**{name: value}), None)
    assert (refused.value.param, refused.value.code, refused.value.status) == (name, "invalid_value", 400)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"dimensions": 256.0}, "dimensions"),
        ({"dimensions": "256"}, "dimensions"),
        ({"input": [1.0, 2.0]}, "input"),
        ({"input": [[1, 2.0]]}, "input"),
        ({"input": [True, 2]}, "input"),
    ],
)
def test_embedding_integers_must_be_json_integers(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        embedding_request({"model": "text-embedding-3-small", "input": "x", **extra}, None)
    assert refused.value.param is not None and refused.value.param.split(".")[0] == param  # e.g. "input.0"
    assert refused.value.status == 400


@pytest.mark.parametrize(("stream", "options"), [("true", {}), (1, {}), (True, {"include_usage": "true"})])
def test_stream_flags_must_be_json_booleans(stream: Any, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        chat_request(chat_body(stream=stream, stream_options=options), None)


def test_the_request_carries_the_validated_values_of_typed_params() -> None:
    request = chat_request(chat_body(n=3, max_tokens=100, temperature="0.5", top_p=1, seed=7), None)
    assert request.params == {"n": 3, "max_tokens": 100, "temperature": 0.5, "top_p": 1.0, "seed": 7}
    assert type(request.params["temperature"]) is float, "what is sent is what was validated, not the raw string"
    assert output_cap(request) == 300, "priced: every choice's cap"


def test_what_is_priced_is_what_is_sent_for_every_accepted_body() -> None:
    """For any accepted body, the output bound equals n x the larger cap, read from the same params."""
    for n in (None, 1, 2, 128):
        for cap in (None, 1, 4096):
            params = {k: v for k, v in {"n": n, "max_tokens": cap}.items() if v is not None}
            request = chat_request(chat_body(**params), None)
            sent = request.params  # what the provider gets
            expected = None if cap is None else cap * (n or 1)
            assert output_cap(request) == expected, sent


def test_an_unreadable_cap_is_replaced_by_the_gateways_own() -> None:
    """A request built inside the gateway with a value the bounds cannot read is treated as
    uncapped, and the cap it gets replaces the unreadable one under either name."""
    request = ChatRequest("o3-mini", USER, {"max_tokens": 1e9, "n": 2})
    assert output_cap(request) is None
    cap_output(request, 1000)
    assert request.params == {"n": 2, "max_completion_tokens": 500}, "the provider sees the priced cap only"
    assert output_cap(request) == 1000


def test_an_unreadable_choice_count_is_priced_as_the_most_allowed() -> None:
    request = ChatRequest("gpt-4o-mini", USER, {"n": 128.0, "max_tokens": 10})
    assert choice_count(request) == MAX_CHOICES
    assert output_cap(request) == 10 * MAX_CHOICES, "never fewer choices than the provider may write"
    cap_output(request, 1280)
    assert request.params["max_tokens"] == 10


def test_tokens_per_minute_estimate_counts_every_choice() -> None:
    one = estimate_tokens(ChatRequest("gpt-4o-mini", USER, {"max_tokens": 100}))
    many = estimate_tokens(ChatRequest("gpt-4o-mini", USER, {"max_tokens": 100, "n": 8}))
    assert many - one == 700

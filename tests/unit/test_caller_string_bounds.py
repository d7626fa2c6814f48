"""Caller strings that reach logs, metrics and the spend ledger are bounded at the edge: `model` and
`user` to 256 characters, `metadata` as OpenAI bounds it (16 pairs, keys of 64, values of 512
characters, strings only). An error names the field, never echoes a caller's key."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.api.bodies import chat_request, embedding_request
from aigw.errors import InvalidRequestError

USER = [{"role": "user", "content": "hi"}]


def refused(convert: Any, body: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        convert(body, None)
    assert info.value.status == 400 and info.value.code == "invalid_value"
    return info.value


@pytest.mark.parametrize(
    ("convert", "base"),
    [(chat_request, {"messages": USER}), (embedding_request, {"input": "x"})],
)
def test_model_and_user_are_at_most_256_characters(convert: Any, base: dict[str, Any]) -> None:
    assert convert({**base, "model": "m" * 256, "user": "u" * 256}, None).model == "m" * 256
    assert refused(convert, {**base, "model": "m" * 257}).param == "model"
    assert refused(convert, {**base, "model": "m", "user": "u" * 257}).param == "user"
    assert refused(convert, {**base, "model": "m", "user": 5}).param == "user"


def test_metadata_within_openais_bounds_is_passed_on() -> None:
    metadata = {f"k{i}".ljust(64, "x"): "v" * 512 for i in range(16)}
    request = chat_request({"model": "m", "messages": USER, "metadata": metadata}, None)
    assert request.params["metadata"] == metadata


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(17)},
        {"k" * 65: "v"},
        {"k": "v" * 513},
        {"k": 5},
        {"k": {"nested": "v"}},
        "not a map",
    ],
)
def test_metadata_past_openais_bounds_is_refused_naming_only_the_field(metadata: Any) -> None:
    error = refused(chat_request, {"model": "m", "messages": USER, "metadata": metadata})
    assert error.param == "metadata"
    assert "k" * 65 not in error.message and "v" * 513 not in error.message

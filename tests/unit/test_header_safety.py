"""Header values built from caller or upstream data are always sendable: printable ASCII, bounded.

A model name with a line break used to reach `x-aigw-model` as it was: the HTTP server refused the
response after the upstream call was paid for, and the caller saw a dropped connection. Each value
is checked here against h11, the strictest of the servers uvicorn runs on.
"""

from __future__ import annotations

from urllib.parse import unquote

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigw.normalize.headers import MAX_HEADER_VALUE, header_value, safe_headers
from aigw.normalize.metadata import answer_headers
from aigw.types import CallInfo


def sendable(headers: dict[str, str]) -> bool:
    """Whether a real HTTP/1.1 server implementation accepts these headers on a response."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(b"GET / HTTP/1.1\r\nhost: gateway\r\n\r\n")
    server.next_event()
    encoded = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    try:
        server.send(h11.Response(status_code=200, headers=[*encoded, (b"content-length", b"0")]))
    except h11.LocalProtocolError:
        return False
    return True


HOSTILE = ["gpt\r\nx-injected: 1", "gpt\nx", "gpt\rx", "模型", "gpt\x00x", "tab\there", " padded ", "\x7f", "é"]


@pytest.mark.parametrize("model", HOSTILE)
def test_answer_headers_are_sendable_whatever_the_model_is_called(model: str) -> None:
    info = CallInfo(provider="openai", deployment=f"openai/{model}", model=model, attempts=1, fallback_from=model)
    info.headers["x-aigw-cost-usd"] = "0.001"
    headers = answer_headers(info)
    assert sendable(headers)
    assert "x-injected" not in headers
    assert unquote(headers["x-aigw-model"]) == model.strip(" ")


def test_raw_hostile_values_are_not_sendable() -> None:
    """The check above can fail: h11 refuses these values as they come."""
    assert not sendable({"x-aigw-model": "gpt\r\nx-injected: 1"})
    with pytest.raises(UnicodeEncodeError):
        sendable({"x-aigw-model": "模型"})


def test_ordinary_values_pass_unchanged() -> None:
    for value in ("gpt-4o-mini", "openai/gpt-4o-mini", "0.000123", "true", "", "a b=c; d"):
        assert header_value(value) == value
    info = CallInfo(provider="openai", deployment="openai/gpt-4o-mini", model="gpt-4o-mini", attempts=2)
    assert answer_headers(info) == {
        "x-aigw-provider": "openai",
        "x-aigw-deployment": "openai/gpt-4o-mini",
        "x-aigw-model": "gpt-4o-mini",
        "x-aigw-attempts": "2",
        "x-aigw-fallback": "false",
    }


def test_values_needing_encoding_are_percent_encoded() -> None:
    assert header_value("gpt\r\nx") == "gpt%0D%0Ax"
    assert header_value("模型") == "%E6%A8%A1%E5%9E%8B"
    assert header_value("50%\n") == "50%25%0A"  # once encoded, "%" itself is too: reversible
    assert header_value("\ud800x") == "%5Cud800x"  # a lone surrogate (no UTF-8 form) is shown escaped


def test_long_values_are_cut_to_the_bound() -> None:
    assert header_value("m" * 100_000) == "m" * MAX_HEADER_VALUE
    for n in range(80, 90):  # never ends half-way through an escape
        value = header_value("a" * n + "模" * 200)
        assert len(value) <= MAX_HEADER_VALUE
        assert unquote(value, errors="strict").startswith("a" * n)


def test_safe_headers_keeps_the_names() -> None:
    assert safe_headers({"x-a": "1", "x-b": "\n"}) == {"x-a": "1", "x-b": "%0A"}


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400))
def test_any_text_becomes_a_sendable_bounded_value(text: str) -> None:
    value = header_value(text)
    assert len(value) <= MAX_HEADER_VALUE
    assert value.isascii()
    assert sendable({"x-aigw-model": value})

"""errors: ProviderError classification and the GatewayError each one becomes."""

from __future__ import annotations

import pytest

from aigw.errors import (
    GatewayError,
    InvalidRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
    RateLimitError,
    UpstreamError,
    UpstreamStatusPassthrough,
    UpstreamTimeoutError,
    gateway_error_from,
)


def test_timeout_becomes_504() -> None:
    err = gateway_error_from(ProviderTimeoutError("read timeout", provider="openai"))
    assert isinstance(err, UpstreamTimeoutError)
    assert (err.status, err.error_type, err.code) == (504, "timeout_error", "upstream_timeout")
    assert "openai" in err.message


def test_connection_error_becomes_502_unreachable() -> None:
    err = gateway_error_from(ProviderConnectionError("connection refused", provider="local"))
    assert isinstance(err, UpstreamError)
    assert (err.status, err.error_type, err.code) == (502, "api_error", "upstream_unreachable")
    assert "connection refused" in err.message and "local" in err.message


def test_bad_response_becomes_502_bad_response() -> None:
    err = gateway_error_from(ProviderResponseError("not JSON", provider="openai"))
    assert (err.status, err.code) == (502, "upstream_bad_response")


def test_unnamed_provider_is_called_upstream() -> None:
    assert "upstream" in gateway_error_from(ProviderTimeoutError("x")).message


def test_plain_provider_error_becomes_502() -> None:
    err = gateway_error_from(ProviderError("boom", provider="p"))
    assert (type(err), err.status, err.code) == (UpstreamError, 502, "upstream_error")


def test_429_becomes_rate_limit_and_keeps_retry_after() -> None:
    err = gateway_error_from(
        ProviderStatusError(429, {"error": {"message": "slow down"}}, provider="openai", retry_after=2.4)
    )
    assert isinstance(err, RateLimitError)
    assert (err.status, err.error_type, err.code) == (429, "rate_limit_error", "upstream_rate_limited")
    assert err.headers == {"retry-after": "2"}
    assert err.retry_after == 2.4
    assert "slow down" in err.message


def test_429_retry_after_header_is_at_least_one_second() -> None:
    err = gateway_error_from(ProviderStatusError(429, None, retry_after=0.2))
    assert err.headers["retry-after"] == "1"


def test_429_without_retry_after_has_no_header() -> None:
    assert "retry-after" not in gateway_error_from(ProviderStatusError(429, None)).headers


@pytest.mark.parametrize("status", [401, 403])
def test_upstream_auth_failure_is_the_gateways_problem(status: int) -> None:
    body = {"error": {"message": "Incorrect API key provided: sk-abc***", "type": "invalid_request_error"}}
    err = gateway_error_from(ProviderStatusError(status, body, provider="openai"))
    assert isinstance(err, UpstreamError)
    assert (err.status, err.error_type, err.code) == (502, "api_error", "upstream_auth_failed")
    assert "sk-abc" not in err.message  # the upstream's text about our key is not relayed
    assert err.to_body()["error"]["code"] == "upstream_auth_failed"


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_server_side_statuses_become_502(status: int) -> None:
    err = gateway_error_from(ProviderStatusError(status, {"error": {"message": "overloaded"}}, provider="p"))
    assert type(err) is UpstreamError
    assert (err.status, err.code) == (502, "upstream_error")
    assert str(status) in err.message and "overloaded" in err.message


def test_400_passes_the_upstream_body_through() -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 128000 tokens.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    err = gateway_error_from(ProviderStatusError(400, body, provider="openai"))
    assert isinstance(err, UpstreamStatusPassthrough)
    assert err.status == 400
    assert err.to_body() == body


def test_404_without_an_error_object_gets_an_openai_shaped_body() -> None:
    err = gateway_error_from(ProviderStatusError(404, {"detail": "no such route"}, provider="p"))
    assert err.status == 404
    assert err.to_body() == {
        "error": {
            "message": "upstream answered HTTP 404",
            "type": "invalid_request_error",
            "param": None,
            "code": "upstream_404",
        }
    }


def test_provider_status_error_reads_the_upstream_message() -> None:
    assert ProviderStatusError(400, {"error": {"message": "bad thing"}}).message == "bad thing"
    assert ProviderStatusError(400, {"error": "plain text"}).message == "plain text"
    assert ProviderStatusError(503, None).message == "upstream answered HTTP 503"
    assert ProviderStatusError(503, {"error": {"message": 5}}).message == "upstream answered HTTP 503"


@pytest.mark.parametrize(
    ("status", "retryable", "counts"),
    [(400, False, False), (401, False, True), (403, False, True), (408, True, True), (409, True, False),
     (429, True, False), (500, True, True), (503, True, True), (404, False, False)],
)  # fmt: skip
def test_status_classification(status: int, retryable: bool, counts: bool) -> None:
    err = ProviderStatusError(status, None)
    assert (err.retryable, err.counts_against_health) == (retryable, counts)


def test_gateway_error_body_shape() -> None:
    err = InvalidRequestError("bad", param="messages", code="invalid_value")
    assert err.to_body() == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "messages", "code": "invalid_value"}
    }
    assert GatewayError("x").status == 500

"""Exception tree: every error the gateway answers with knows its HTTP status and OpenAI error type.

GatewayError                    -> {"error": {"message", "type", "param", "code"}}
├── InvalidRequestError         400 invalid_request_error
├── AuthenticationError         401 authentication_error
├── PermissionDeniedError       403 permission_error
├── NotFoundError               404 not_found_error
├── RequestTooLargeError        413 invalid_request_error
├── RateLimitError              429 rate_limit_error (Retry-After when known)
├── UpstreamError               502 api_error (provider failed, answered garbage or refused us)
├── ServiceUnavailableError     503 api_error (kill switch, circuit open, shutting down)
└── UpstreamTimeoutError        504 timeout_error

ProviderError                   raised by providers, turned into a GatewayError by the client
├── ProviderConnectionError     connect refused/reset, connection dropped mid-answer
├── ProviderTimeoutError        no answer within the provider's timeout
├── ProviderStatusError         the upstream answered with an error status
└── ProviderResponseError       the upstream answered 200 with a body that is not what it should be
"""

from __future__ import annotations

import math
from typing import Any

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})  # 529: Anthropic's "overloaded"
_MAX_RETRY_AFTER_HEADER = 86_400  # one day


class GatewayError(Exception):
    """An error answered to the client in OpenAI's error format."""

    status: int = 500
    error_type: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


class InvalidRequestError(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class AuthenticationError(GatewayError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    status = 403
    error_type = "permission_error"


class NotFoundError(GatewayError):
    status = 404
    error_type = "not_found_error"


class RequestTooLargeError(GatewayError):
    status = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RateLimitError(GatewayError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        merged = dict(headers or {})
        header = retry_after_header(retry_after)
        if header is not None:
            merged["retry-after"] = header
        super().__init__(message, code=code, headers=merged)
        self.retry_after = retry_after


def retry_after_header(seconds: float | None) -> str | None:
    """A `Retry-After` value in whole seconds (rounded, 1 to a day), or None for no usable wait.

    The wait may come from an upstream's header: NaN or infinity must give no header rather than
    an OverflowError from `round`."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return str(round(min(max(seconds, 1.0), _MAX_RETRY_AFTER_HEADER)))


class UpstreamError(GatewayError):
    status = 502
    error_type = "api_error"
    default_code = "upstream_error"


class ServiceUnavailableError(GatewayError):
    """Always with `Retry-After`: the open circuit's own wait, else `DEFAULT_RETRY_AFTER_S` (a
    switched-off gateway or task is an operator's decision, not a passing failure)."""

    status = 503
    error_type = "api_error"
    default_code = "service_unavailable"
    DEFAULT_RETRY_AFTER_S = 30

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            message, code=code, param=param, headers={"retry-after": str(self.DEFAULT_RETRY_AFTER_S), **(headers or {})}
        )


class UpstreamTimeoutError(GatewayError):
    status = 504
    error_type = "timeout_error"
    default_code = "upstream_timeout"


class UpstreamStatusPassthrough(GatewayError):
    """A client-side error (400, 404, 422 ...) the upstream answered: relayed with its own body."""

    error_type = "invalid_request_error"

    def __init__(self, status: int, body: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.status = status
        self._body = body

    def to_body(self) -> dict[str, Any]:
        return self._body


class ProviderError(Exception):
    """A failed call to one provider. `retryable` says whether another attempt may succeed."""

    retryable: bool = True
    counts_against_health: bool = True

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider


class ProviderConnectionError(ProviderError):
    pass


class ProviderTimeoutError(ProviderError):
    pass


class ProviderResponseError(ProviderError):
    pass


class ProviderStatusError(ProviderError):
    def __init__(
        self, status: int, body: dict[str, Any] | None, *, provider: str = "", retry_after: float | None = None
    ) -> None:
        detail = _upstream_message(body) or f"upstream answered HTTP {status}"
        super().__init__(detail, provider=provider)
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.retryable = status in RETRYABLE_STATUSES
        # A rate limit is the upstream working as designed; bad credentials make it unusable.
        self.counts_against_health = status >= 500 or status in (401, 403, 408)


def unsupported_request(
    message: str, *, param: str | None, provider: str, code: str = "unsupported"
) -> ProviderStatusError:
    """A request a provider family cannot serve (a parameter it lacks, a model name that cannot be
    its URL): a 400 in OpenAI's shape that the client gets as is, never retried, never counted
    against the provider's health, raised before anything is sent."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return ProviderStatusError(400, {"error": error}, provider=provider)


def _upstream_message(body: dict[str, Any] | None) -> str | None:
    if not body:
        return None
    err = body.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return str(err["message"])
    if isinstance(err, str):
        return err
    return None


def gateway_error_from(exc: ProviderError) -> GatewayError:
    """The answer the client gets once every attempt at a provider has failed with `exc`."""
    name = exc.provider or "upstream"
    if isinstance(exc, ProviderTimeoutError):
        return UpstreamTimeoutError(f"{name} did not answer in time")
    if isinstance(exc, ProviderConnectionError):
        return UpstreamError(f"could not reach {name}: {exc.message}", code="upstream_unreachable")
    if isinstance(exc, ProviderResponseError):
        return UpstreamError(f"{name} sent an invalid answer: {exc.message}", code="upstream_bad_response")
    if isinstance(exc, ProviderStatusError):
        if exc.status == 429:
            return RateLimitError(
                f"{name} is rate limiting: {exc.message}", retry_after=exc.retry_after, code="upstream_rate_limited"
            )
        if exc.status in (401, 403):
            # The upstream refused the gateway's own credentials: not the caller's fault.
            return UpstreamError(
                f"{name} refused the gateway's credentials (HTTP {exc.status})", code="upstream_auth_failed"
            )
        if exc.status >= 500 or exc.status in (408, 409):
            return UpstreamError(f"{name} failed with HTTP {exc.status}: {exc.message}")
        if exc.body and isinstance(exc.body.get("error"), dict):
            # Relayed in OpenAI's shape whatever the family sent (Azure's has no type or param).
            body = {"error": {"type": "invalid_request_error", "param": None, "code": None, **exc.body["error"]}}
        else:
            body = InvalidRequestError(exc.message, code=f"upstream_{exc.status}").to_body()
        return UpstreamStatusPassthrough(exc.status, body, exc.message)
    return UpstreamError(f"{name} failed: {exc.message}")

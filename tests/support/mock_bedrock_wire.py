"""The Bedrock runtime's wire format for the mock (`mock_bedrock.py`): SigV4 checking, AWS error
answers, event-stream frames, and the Converse request checks.

- Signatures are recomputed with botocore's `SigV4Auth` from what was received (method, raw path,
  the signed headers, the body) and the known test credentials; like AWS, no `Authorization` is 403
  MissingAuthenticationTokenException, an unknown key or session token 403
  UnrecognizedClientException, a wrong signature, scope or a date more than 5 minutes off 403
  InvalidSignatureException.
- Errors: the status, `x-amzn-ErrorType: <Name>:http://internal.amazon.com/coral/...` and
  `{"message": ...}`, as the Bedrock runtime answers (the rest-json protocol).
- Frames (`application/vnd.amazon.eventstream`): prelude (total length, headers length, CRC32),
  string headers (`:message-type`, `:event-type` or `:exception-type`, `:content-type`), the JSON
  payload, the message CRC32. botocore only decodes, so the encoder is written here;
  test_mock_bedrock.py checks that botocore's parser reads it back.
"""

from __future__ import annotations

import datetime
import hmac
import json
import re
import struct
import zlib
from typing import Any

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

ACCESS_KEY = "AKIAMOCKBEDROCK0TEST"
SECRET_KEY = "mock/Bedrock+Secret0Key0For0Tests0000000"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEMOCKBEDROCKSESSIONTOKEN"
REGION = "us-east-1"
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"  # Bedrock pads events with "p"

# A fault's status as the Bedrock runtime would answer it: (status, error name).
WIRE_ERRORS = {
    400: (400, "ValidationException"),
    401: (403, "UnrecognizedClientException"),  # AWS never answers 401: bad credentials are 403
    403: (403, "AccessDeniedException"),
    404: (404, "ResourceNotFoundException"),
    408: (408, "ModelTimeoutException"),
    413: (400, "ValidationException"),  # "Input is too long for requested model"
    424: (424, "ModelErrorException"),
    429: (429, "ThrottlingException"),
    500: (500, "InternalServerException"),
    503: (503, "ServiceUnavailableException"),
    529: (503, "ServiceUnavailableException"),  # Bedrock's "overloaded"
}
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/, ]+)/([0-9]{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request,"
    r" ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})"
)
_MAX_SKEW = datetime.timedelta(minutes=5)


class Refused(Exception):
    """An AWS error answer: status, error name, message."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


def error_response(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"message": message},
        status=status,
        headers={
            "x-amzn-ErrorType": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-RequestId": "00000000-mock-0000-0000-000000000000",
            **(headers or {}),
        },
    )


def check_signature(request: web.Request, body: bytes, token: str | None) -> None:
    """Raises Refused unless `request` is signed as AWS would accept it (see the module docstring)."""
    header = request.headers.get("authorization")
    if not header:
        raise Refused(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTHORIZATION.fullmatch(header)
    if match is None:
        raise Refused(403, "IncompleteSignatureException", "Authorization header requires Credential, Signature")
    key, day, region, service, signed, signature = match.groups()
    if key != ACCESS_KEY:
        raise Refused(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    names = signed.split(";")
    stamp = request.headers.get("x-amz-date", "")
    if "host" not in names or "x-amz-date" not in names or not stamp.startswith(day):
        raise Refused(403, "IncompleteSignatureException", "host and x-amz-date must be signed")
    if region != REGION or service != "bedrock":
        raise Refused(403, "InvalidSignatureException", f"Credential should be scoped to {REGION}/bedrock")
    when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    if abs(datetime.datetime.now(datetime.UTC) - when) > _MAX_SKEW:
        raise Refused(403, "InvalidSignatureException", "Signature expired")
    if token is not None and (
        "x-amz-security-token" not in names or request.headers.get("x-amz-security-token") != token
    ):
        raise Refused(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    received = AWSRequest(
        method=request.method,
        url=f"http://{request.host}{request.raw_path}",
        data=body,
        headers={name: request.headers.get(name, "") for name in names},
    )
    received.context["timestamp"] = stamp
    auth = SigV4Auth(ReadOnlyCredentials(ACCESS_KEY, SECRET_KEY, token), service, region)
    expected = auth.signature(auth.string_to_sign(received, auth.canonical_request(received)), received)
    if not hmac.compare_digest(expected, signature):
        raise Refused(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message (string headers only, which is all Converse sends)."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name + b"\x07" + struct.pack("!H", len(raw_value)) + raw_value
    prelude = struct.pack("!II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event_frame(name: str, data: dict[str, Any], padding: int = 8) -> bytes:
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps({**data, "p": PADDING[:padding]}).encode())


def exception_frame(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return frame(headers, json.dumps({"message": message}).encode())

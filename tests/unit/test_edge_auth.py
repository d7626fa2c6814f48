"""api/auth: a presented key must be valid in every mode, and guessing is throttled before any lookup."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from aigw.api.auth import Authenticator
from aigw.api.client_address import ClientAddress
from aigw.api.signin_throttle import SignInThrottle
from aigw.errors import AuthenticationError, RateLimitError
from aigw.policy.keys import KeyCache, KeyRecord, generate_key

MASTER = "sk-unit-master-0123456789abcdef0123456789"


def request(*headers: tuple[str, str], peer: str = "127.0.0.1") -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "client": (peer, 1234)})


class CountingKeys(KeyCache):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def lookup(self, token: str) -> KeyRecord | None:
        self.lookups += 1
        return super().lookup(token)


def keys_with_one() -> tuple[CountingKeys, str]:
    keys = CountingKeys()
    new = generate_key()
    keys.replace([(new.key_hash, KeyRecord(id=new.id, prefix=new.prefix, models=frozenset({"gpt-4o-mini"})))])
    return keys, new.token


def test_without_a_master_key_no_key_is_the_anonymous_admin() -> None:
    caller = Authenticator(None).authenticate(request())
    assert caller.key_id == "anonymous" and caller.is_admin


@pytest.mark.parametrize(
    "header",
    [
        ("authorization", "Bearer sk-bogus"),
        ("authorization", "Bearer sk-aigw-not-a-key"),
        ("api-key", "sk-bogus"),
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("authorization", "Bearer "),
    ],
)
@pytest.mark.parametrize("master", [None, MASTER])
def test_an_invalid_key_is_a_401_in_every_mode(header: tuple[str, str], master: str | None) -> None:
    with pytest.raises(AuthenticationError):
        Authenticator(master).authenticate(request(header))


def test_without_a_master_key_a_virtual_key_keeps_its_limits() -> None:
    keys, token = keys_with_one()
    caller = Authenticator(None, keys).authenticate(request(("authorization", f"Bearer {token}")))
    assert not caller.is_admin and caller.key is not None and caller.key.models == {"gpt-4o-mini"}


def test_the_master_key() -> None:
    caller = Authenticator(MASTER).authenticate(request(("authorization", f"Bearer {MASTER}")))
    assert caller.key_id == "master" and caller.is_admin


def test_failures_are_throttled_before_any_key_is_looked_at() -> None:
    keys, token = keys_with_one()
    auth = Authenticator(MASTER, keys, throttle=SignInThrottle(limit=3, window_s=60))
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            auth.authenticate(request(("authorization", "Bearer sk-aigw-guess"), peer="203.0.113.4"))
    looked_up = keys.lookups
    for good in (token, MASTER):
        with pytest.raises(RateLimitError) as caught:
            auth.authenticate(request(("authorization", f"Bearer {good}"), peer="203.0.113.4"))
        assert int(caught.value.headers["retry-after"]) > 0
    assert keys.lookups == looked_up
    assert auth.authenticate(request(("authorization", f"Bearer {token}"), peer="203.0.113.5")).key is not None


def test_a_missing_key_is_not_a_guess() -> None:
    auth = Authenticator(MASTER, throttle=SignInThrottle(limit=1, window_s=60))
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            auth.authenticate(request())
    assert auth.authenticate(request(("authorization", f"Bearer {MASTER}"))).is_admin


def test_the_throttle_counts_the_forwarded_client_behind_a_trusted_proxy() -> None:
    auth = Authenticator(MASTER, throttle=SignInThrottle(limit=1, window_s=60), addresses=ClientAddress(["127.0.0.1"]))

    def via_proxy(client: str, key: str) -> Request:
        return request(("authorization", f"Bearer {key}"), ("x-forwarded-for", client))

    with pytest.raises(AuthenticationError):
        auth.authenticate(via_proxy("203.0.113.8", "wrong"))
    with pytest.raises(RateLimitError):
        auth.authenticate(via_proxy("203.0.113.8", MASTER))
    caller = auth.authenticate(via_proxy("203.0.113.9", MASTER))
    assert caller.ip == "203.0.113.9"


def test_an_overlong_key_is_refused_unhashed() -> None:
    keys = CountingKeys()
    with pytest.raises(AuthenticationError):
        Authenticator(MASTER, keys).authenticate(request(("authorization", "Bearer sk-aigw-" + "x" * 100_000)))
    assert keys.lookups == 0

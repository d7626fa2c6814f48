"""Single sign-on against a real OpenID Connect provider (tests/support/oidc_provider.py), driven over
real HTTP by a cookie-keeping client that follows redirects, through an `aigw serve` process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.conftest import MASTER_KEY
from tests.support.oidc_provider import OidcProvider
from tests.support.processes import GatewayProcess, start_gateway

pytestmark = pytest.mark.integration
ADMINS, VIEWERS = "aigw admins", "aigw-viewers"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    idp = OidcProvider().start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def gateway(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OIDC_ISSUER": provider.issuer,
        "AI_OIDC_CLIENT_ID": provider.client_id,
        "AI_OIDC_CLIENT_SECRET": provider.client_secret,
        "AI_OIDC_ADMIN_VALUES": ADMINS,
        "AI_OIDC_VIEWER_VALUES": f"{VIEWERS},other-viewers",
        "AI_AUTH_FAILURE_LIMIT": "1000",
    }
    process = start_gateway(tmp_path_factory.mktemp("oidc"), env)
    provider.redirect_uris.add(f"{process.url}/admin/oidc/callback")
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def fresh_provider(provider: OidcProvider) -> Iterator[None]:
    yield
    provider.sign_with = None
    provider.id_token_overrides = {}


def browser(gateway: GatewayProcess) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, follow_redirects=True, timeout=30)


def sign_in(client: httpx.Client, provider: OidcProvider, user: dict[str, Any]) -> httpx.Response:
    provider.user = user
    return client.get("/admin/oidc/login", params={"next": "/admin/keys"})


def refused(answer: httpx.Response, code: str) -> bool:
    return answer.url.path == "/admin/login" and parse_qs(answer.url.query.decode()).get("error") == [code]


def test_an_admin_signs_in_and_may_change_things(gateway: GatewayProcess, provider: OidcProvider) -> None:
    with browser(gateway) as client:
        landed = sign_in(client, provider, {"sub": "u-1", "preferred_username": "alice", "groups": [ADMINS]})
        assert landed.status_code == 200 and landed.url.path == "/admin/oidc/callback"
        assert 'content="0;url=/admin/keys"' in landed.text
        assert "aigw_oidc_flow" not in client.cookies  # the flow is over
        me = client.get("/admin/api/session").json()
        assert (me["name"], me["role"], me["via"]) == ("alice", "admin", "session")
        session_token = client.cookies["aigw_session"]
        assert session_token not in landed.text + str(me)
        change = client.put(
            "/admin/api/flags/oidc_test", json={"enabled": True}, headers={"x-csrf-token": me["csrf_token"]}
        )
        assert change.status_code == 200, change.text
        audit = client.get("/admin/api/audit").json()["data"]
        assert {(e["actor"], e["action"]) for e in audit} >= {
            ("admin:alice", "admin.sign_in"),
            ("admin:alice", "flag.set"),
        }
        token_request = provider.token_requests[-1]
        assert token_request["code_verifier"] and token_request["grant_type"] == "authorization_code"


def test_a_viewer_signs_in_and_changes_nothing(gateway: GatewayProcess, provider: OidcProvider) -> None:
    with browser(gateway) as client:
        landed = sign_in(client, provider, {"sub": "u-2", "email": "bob@example.com", "groups": [VIEWERS]})
        assert landed.status_code == 200
        me = client.get("/admin/api/session").json()
        assert (me["name"], me["role"]) == ("bob@example.com", "viewer")
        assert client.get("/admin/api/flags").status_code == 200
        change = client.put(
            "/admin/api/flags/oidc_test", json={"enabled": False}, headers={"x-csrf-token": me["csrf_token"]}
        )
        assert change.status_code == 403 and change.json()["error"]["code"] == "admin_only"


def test_a_user_without_a_mapped_role_is_refused(gateway: GatewayProcess, provider: OidcProvider) -> None:
    with browser(gateway) as client:
        landed = sign_in(client, provider, {"sub": "u-3", "preferred_username": "eve", "groups": ["staff"]})
        assert refused(landed, "sso_no_role")
        assert "aigw_session" not in client.cookies
        assert client.get("/admin/api/session").status_code == 401


def test_a_forged_state_is_refused(gateway: GatewayProcess, provider: OidcProvider) -> None:
    provider.user = {"sub": "u-1", "preferred_username": "alice", "groups": [ADMINS]}
    with browser(gateway) as client:
        start = client.get("/admin/oidc/login", follow_redirects=False)
        authorize = urlsplit(start.headers["location"])
        query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
        assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
        query["state"] = "forged-" + query["state"]
        landed = client.get(f"{provider.issuer}/authorize?{urlencode(query)}")
        assert refused(landed, "sso_failed")
        assert client.get("/admin/api/session").status_code == 401


def test_a_callback_from_another_browser_is_refused(gateway: GatewayProcess, provider: OidcProvider) -> None:
    """Login CSRF: an attacker's own code and state, opened in the victim's browser."""
    provider.user = {"sub": "u-9", "preferred_username": "mallory", "groups": [ADMINS]}
    with browser(gateway) as attacker, browser(gateway) as victim:
        start = attacker.get("/admin/oidc/login", follow_redirects=False)
        to_provider = attacker.get(start.headers["location"], follow_redirects=False)
        callback = to_provider.headers["location"]
        landed = victim.get(callback)
        assert refused(landed, "sso_expired")
        assert victim.get("/admin/api/session").status_code == 401


@pytest.mark.parametrize(
    "tampering",
    [
        {"sign_with": "same key id, other key"},
        {"sign_with": "unknown key id"},
        {"nonce": "not-the-flow-nonce"},
        {"aud": "another-client"},
        {"iss": "http://127.0.0.1:1"},
        {"exp": "an hour ago"},
    ],
    ids=["other-key", "unknown-kid", "nonce", "audience", "issuer", "expired"],
)
def test_an_id_token_that_does_not_verify_is_refused(
    gateway: GatewayProcess, provider: OidcProvider, tampering: dict[str, str]
) -> None:
    if tampering.get("sign_with") == "same key id, other key":
        provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": provider.key.kid})
    elif tampering.get("sign_with") == "unknown key id":
        provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "rogue"})
    elif "exp" in tampering:
        provider.id_token_overrides = {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}
    else:
        provider.id_token_overrides = dict(tampering)
    with browser(gateway) as client:
        landed = sign_in(client, provider, {"sub": "u-1", "preferred_username": "alice", "groups": [ADMINS]})
        assert refused(landed, "sso_failed")
        assert "aigw_session" not in client.cookies
        assert client.get("/admin/api/session").status_code == 401


def test_single_sign_on_is_absent_unless_configured(tmp_path: Path) -> None:
    plain = start_gateway(tmp_path, {"AI_MASTER_KEY": MASTER_KEY})
    try:
        assert httpx.get(f"{plain.url}/admin/oidc/login").status_code == 404
        assert httpx.get(f"{plain.url}/admin/oidc/callback?code=x&state=y").status_code == 404
        assert "single sign-on" not in httpx.get(f"{plain.url}/admin/login").text
    finally:
        plain.stop()

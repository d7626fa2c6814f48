"""Signing in to the admin panel with a password or the master key, on the real application: the
cookie's attributes, one answer for every failure, the throttle, sign-out, cross-site sign-ins,
where a sign-in may return to, and the page itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aigw.api.app import create_app
from aigw.configfile import load_config
from aigw.gateway import Gateway
from aigw.settings import load_settings
from aigw.store.migrate import upgrade
from aigw.store.users import Users
from tests.conftest import MASTER_KEY

pytestmark = pytest.mark.integration
PASSWORD = "login test password"


def app_client(state: Path, **settings: object) -> TestClient:
    gateway = Gateway(loaded := load_settings(master_key=MASTER_KEY, state_dir=state, **settings), load_config(loaded))
    asyncio.run(upgrade(gateway.database))
    asyncio.run(Users(gateway.database).create("ada", "admin", PASSWORD, "test"))
    return TestClient(create_app(gateway), base_url="http://127.0.0.1")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path, auth_failure_limit=3) as test_client:
        yield test_client


def test_a_password_sign_in_sets_a_strict_httponly_cookie(client: TestClient) -> None:
    answer = client.post("/admin/login?next=/admin/traces", json={"name": "ada", "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json() == {"name": "ada", "role": "admin", "redirect": "/admin/traces"}
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain http on loopback: a Secure cookie would be dropped
    assert "max-age=43200" in cookie
    assert client.get("/admin/api/session").json()["via"] == "session"


def test_off_loopback_the_cookie_is_secure(tmp_path: Path) -> None:
    with app_client(tmp_path, allowed_hosts=["panel.example"]) as other:
        answer = other.post(
            "http://panel.example/admin/login", json={"password": MASTER_KEY}, headers={"host": "panel.example"}
        )
        assert answer.status_code == 200 and "secure" in answer.headers["set-cookie"].lower()


def test_the_master_key_signs_in_with_an_empty_name(client: TestClient) -> None:
    answer = client.post("/admin/login", json={"name": "", "password": MASTER_KEY})
    assert answer.status_code == 200 and answer.json()["name"] == "master"
    assert MASTER_KEY not in answer.text


def test_every_failure_answers_the_same_and_is_throttled(client: TestClient) -> None:
    attempts = [
        {"name": "ada", "password": "wrong password here"},
        {"name": "nobody", "password": PASSWORD},
        {"password": "not the master key at all, no"},
    ]
    for attempt in attempts:
        answer = client.post("/admin/login", json=attempt)
        assert answer.status_code == 401
        assert answer.json()["error"] == {
            "message": "Wrong name or password",
            "type": "authentication_error",
            "param": None,
            "code": "sign_in_failed",
        }
    throttled = client.post("/admin/login", json={"name": "ada", "password": PASSWORD})
    assert throttled.status_code == 429 and "retry-after" in throttled.headers
    assert "aigw_session" not in client.cookies


def test_bad_forms_are_400s(client: TestClient) -> None:
    for body in ({"name": "ada"}, {"name": "ada", "password": "x" * 2000}, ["ada"], {"name": 5, "password": "p"}):
        answer = client.post("/admin/login", json=body)
        assert answer.status_code == 400, body
    assert client.post("/admin/login", content=b"name=ada", headers={"content-type": "text/plain"}).status_code == 415


def test_sign_out_ends_the_session_everywhere(client: TestClient) -> None:
    client.post("/admin/login", json={"name": "ada", "password": PASSWORD})
    token = client.cookies["aigw_session"]
    csrf = client.get("/admin/api/session").json()["csrf_token"]
    answer = client.post("/admin/logout", headers={"x-csrf-token": csrf})
    assert answer.status_code == 200 and 'aigw_session=""' in answer.headers["set-cookie"]
    client.cookies.clear()
    replayed = client.get("/admin/api/session", headers={"cookie": f"aigw_session={token}"})
    assert replayed.status_code == 401
    audit = client.get("/admin/api/audit", headers={"authorization": f"Bearer {MASTER_KEY}"}).json()["data"]
    assert ("admin:ada", "admin.sign_out") in {(e["actor"], e["action"]) for e in audit}


def test_a_cross_site_sign_in_or_change_is_refused(client: TestClient) -> None:
    cross = client.post(
        "/admin/login", json={"name": "ada", "password": PASSWORD}, headers={"sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_site_request"
    other_origin = client.post(
        "/admin/login", json={"name": "ada", "password": PASSWORD}, headers={"origin": "https://evil.example"}
    )
    assert other_origin.status_code == 403
    client.post("/admin/login", json={"name": "ada", "password": PASSWORD}, headers={"sec-fetch-site": "same-origin"})
    csrf = client.get("/admin/api/session").json()["csrf_token"]
    change = client.put(
        "/admin/api/flags/x",
        json={"enabled": True},
        headers={"x-csrf-token": csrf, "sec-fetch-site": "same-site"},
    )
    assert change.status_code == 403 and change.json()["error"]["code"] == "cross_site_request"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/admin",
        "https://evil.example",
        "/admin/../v1/models",
        "/\\evil.example",
        "/adminx",
        "/admin/%2e%2e/v1",
    ],
)
def test_a_sign_in_returns_only_to_the_panel(client: TestClient, target: str) -> None:
    answer = client.post("/admin/login", params={"next": target}, json={"name": "ada", "password": PASSWORD})
    assert answer.json()["redirect"] == "/admin"


def test_pages_send_the_browser_to_the_sign_in_page_and_back(client: TestClient) -> None:
    page = client.get("/admin/traces", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/admin/login?next=/admin/traces"
    login = client.get("/admin/login?next=/admin/traces")
    assert login.status_code == 200 and 'data-next="/admin/traces"' in login.text
    assert "content-security-policy" in login.headers and "single sign-on" not in login.text
    for asset in ("login.css", "login.js", "panel.css"):
        assert f"/admin/static/{asset}?v=" in login.text


def test_a_database_that_is_away_is_a_503(tmp_path: Path) -> None:
    with app_client(tmp_path) as other:
        other.post("/admin/login", json={"name": "ada", "password": PASSWORD})
        asyncio.run(other.app.state.gateway.database.close())  # type: ignore[attr-defined]
        (tmp_path / "aigw.db").unlink()
        (tmp_path / "aigw.db").mkdir()  # the file is gone and cannot be made again
        other.app.state.admin_sessions._cache.clear()  # type: ignore[attr-defined]
        answer = other.get("/admin/api/session")
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "sessions_unavailable"

"""Every route under /admin, found by walking the real application's route table (so routes added
later are checked without anyone listing them), refuses a caller without credentials (401 for the
API, a redirect to the sign-in page for pages), refuses a viewer's changes (403) and refuses a
cookie session's changes without the CSRF token (403). Only the sign-in routes and the public
static assets are exempt, by name below."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from aigw.api.app import create_app
from aigw.configfile import load_config
from aigw.gateway import Gateway
from aigw.settings import load_settings
from aigw.store.migrate import upgrade
from aigw.store.users import Users
from tests.conftest import MASTER_KEY

pytestmark = pytest.mark.integration
PASSWORD = "route table password"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_ROUTES = {  # reachable without a session: they are how one gets a session
    ("/admin/login", "GET"),
    ("/admin/login", "POST"),
    ("/admin/oidc/login", "GET"),
    ("/admin/oidc/callback", "GET"),
}
PUBLIC_MOUNTS = {"/admin/static"}  # CSS, scripts and icons: the same for everyone, no data
VIEWER_MAY = {("/admin/logout", "POST")}  # a viewer may sign out


def admin_routes(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    """(path, method) of every route under /admin, included routers flattened by FastAPI itself."""
    found: list[tuple[str, str]] = []
    for context in iter_route_contexts(routes):
        path = context.path or ""
        if isinstance(context.original_route, Mount):
            if path.startswith("/admin"):
                assert path in PUBLIC_MOUNTS, f"unexpected mount under /admin: {path}"
            continue
        if path == "/admin" or path.startswith("/admin/"):
            assert context.methods, f"a route under /admin without methods: {path}"
            found.extend((path, method) for method in sorted(context.methods))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    state = tmp_path_factory.mktemp("route-table")
    settings = load_settings(master_key=MASTER_KEY, state_dir=Path(state), auth_failure_limit=10_000)
    gateway = Gateway(settings, load_config(settings))
    asyncio.run(upgrade(gateway.database))
    users = Users(gateway.database)
    asyncio.run(users.create("ada", "admin", PASSWORD, "test"))
    asyncio.run(users.create("vic", "viewer", PASSWORD, "test"))
    with TestClient(create_app(gateway), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def routes(client: TestClient) -> list[tuple[str, str]]:
    found = admin_routes(client.app.routes)  # type: ignore[attr-defined]
    known = {
        ("/admin", "GET"),
        ("/admin/api/keys", "POST"),
        ("/admin/api/flags/{name}", "PUT"),
        ("/admin/logout", "POST"),
    }
    assert known <= set(found), known - set(found)
    return [entry for entry in found if entry not in SIGN_IN_ROUTES]


def session(client: TestClient, name: str) -> tuple[dict[str, str], str]:
    """A signed-in session of `name`: its cookie header (sent explicitly, the client's jar stays empty)
    and CSRF token."""
    answer = client.post("/admin/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    cookie = {"cookie": f"aigw_session={answer.cookies['aigw_session']}"}
    client.cookies.clear()
    me = client.get("/admin/api/session", headers=cookie)
    assert me.status_code == 200
    return cookie, me.json()["csrf_token"]


def call(client: TestClient, path: str, method: str, **kwargs: object) -> object:
    body = {"json": {}} if method in UNSAFE else {}
    return client.request(method, concrete(path), follow_redirects=False, **body, **kwargs)  # type: ignore[arg-type]


def test_every_admin_route_refuses_a_caller_without_credentials(
    client: TestClient, routes: list[tuple[str, str]]
) -> None:
    wrong = []
    for path, method in routes:
        answer = call(client, path, method)
        if path.startswith("/admin/api"):
            ok = answer.status_code == 401 and answer.json()["error"]["type"] == "authentication_error"  # type: ignore[attr-defined]
        else:
            ok = answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")  # type: ignore[attr-defined]
        if not ok:
            wrong.append((method, path, answer.status_code))  # type: ignore[attr-defined]
    assert wrong == []


def test_a_virtual_key_is_not_an_admin_credential(client: TestClient, routes: list[tuple[str, str]]) -> None:
    created = client.post("/admin/api/keys", json={"user": "bob"}, headers={"authorization": f"Bearer {MASTER_KEY}"})
    virtual = {"authorization": f"Bearer {created.json()['key']}"}
    wrong = [
        (method, path, code)
        for path, method in routes
        if path.startswith("/admin/api") and (code := call(client, path, method, headers=virtual).status_code) != 403  # type: ignore[attr-defined]
    ]
    assert wrong == []


def test_a_viewer_changes_nothing(client: TestClient, routes: list[tuple[str, str]]) -> None:
    cookie, csrf = session(client, "vic")
    wrong = []
    for path, method in routes:
        if method not in UNSAFE or (path, method) in VIEWER_MAY:
            continue
        answer = call(client, path, method, headers={**cookie, "x-csrf-token": csrf})
        if answer.status_code != 403 or answer.json()["error"]["code"] != "admin_only":  # type: ignore[attr-defined]
            wrong.append((method, path, answer.status_code))  # type: ignore[attr-defined]
    assert wrong == []
    assert client.get("/admin/api/flags", headers=cookie).status_code == 200  # viewers do read


def test_a_cookie_session_without_the_csrf_token_changes_nothing(
    client: TestClient, routes: list[tuple[str, str]]
) -> None:
    cookie, csrf = session(client, "ada")
    wrong = []
    for path, method in routes:
        if method not in UNSAFE:
            continue
        for headers in ({}, {"x-csrf-token": "not-" + csrf}):
            answer = call(client, path, method, headers={**cookie, **headers})
            if answer.status_code != 403 or answer.json()["error"]["code"] != "csrf_failed":  # type: ignore[attr-defined]
                wrong.append((method, path, headers, answer.status_code))  # type: ignore[attr-defined]
    assert wrong == []
    flag = client.put("/admin/api/flags/route_table", json={"enabled": True}, headers={**cookie, "x-csrf-token": csrf})
    assert flag.status_code == 200  # with the token, the same session may change things


def test_a_session_cookie_is_never_in_an_answer(client: TestClient) -> None:
    answer = client.post("/admin/login", json={"name": "ada", "password": PASSWORD})
    token = answer.cookies["aigw_session"]
    client.cookies.clear()
    cookie = {"cookie": f"aigw_session={token}"}
    for path in ("/admin/api/session", "/admin/api/audit", "/admin", "/admin/keys"):
        shown = client.get(path, headers=cookie)
        assert shown.status_code == 200 and token not in shown.text, path
    assert token not in answer.text

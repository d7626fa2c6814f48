"""The admin panel in a real browser: Debian's Chromium driven by Playwright, against a real `aigw serve`.

Chromium is the system's (`apt-get install chromium`), launched by its path: `playwright install` is
never run, and nothing is downloaded. Without it (or without the playwright package) the tests are
skipped on a developer's machine and fail under `CI=true` (`tests.support.services.require_service`).

One gateway serves the whole module (in front of the mock upstream, SQLite in a temporary state
folder, traces flushed every 0.2 s and all kept), with an admin and a viewer created by
`aigw users create`. Each test saves a screenshot under `bench-results/screenshots/` (git-ignored).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MASTER_KEY, openai_env
from tests.support.processes import AIGW, REPO, GatewayProcess, MockUpstream, start_gateway
from tests.support.services import require_service

SCREENSHOTS = REPO / "bench-results" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = ("ada", "admin-password-e2e-1")
VIEWER = ("vic", "viewer-password-e2e-2")


@dataclass
class Panel:
    """The gateway under test and how to reach it."""

    gateway: GatewayProcess
    upstream: MockUpstream

    @property
    def url(self) -> str:
        return self.gateway.url


def _create_user(state: Path, env: dict[str, str], name: str, password: str, role: str) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")} | env
    done = subprocess.run(
        [str(AIGW), "users", "create", name, "--role", role, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=full_env,
        cwd=state,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def panel(mock_upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panel]:
    base = tmp_path_factory.mktemp("panel")
    env = openai_env(
        mock_upstream,
        AI_TRACE_SAMPLE_RATE="1",
        AI_TRACE_FLUSH_INTERVAL="0.2",
        AI_CONFIG_POLL_INTERVAL="0.5",
        AI_BUDGET_DAILY="10",
    )
    users_env = {**env, "AI_STATE_DIR": str(base / "state")}
    _create_user(base, users_env, *ADMIN, "admin")
    _create_user(base, users_env, *VIEWER, "viewer")
    gateway = start_gateway(base, env)
    yield Panel(gateway, mock_upstream)
    gateway.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        require_service("chromium", "install Debian's browser with `apt-get install chromium`")
    if importlib.util.find_spec("playwright") is None:
        require_service("playwright", "install the dev extra: pip install -e '.[dev]'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test (no cookies), light colours, a laptop's window."""
    made = browser.new_context(viewport={"width": 1360, "height": 880}, color_scheme="light")
    made.set_default_timeout(10_000)
    yield made
    made.close()


def sign_in(context: Any, panel: Panel, name: str | None, secret: str) -> Any:
    """A page signed in through the sign-in form: a user's name and password, or (name None) the master key."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{panel.url}/admin")
    page.wait_for_url("**/admin/login**")
    if name is None:
        page.click("#tab-key")
    else:
        page.fill("#name", name)
    page.fill("#password", secret)
    page.click("#login-submit")
    page.wait_for_url(f"{panel.url}/admin")
    return page


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["ADMIN", "MASTER_KEY", "VIEWER", "Panel", "screenshot", "sign_in"]

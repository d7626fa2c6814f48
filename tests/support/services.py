"""What a test does when a service it needs (Redis, PostgreSQL, pgvector) is not there.

On a developer's machine the test is skipped, so the suite stays usable without every service installed.
Under `CI=true` the same test fails: `.ci/run` installs and starts every service, so a missing one there is a
broken pipeline, and a suite that passes by skipping would prove nothing. Every availability check in the tests
goes through `require_service`, so the rule lives in one place. This module is also a pytest plugin (loaded by
tests/conftest.py) that turns any other skip into a failure under `CI=true`, so a new `skipif` cannot slip by.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import NoReturn

import pytest

CI_VALUES = frozenset({"1", "true", "yes"})


def in_ci() -> bool:
    """True when the suite runs in continuous integration (`CI=true`, as GitHub Actions and `.ci/run` set it)."""
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


def require_service(name: str, reason: str) -> NoReturn:
    """Stop the current test because `name` is unavailable: skipped locally, failed under `CI=true`."""
    message = f"{name} is needed for this test: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: every service must be running, a skip would hide the test)", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under `CI=true` any other skip (a `skipif`, an `importorskip`) fails too: CI cannot pass by skipping."""
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which runs every test: {reason}"
    return report

"""A test that needs a missing service is skipped on a developer's machine and fails under CI=true.

The end-to-end cases run a small pytest session in a subprocess with Redis and PostgreSQL pointed at a closed
loopback port, so the shared services of the machine are never stopped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import REPO, free_port
from tests.support.services import in_ci, require_service

NEEDS_SERVICES = """
import pytest

from tests.support.databases import postgres_database, redis_db
from tests.support.services import require_service


def test_needs_redis():
    with redis_db(15):
        pass


def test_needs_postgres():
    with postgres_database():
        pass


def test_needs_a_service():
    require_service("Elasticsearch", "not installed")


@pytest.mark.skipif(True, reason="a plain skipif")
def test_plain_skipif():
    pass


@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False


def test_runs():
    pass
"""


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ci_is_recognised(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_not_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not in_ci()


def test_a_missing_service_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis is needed for this test: down"):
        require_service("Redis", "down")


def test_a_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"Redis is needed for this test: down .*CI=true"):
        require_service("Redis", "down")


def run_session(tmp_path: Path, ci: bool) -> tuple[dict[str, int], str]:
    """Outcome counts and output of a pytest run of NEEDS_SERVICES, with Redis and PostgreSQL on a closed port."""
    (tmp_path / "test_needs_services.py").write_text(NEEDS_SERVICES)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    closed = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {
        "AIGW_TEST_REDIS_URL": f"redis://127.0.0.1:{closed}",
        "AIGW_TEST_PG_DSN": f"postgresql://postgres@127.0.0.1:{closed}/test",
        "PYTHONPATH": str(REPO),
    }
    if ci:
        env["CI"] = "true"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.services", "-p", "no:cacheprovider", "-rA", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1]
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}
    return counts, done.stdout


def test_without_ci_missing_services_skip(tmp_path: Path) -> None:
    counts, output = run_session(tmp_path, ci=False)
    assert counts == {"passed": 1, "skipped": 4, "xfailed": 1}, output
    assert "Redis is needed for this test" in output
    assert "PostgreSQL is needed for this test" in output


def test_under_ci_every_skip_fails(tmp_path: Path) -> None:
    counts, output = run_session(tmp_path, ci=True)
    # a skip decided at setup (skipif, a fixture) fails at setup, which pytest counts as an error
    assert counts == {"failed": 3, "error": 1, "passed": 1, "xfailed": 1}, output
    assert "Redis is needed for this test" in output
    assert "PostgreSQL is needed for this test" in output
    assert "skipped under CI=true, which runs every test: a plain skipif" in output

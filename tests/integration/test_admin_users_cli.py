"""`aigw users create|list|delete|passwd` as a real process on a fresh database: passwords come
from standard input or a terminal, never from the command line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import AIGW

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


def aigw(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
    env["AI_STATE_DIR"] = str(tmp_path / "state")
    return subprocess.run(
        [str(AIGW), "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def test_users_are_created_listed_changed_and_deleted(tmp_path: Path) -> None:
    created = aigw(tmp_path, "create", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "created admin 'alice'" in created.stdout and PASSWORD not in created.stdout + created.stderr
    assert aigw(tmp_path, "create", "bob", "--role", "viewer", "--password-stdin", stdin=PASSWORD).returncode == 0

    listed = aigw(tmp_path, "list", "--json")
    assert json.loads(listed.stdout) == [{"name": "alice", "role": "admin"}, {"name": "bob", "role": "viewer"}]
    assert "$argon2" not in listed.stdout

    assert aigw(tmp_path, "passwd", "bob", "--password-stdin", stdin=PASSWORD + "2\n").returncode == 0
    deleted = aigw(tmp_path, "delete", "bob")
    assert deleted.returncode == 0 and "sessions have ended" in deleted.stdout
    assert json.loads(aigw(tmp_path, "list", "--json").stdout) == [{"name": "alice", "role": "admin"}]


def test_mistakes_are_refused_with_a_reason(tmp_path: Path) -> None:
    no_terminal = aigw(tmp_path, "create", "alice", "--role", "admin")
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    short = aigw(tmp_path, "create", "alice", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "12 to 1024 characters" in short.stderr
    bad_role = aigw(tmp_path, "create", "alice", "--role", "owner", "--password-stdin", stdin=PASSWORD)
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    in_argv = aigw(tmp_path, "create", "alice", "--role", "admin", "--password", PASSWORD)
    assert in_argv.returncode == 2 and "unrecognized arguments" in in_argv.stderr
    assert aigw(tmp_path, "create", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD).returncode == 0
    again = aigw(tmp_path, "create", "alice", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 2 and "exists already" in again.stderr
    missing = aigw(tmp_path, "delete", "nobody")
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
    assert aigw(tmp_path, "passwd", "nobody", "--password-stdin", stdin=PASSWORD).returncode == 2

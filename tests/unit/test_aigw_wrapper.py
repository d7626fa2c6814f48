"""`./aigw` at the repository root runs the project's virtualenv `aigw`, so the README's `aigw …`
commands work as typed from a fresh checkout after `make run` (the bare `aigw` is not on PATH)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "aigw"


def test_the_wrapper_runs_the_virtualenv_command_from_any_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(WRAPPER), "collections", "--help"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert b"usage: aigw collections" in done.stdout


def test_the_wrapper_passes_arguments_and_exit_codes_through(tmp_path: Path) -> None:
    done = subprocess.run([str(WRAPPER), "config", "set", "nonsense", "1"], cwd=tmp_path, capture_output=True)
    assert done.returncode == 2 and b"unknown config key 'nonsense'" in done.stderr


def test_without_a_virtualenv_it_says_what_to_run(tmp_path: Path) -> None:
    copy = tmp_path / "aigw"
    shutil.copy2(WRAPPER, copy)
    done = subprocess.run([str(copy), "--help"], capture_output=True)
    assert done.returncode == 127
    assert b"make install" in done.stderr

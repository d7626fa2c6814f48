"""Fixtures shared by the unit tests: a process environment free of stray AI_* settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AI_* variables from the caller's shell and no .env in the working directory."""
    for name in list(os.environ):
        if name.upper().startswith("AI_") or name == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path

"""What a serving process imports: features that only some deployments use load on first use.

Each check runs a fresh interpreter (`sys.modules` of this one holds whatever other tests imported).
Idle worker memory is mostly imports (docs/performance.md): NumPy alone is 11 MiB, redis 10 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Needed only by: collections (numpy, rapidfuzz), a response_format json_schema (jsonschema, re2),
# admin sign-in (argon2), single sign-on (authlib), `aigw migrate` (alembic), Bedrock (botocore),
# PII entities by NER (spacy), AI_REDIS_URL (redis), templates and admin pages (jinja2),
# PostgreSQL (asyncpg), WebSocket (websockets: the gateway serves none).
OPTIONAL = [
    "numpy",
    "rapidfuzz",
    "jsonschema",
    "re2",
    "argon2",
    "authlib",
    "alembic",
    "botocore",
    "spacy",
    "redis",
    "jinja2",
    "asyncpg",
    "websockets",
]
PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:] or m.startswith("aigw"))))
"""
BUILD_APP = "from aigw.api.app import app_from_environment\napp_from_environment()"


def loaded(body: str, tmp_path: Path) -> set[str]:
    """Modules (top-level names of OPTIONAL, and aigw's own) in sys.modules after running `body`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AI_")}
    env["AI_STATE_DIR"] = str(tmp_path / "state")  # no provider key: the stub, no database URL: SQLite
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body), *OPTIONAL],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def after_building_the_app(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """What a worker holds once uvicorn called the factory: the app, the gateway, its providers."""
    return {m.split(".")[0] for m in loaded(BUILD_APP, tmp_path_factory.mktemp("app"))}


def test_importing_the_app_loads_no_optional_feature(tmp_path: Path) -> None:
    found = {m.split(".")[0] for m in loaded("import aigw.api.app", tmp_path)}
    assert found & set(OPTIONAL) == set()


@pytest.mark.parametrize("module", OPTIONAL)
def test_a_built_app_has_not_loaded(module: str, after_building_the_app: set[str]) -> None:
    assert module not in after_building_the_app


def test_the_server_process_imports_no_gateway_code(tmp_path: Path) -> None:
    """`aigw serve` execs `python -m aigw.cli.server`: the supervisor of the workers holds uvicorn only."""
    found = loaded("import aigw.cli.server\nimport uvicorn", tmp_path)
    assert found == {"aigw", "aigw.cli", "aigw.cli.server"}

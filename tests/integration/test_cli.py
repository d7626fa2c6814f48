"""The `aigw` command: start-up checks, `config check`, and draining on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import AIGW, MockUpstream

pytestmark = pytest.mark.integration


def aigw(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
    return subprocess.run(
        [str(AIGW), *args], env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = aigw(tmp_path, "serve", AI_OPENAI_TIMEOUT="soon")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "AI_OPENAI_TIMEOUT" in lines[0] and "soon" in lines[0]


def test_refuses_to_bind_beyond_loopback_without_a_master_key(tmp_path: Path) -> None:
    result = aigw(tmp_path, "serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2
    assert "AI_MASTER_KEY" in result.stderr


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    result = aigw(
        tmp_path,
        "config",
        "check",
        AI_OPENAI_API_KEY="sk-very-secret-value",
        AI_MASTER_KEY="sk-master-secret-0123456789abcdef0123",
        AI_REDIS_URL="redis://user:hunter2@127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["settings"]["openai_api_key"] == "***"
    assert shown["config"]["providers"][0]["api_key"] == "***"
    assert shown["settings"]["redis_url"] == "redis://user:***@127.0.0.1:6379/3"
    for secret in ("sk-very-secret-value", "sk-master-secret-0123456789abcdef0123", "hunter2"):
        assert secret not in result.stdout


def test_config_check_reports_a_bad_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("providers:\n  - {name: x, type: openai, timeout: -1}\n")
    result = aigw(tmp_path, "config", "check", "--config", str(config))
    assert result.returncode == 2
    assert "providers[0].timeout" in result.stderr
    config.write_text("providers:\n  - {name: x, type: carrier-pigeon}\n")
    result = aigw(tmp_path, "config", "check", "--config", str(config))
    assert result.returncode == 2 and "carrier-pigeon" in result.stderr


def test_sigterm_drains_in_flight_requests(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    upstream.configure(latency_ms=1000)
    results: list[int] = []

    def call() -> None:
        response = httpx.post(
            f"{gateway.url}/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "slow"}]},
            headers={"authorization": f"Bearer {MASTER_KEY}"},
            timeout=10,
        )
        results.append(response.status_code)

    worker = threading.Thread(target=call)
    worker.start()
    threading.Event().wait(0.3)
    os.killpg(gateway.proc.pid, signal.SIGTERM)
    worker.join(10)
    assert results == [200]
    # uvicorn re-raises the signal once it has drained, so the exit status says "terminated".
    assert gateway.proc.wait(10) in (0, -signal.SIGTERM)
    assert '"level":"error"' not in gateway.logs()

"""Real processes for integration tests: the shared mock upstream and `aigw serve`, on free ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(os.environ.get("AIGW_BENCH_DIR", REPO.parent / "shared" / "bench"))
AIGW = Path(sys.executable).with_name("aigw")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@dataclass
class MockUpstream:
    port: int
    proc: subprocess.Popen[bytes]
    record: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self, **settings: Any) -> dict[str, Any]:
        _, body = http_json("POST", f"{self.url}/_mock/config", settings)
        return dict(body)

    def stats(self) -> dict[str, int]:
        _, body = http_json("GET", f"{self.url}/_mock/config")
        return dict(body["stats"])

    def reset(self) -> None:
        self.configure(
            latency_ms=0,
            error_rate=0,
            error_status=500,
            hang_rate=0,
            malformed_rate=0,
            disconnect_rate=0,
            stream_chunks=10,
            chunk_delay_ms=0,
            completion_tokens=20,
        )

    def recorded(self) -> list[dict[str, Any]]:
        assert self.record is not None
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        _stop(self.proc)


def start_mock(record: Path | None = None, *args: str, port: int | None = None) -> MockUpstream:
    """The shared mock upstream on a free port (or on `port`, to bring a stopped one back)."""
    port = port or free_port()
    cmd = [sys.executable, str(BENCH_DIR / "mock_upstream.py"), "--port", str(port), *args]
    if record is not None:
        cmd += ["--record", str(record)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    mock = MockUpstream(port, proc, record)
    try:
        wait_http(f"{mock.url}/health", proc=proc)
    except Exception:
        mock.stop()
        raise
    return mock


@dataclass
class GatewayProcess:
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.logs().split("\n"):  # not splitlines(): U+2028 or \x85 inside a JSON string is no line end
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def access_lines(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The access-log lines, once at least `count` are written (the log writer batches)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.log_lines() if line.get("msg") == "request"]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self) -> None:
        _stop(self.proc)


_MIGRATED_TEMPLATE: Path | None = None


def _migrated_sqlite() -> Path:
    """A SQLite database at the schema's head, made once per test session: a gateway started on a
    copy of it skips its migration child (about a second each, and the suite starts hundreds).
    `tests/integration/test_migrations.py` and the tests that set their own database still migrate."""
    global _MIGRATED_TEMPLATE
    if _MIGRATED_TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="aigw-schema-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
        env["AI_STATE_DIR"] = str(folder)
        subprocess.run([sys.executable, "-m", "aigw.store.migrate"], env=env, check=True, capture_output=True)
        _MIGRATED_TEMPLATE = folder / "aigw.db"
    return _MIGRATED_TEMPLATE


def _seed_database(state_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of a gateway whose default SQLite database starts as a copy of the migrated one."""
    if "AI_DATABASE_URL" in env or "AI_AUTO_MIGRATE" in env or "AI_STATE_DIR" in env:
        return {}
    target = state_dir / "aigw.db"
    if not target.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite(), target)
    return {"AI_AUTO_MIGRATE": "false"}


def start_gateway(tmp_path: Path, env: dict[str, str], *args: str, ready_path: str = "/readyz") -> GatewayProcess:
    port = free_port()
    log_path = tmp_path / f"gateway-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")}
    state_dir = tmp_path / "state"
    full_env.update({"AI_GATEWAY_PORT": str(port), "AI_STATE_DIR": str(state_dir), **_seed_database(state_dir, env)})
    full_env.update(env)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(AIGW), "serve", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=tmp_path,
            start_new_session=True,
        )
    gateway = GatewayProcess(port, proc, log_path, env)
    try:
        wait_http(gateway.url + ready_path, proc=proc)
    except Exception:
        gateway.stop()
        raise
    return gateway

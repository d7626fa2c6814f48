"""The full-policy system (aigw-policy): a virtual key with per-key rpm/tpm and a daily budget, a
per-user rate limit and a global daily budget on Redis, PII masking and traces persisted at the
default sample rate."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib.common import MASTER_KEY, BenchError, Result, aigw_bin, chat_request, clean_env, gateway_env, log
from benchlib.processes import wait_ready

POLICY = "aigw-policy"
# Redis db 12 is not used by the tests (they use 9, 13, 14).
REDIS_HOST, REDIS_PORT, POLICY_REDIS_DB = "127.0.0.1", 6379, 12
POLICY_SETTINGS = {
    "AI_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{POLICY_REDIS_DB}",
    "AI_BUDGET_DAILY": "1000000",  # global daily budget: every call holds and settles in Redis
    "AI_RATE_LIMIT_PER_USER": "100000000",
    "AI_PII_MODE": "mask",  # every prompt is scanned; the load's prompt carries no PII, so nothing is replaced
    "AI_TRACING_ENABLED": "true",  # traces persisted at the default sample rate (AI_TRACE_SAMPLE_RATE unset)
}
POLICY_KEY_ARGS = ("--user", "bench", "--rpm", "100000000", "--tpm", "1000000000", "--budget-daily", "1000000")
# The check request must carry the cost header and a rate-limit header. aigw sends the x-ratelimit-* headers of
# the tightest limit only: with the key's tpm the tokens one, so "-requests" is expected but only warned about.
POLICY_COST_HEADER = "x-aigw-cost-usd"
POLICY_RATE_HEADERS = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens")


def redis_flush(db: int = POLICY_REDIS_DB) -> None:
    """FLUSHDB on the bench's own Redis db (plain RESP over a socket: no client library needed)."""
    request = f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode()
    answer = b""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
            s.sendall(request)
            while answer.count(b"\r\n") < 2:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except OSError as e:
        raise BenchError(f"Redis at {REDIS_HOST}:{REDIS_PORT} not reachable ({e}): {POLICY} needs it") from e
    if answer != b"+OK\r\n+OK\r\n":
        raise BenchError(f"Redis SELECT {db} + FLUSHDB answered {answer[:200]!r}")


def policy_env(state_dir: Path, upstream: str) -> dict[str, str]:
    """The aigw environment plus the full policy on Redis; AI_DATABASE_URL unset: SQLite in state_dir."""
    return gateway_env(state_dir, upstream) | POLICY_SETTINGS


def aigw_cli(args: Sequence[str], env: dict[str, str]) -> str:
    cmd = [str(aigw_bin()), *args]
    try:
        out = subprocess.run(cmd, env=clean_env() | env, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"`aigw {shlex.join(args)}` still running after 120s") from e
    if out.returncode != 0:
        raise BenchError(f"`aigw {shlex.join(args)}` failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    return out.stdout


def create_policy_key(env: dict[str, str]) -> str:
    """Migrate the run's SQLite database and create the virtual key the load authenticates with."""
    aigw_cli(["migrate"], env)
    out = aigw_cli(["keys", "create", *POLICY_KEY_ARGS, "--json"], env)
    try:
        key = json.loads(out)["key"]
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"`aigw keys create --json` printed no key: {out[:300]!r}") from e
    if not isinstance(key, str) or not key or key == MASTER_KEY:
        raise BenchError(f"`aigw keys create --json` printed an unusable key: {key!r}")
    log(f"virtual key {key[:14]}... created (user bench) in {env['AI_STATE_DIR']}")
    return key


def check_policy_key(base: str, key: str, proc: subprocess.Popen[Any]) -> Result:
    """Once the gateway is ready: one chat request with the virtual key must pass the whole policy.

    Returns the check's outcome for the report: status, the policy headers, and a note when the
    x-ratelimit-remaining-requests header is missing.
    """
    wait_ready(base + "/readyz", proc, f"{POLICY} gateway (via compare.py)", timeout=180)
    t_end = time.monotonic() + 10  # a key the gateway has not loaded yet shows up within its poll interval
    while True:
        status, headers, body = chat_request(base + "/v1/chat/completions", key)
        if status == 200 or time.monotonic() > t_end or proc.poll() is not None:
            break
        time.sleep(0.5)
    policy_headers = {k: v for k, v in headers.items() if k.startswith(("x-aigw", "x-ratelimit"))}
    missing = [POLICY_COST_HEADER] if POLICY_COST_HEADER not in headers else []
    if not any(h in headers for h in POLICY_RATE_HEADERS):
        missing.append(" or ".join(POLICY_RATE_HEADERS))
    if status != 200 or missing:
        what = f"HTTP {status}" + (f", missing header(s) {', '.join(missing)}" if missing else "")
        raise BenchError(
            f"{POLICY}: the check request with the virtual key failed ({what}); body {body[:300]!r}; "
            f"policy headers {policy_headers}"
        )
    note = None
    if POLICY_RATE_HEADERS[0] not in headers:
        note = (
            f"no {POLICY_RATE_HEADERS[0]} header (aigw sends the x-ratelimit-* headers of the tightest limit "
            f"only, here {', '.join(h for h in POLICY_RATE_HEADERS if h in headers)})"
        )
        log(f"WARNING: {POLICY} check request: {note}")
    log(f"{POLICY}: virtual key checked: HTTP 200, {policy_headers}")
    return {"status": status, "headers": policy_headers, "note": note}

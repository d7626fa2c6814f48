"""The peers `make bench-peers` measures beside the floor proxy and aigw: LiteLLM (`litellm[proxy]`,
pinned, in its own virtualenv) and the Portkey gateway (npm, pinned), installed under the
git-ignored `.peers/` folder once (an install is skipped when the pinned version is there), and
the shell command that starts each, routed to the shared mock upstream."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchlib.common import REPO, BenchError, log

PEERS_DIR = REPO / ".peers"
LITELLM_VERSION = "1.80.0"  # the newest whose `proxy` extra resolves here (1.110.x wants an unpublished litellm-proxy)
PORTKEY_VERSION = "1.15.2"
LITELLM_KEY = "sk-bench-litellm-master-key"  # LiteLLM refuses to start without a master key; it must start with sk-
LITELLM_WORKERS = 2


@dataclass
class Peer:
    name: str
    label: str  # what it ran with, for the table
    command: str  # compare.py's --gateway-cmd
    api_key: str
    headers: list[str] = field(default_factory=list)


def _run(cmd: list[str], what: str, cwd: Path | None = None, timeout: float = 1800) -> None:
    log(f"{what}: {shlex.join(cmd)}")
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise BenchError(f"{what} failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()[-800:]}")


def litellm_venv() -> Path:
    return PEERS_DIR / "litellm-venv"


def install_litellm() -> None:
    venv = litellm_venv()
    marker = venv / f".installed-litellm-{LITELLM_VERSION}"
    if marker.is_file() and (venv / "bin" / "litellm").exists():
        log(f"LiteLLM {LITELLM_VERSION}: installed ({venv})")
        return
    if not (venv / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(venv)], "LiteLLM virtualenv")
    _run([str(venv / "bin" / "pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"], "LiteLLM install")
    marker.write_text(LITELLM_VERSION + "\n")


def portkey_dir() -> Path:
    return PEERS_DIR / "portkey"


def portkey_installed_version() -> str | None:
    pkg = portkey_dir() / "node_modules" / "@portkey-ai" / "gateway" / "package.json"
    try:
        return str(json.loads(pkg.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def install_portkey() -> None:
    if portkey_installed_version() == PORTKEY_VERSION:
        log(f"Portkey gateway {PORTKEY_VERSION}: installed ({portkey_dir()})")
        return
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise BenchError(f"{tool} not found: the Portkey gateway needs Node 20 and npm")
    portkey_dir().mkdir(parents=True, exist_ok=True)
    pkg = portkey_dir() / "package.json"
    if not pkg.exists():
        pkg.write_text(json.dumps({"name": "aigw-bench-portkey", "private": True}) + "\n")
    cmd = ["npm", "install", "--no-audit", "--no-fund", f"@portkey-ai/gateway@{PORTKEY_VERSION}"]
    _run(cmd, "Portkey install", cwd=portkey_dir())


def litellm(upstream_port: int, port: int, tmp: Path) -> Peer:
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: gpt-3.5-turbo\n"
        "    litellm_params:\n"
        "      model: openai/gpt-3.5-turbo\n"
        f"      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: sk-upstream\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
    )
    env = "LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR"
    exe = shlex.quote(str(litellm_venv() / "bin" / "litellm"))
    cmd = (
        f"{env} {exe} --config {shlex.quote(str(config))} --host 127.0.0.1 --port {port} "
        f"--num_workers {LITELLM_WORKERS} --telemetry False 2>{shlex.quote(str(tmp / 'litellm.log'))}"
    )
    label = f"LiteLLM {LITELLM_VERSION} (`litellm --num_workers {LITELLM_WORKERS}`, master key, no database)"
    return Peer("litellm", label, cmd, LITELLM_KEY)


def portkey(upstream_port: int, port: int, tmp: Path) -> Peer:
    start = "node_modules/@portkey-ai/gateway/build/start-server.js"
    cmd = (
        f"cd {shlex.quote(str(portkey_dir()))} && NODE_ENV=production exec node {start} --port={port} --headless "
        f"2>{shlex.quote(str(tmp / 'portkey.log'))}"
    )
    headers = ["x-portkey-provider: openai", f"x-portkey-custom-host: http://127.0.0.1:{upstream_port}/v1"]
    label = f"Portkey gateway {PORTKEY_VERSION} (one Node {node_version()} process: it has no worker option)"
    return Peer("portkey", label, cmd, "sk-bench-portkey", headers)


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"

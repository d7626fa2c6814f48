"""py-spy on one loaded `aigw serve --workers 1`: CPU per call and where it goes, per stage.

    .venv/bin/python scripts/perf/profile.py [--mode plain|policy|stream] [--seconds 10] [--out DIR]

plain: master key. policy: a virtual key with rpm/tpm and a daily budget, a per-user limit and a
global daily budget, on Redis db 13 (flushed before and after). stream: plain, streamed (the shared
mock's default chunks). PII mask and traces are the defaults (on; traces sampled at 0.1) in all.
wrk (c=50) drives the load while py-spy samples the worker (`--format raw`, 200 Hz, blocking);
sampling itself slows the worker a little, so CPU per call is measured in a separate window.
Writes STACKS (collapsed) and a speedscope file into --out, and prints the stage table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, Gateway, cpu_seconds, gateway, wrk
from stages import read_stacks, table

PY_SPY = REPO / ".venv" / "bin" / "py-spy"


def cpu_per_call(gw: Gateway, seconds: int, stream: bool) -> dict[str, Any]:
    before = cpu_seconds(gw.pid)
    res = wrk(gw.base + "/v1/chat/completions", seconds, gw.key, stream=stream)
    used = cpu_seconds(gw.pid) - before
    return {
        "requests": res["requests"],
        "req_per_s": round(res["rps"]),
        "cpu_us_per_call": used / res["requests"] * 1e6,
    }


def record(gw: Gateway, seconds: int, out: Path, stream: bool, fmt: str) -> None:
    load = threading.Thread(target=wrk, args=(gw.base + "/v1/chat/completions", seconds + 3, gw.key, stream))
    load.start()
    time.sleep(1)
    cmd = [str(PY_SPY), "record", "--pid", str(gw.pid), "--duration", str(seconds), "--rate", "200"]
    subprocess.run([*cmd, "--format", fmt, "-o", str(out)], check=True, capture_output=True)
    load.join()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mode", choices=("plain", "policy", "stream"), default="plain")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "aigw-profile")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stream = args.mode == "stream"
    with (
        tempfile.TemporaryDirectory(prefix="aigw-perf-") as tmp,
        gateway(Path(tmp), workers=1, policy=args.mode == "policy") as gw,
    ):
        status, body = gw.chat(stream=stream)
        if status != 200:
            raise SystemExit(f"chat answered {status}: {body[:300]!r}")
        wrk(gw.base + "/v1/chat/completions", 2, gw.key, stream)  # warm-up
        measured = cpu_per_call(gw, args.seconds, stream)
        stacks = args.out / f"{args.mode}.stacks.txt"
        record(gw, args.seconds, stacks, stream, "raw")
        record(gw, max(3, args.seconds // 2), args.out / f"{args.mode}.speedscope.json", stream, "speedscope")
    print(f"{args.mode}: {measured['req_per_s']} req/s, {measured['cpu_us_per_call']:.0f} µs CPU per call (1 worker)")
    print("\n".join(table(read_stacks(stacks.read_text().splitlines()), measured["cpu_us_per_call"])))
    print(f"stacks: {stacks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

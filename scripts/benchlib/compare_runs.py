"""compare.py A/B runs (direct mock vs. one proxy, interleaved) and the statistics over them.

The systems: `floor` (the shared thin aiohttp proxy), `aigw` (plain, master key), `aigw-policy`
(benchlib.policy), and `floor-stream` / `aigw-stream`, the first two with `stream: true` (the
shared mock's default chunks; closed loop only, load.py, since wrk does not stream)."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchlib.common import (
    CONCURRENCY,
    GATEWAY_WORKERS,
    MASTER_KEY,
    RATE,
    BenchError,
    Result,
    aigw_bin,
    clean_env,
    free_ports,
    gateway_env,
    log,
    med,
)
from benchlib.gatewaylog import gateway_log_summary
from benchlib.policy import POLICY, check_policy_key, create_policy_key, policy_env, redis_flush
from benchlib.processes import Processes, log_tail

STREAM_SYSTEMS = ("floor-stream", "aigw-stream")


@dataclass
class RunShape:
    """How long each compare.py run measures."""

    rounds: int  # A/B rounds inside one compare.py run
    duration: float  # seconds measured per measurement (plus 1 s warm-up)


def gateway_command(kind: str, idx: int, tmp: Path, up_port: int, gw_port: int) -> tuple[str, str]:
    """compare.py's --gateway-cmd for one run, and the API key the load sends."""
    if kind.startswith("floor"):
        return f"{{python}} floor_proxy.py --port {gw_port} --upstream {{upstream}}", MASTER_KEY
    state = tmp / f"state-{kind}-{idx}"
    key = MASTER_KEY
    if kind == POLICY:
        redis_flush()
        key = create_policy_key(policy_env(state, f"http://127.0.0.1:{up_port}"))
        env = policy_env(state, "{upstream}")
    else:
        env = gateway_env(state, "{upstream}")
    return " ".join(
        [f"{k}={shlex.quote(v)}" for k, v in env.items()]
        + [shlex.quote(str(aigw_bin())), "serve", "--port", str(gw_port), "--workers", str(GATEWAY_WORKERS)]
        + ["2>" + shlex.quote(str(tmp / f"{kind}-{idx}-gateway.log"))]
    ), key


def compare_command(
    bdir: Path, name: str, gw_port: int, up_port: int, shape: RunShape, out: Path, api_key: str, **opts: str
) -> list[str]:
    """compare.py's command line; opts: concurrency, rates, gateway_cmd, stream ("1"), header (one)."""
    cmd = [
        sys.executable, str(bdir / "compare.py"), "--name", name,
        "--gateway", f"http://127.0.0.1:{gw_port}", "--upstream-port", str(up_port), "--api-key", api_key,
        "--latencies", "0", "--concurrency", opts.get("concurrency", str(CONCURRENCY)),
        "--rates", opts.get("rates", str(RATE)),
        "--duration", f"{shape.duration:g}", "--rounds", str(shape.rounds), "--out", str(out),
    ]  # fmt: skip
    if "gateway_cmd" in opts:
        cmd += ["--gateway-cmd", opts["gateway_cmd"]]
    if opts.get("stream"):
        cmd.append("--stream")
    for header in opts.get("headers", "").split("\n"):
        if header:
            cmd += ["-H", header]
    return cmd


def run_compare(kind: str, idx: int, of: int, shape: RunShape, bdir: Path, tmp: Path, procs: Processes) -> Result:
    up_port, gw_port = free_ports(2)
    gw_cmd, api_key = gateway_command(kind, idx, tmp, up_port, gw_port)
    out = tmp / f"{kind}-{idx}.json"
    stream = kind in STREAM_SYSTEMS
    opts = {"gateway_cmd": gw_cmd} | ({"stream": "1", "rates": ""} if stream else {})
    cmd = compare_command(bdir, kind, gw_port, up_port, shape, out, api_key, **opts)
    log(f"\n=== compare.py {kind} run {idx + 1}/{of}: {shlex.join(cmd[1:])}")
    p = procs.start(cmd, first_signal=signal.SIGINT, cwd=bdir, env=clean_env(), stdout=subprocess.PIPE, text=True)
    limit = 600 + 4 * shape.rounds * (shape.duration + 20)
    gw_log = tmp / f"{kind}-{idx}-gateway.log"
    try:
        check = None
        if kind == POLICY:  # compare.py measures direct first: the gateway is checked before its turn
            check = check_policy_key(f"http://127.0.0.1:{gw_port}", api_key, p)
        stdout, _ = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"compare.py {kind} run {idx + 1} still running after {limit:g}s") from e
    except BenchError:
        log_tail(gw_log)
        raise
    finally:
        procs.stop(p)
        if kind == POLICY:
            try:
                redis_flush()
            except BenchError as e:
                log(f"warning: {e}")
    log(stdout.rstrip())
    if p.returncode != 0 or not out.is_file():
        log_tail(gw_log)
        raise BenchError(f"compare.py {kind} run {idx + 1} failed (exit {p.returncode})")
    res: Result = json.loads(out.read_text())
    if not res.get("runs"):
        raise BenchError(f"compare.py {kind} run {idx + 1} produced no runs")
    if check is not None:
        res["policy_check"] = check
    if not kind.startswith("floor"):
        res["gateway_log"] = gateway_log_summary(gw_log)
        log(f"{kind} gateway log: {res['gateway_log']}")
    return res


def pairs(results: list[Result], mode: str, value: float) -> list[tuple[Result, Result]]:
    """(direct, gateway) run pairs of one scenario over all compare.py runs and rounds."""
    out = []
    for res in results:
        sel = [r for r in res["runs"] if r["mode"] == mode and r["value"] == value]
        d = {r["round"]: r for r in sel if r["target"] == "direct"}
        g = {r["round"]: r for r in sel if r["target"] == "gateway"}
        out += [(d[i], g[i]) for i in sorted(set(d) & set(g))]
    return out


def ok_rps(r: Result) -> float:
    return float(r["ok_rps"] if "ok_rps" in r else r["rps"])


def overhead(ps: list[tuple[Result, Result]], q: str) -> float | None:
    lat = [(d["latency_ms"][q], g["latency_ms"][q]) for d, g in ps]
    return med(float(b - a) for a, b in lat if a is not None and b is not None)


def rate_stats(results: list[Result], value: float) -> Result:
    """Added latency (proxy - direct, paired) at one open-loop rate, and whether the proxy kept up."""
    rate = pairs(results, "rate", value)
    gw_rps = med(g["rps"] for _, g in rate)
    errors = sum(g["errors"] for _, g in rate)
    ovh = {q: overhead(rate, q) for q in ("p50", "p95", "p99")}
    saturated = bool(rate) and ((gw_rps or 0) < 0.95 * value or errors > 0 or (ovh["p50"] or 0) > 100)
    return {"pairs": len(rate), **ovh, "saturated": saturated, "errors": errors}


def system_stats(results: list[Result]) -> Result:
    closed, rate = pairs(results, "closed", CONCURRENCY), pairs(results, "rate", RATE)
    everything = [r for res in results for r in res["runs"]]
    return {
        "runs": len(results),
        "pairs": len(closed),
        "rps": med(ok_rps(g) for _, g in closed),
        "direct_rps": med(ok_rps(d) for d, _ in closed),
        "rel_direct": med(ok_rps(g) / ok_rps(d) for d, g in closed if ok_rps(d)),
        "ovh_p99": overhead(rate, "p99"),
        "ovh_p95": overhead(rate, "p95"),
        "gw_p99": med(g["latency_ms"]["p99"] for _, g in rate),
        "direct_p95": med(d["latency_ms"]["p95"] for d, _ in rate),
        "direct_p99": med(d["latency_ms"]["p99"] for d, _ in rate),
        "cpu_us": med(g.get("gw_cpu_us_per_req") for _, g in closed),
        "rss_max": max((res.get("rss_max_mb") or 0 for res in results), default=None) or None,
        "rss_idle": med(res["rss_mb"][0][1] for res in results if res.get("rss_mb")),
        "errors": sum(g["errors"] for _, g in closed + rate),
        "saturated": rate_stats(results, RATE)["saturated"],
        "other": med(r["cpu_cores"]["other"] for r in everything if "cpu_cores" in r),
        "other_max": max((r["cpu_cores"]["other"] for r in everything if "cpu_cores" in r), default=None),
    }

"""Local (fallback) semantic_search over HTTP: p50/p95 latency on a 10,000-item catalog.

Starts `aigw serve --workers 1` with the kill switch on (`AI_GATEWAY_ENABLED=false`: the provider
path is skipped with `flag_off`, as when every provider is down), loads a seeded product catalog
through `/v1/collections`, waits until the first search has built the index (local embeddings of
every item included), then times sequential searches (one at a time: latency, not queueing) with
typo queries. Prints one JSON object. Used by `make bench` (scripts/bench.py).

    .venv/bin/python scripts/bench_search.py [--items 10000] [--queries 300]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aigw.fallbacks.fuzzy_bench import make_catalog, typo_query

MASTER = "sk-bench-search-master-0123456789abcdef"  # AI_MASTER_KEY needs 32+ characters
BATCH = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"authorization": f"Bearer {MASTER}", "content-type": "application/json"}
    conn.request(method, path, body=payload, headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    return answer.status, json.loads(data) if data else None


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"aigw exited early with code {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("aigw not ready")


def timed(conn: http.client.HTTPConnection, catalog: list[Any], rng: random.Random, queries: int) -> dict[str, Any]:
    """Sequential typo-query searches: p50/p95 in ms and which path served them."""
    times: list[float] = []
    served: Counter[str] = Counter()
    for _ in range(queries):
        query = typo_query(rng.choice(catalog), rng)
        t0 = time.perf_counter()
        status, answer = call(conn, "POST", "/v1/tasks/semantic_search", {"collection": "bench", "query": query})
        times.append((time.perf_counter() - t0) * 1000)
        served[answer.get("served_by", "") if status == 200 and isinstance(answer, dict) else f"HTTP {status}"] += 1
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "served_by": dict(served),
    }


def measure(items: int, queries: int) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="aigw-bench-search-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")} | {
        "AI_STATE_DIR": str(state),
        "AI_MASTER_KEY": MASTER,
        "AI_GATEWAY_PORT": str(port),
        "AI_GATEWAY_ENABLED": "false",
        "AI_LOG_LEVEL": "WARNING",
        "AI_TASK_DEADLINE": "5",
    }
    aigw = Path(sys.executable).with_name("aigw")
    proc = subprocess.Popen([str(aigw), "serve"], env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        catalog = make_catalog(items)
        call(conn, "PUT", "/v1/collections/bench", {})
        for start in range(0, len(catalog), BATCH):
            batch = [{"id": i.id, "text": i.text, "metadata": i.metadata} for i in catalog[start : start + BATCH]]
            status, _ = call(conn, "POST", "/v1/collections/bench/items", {"items": batch})
            if status != 200:
                raise SystemExit(f"loading the catalog failed: HTTP {status}")
        started = time.perf_counter()
        status, first = call(conn, "POST", "/v1/tasks/semantic_search", {"collection": "bench", "query": "sofa"})
        build_s = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"first search failed: HTTP {status} {first}")
        rng = random.Random(5)
        early = timed(conn, catalog, rng, queries)  # the fuzzy path, while local embeddings are computed
        started = time.perf_counter()
        while timed(conn, catalog, rng, 1)["served_by"].get("local_embeddings", 0) == 0:
            if time.perf_counter() - started > 600:
                raise SystemExit("local embeddings of the catalog not ready after 600 s")
            time.sleep(1)
        local_ready_s = time.perf_counter() - started
        local = timed(conn, catalog, rng, queries)
        return {
            "items": items,
            "queries": queries,
            **{k: v for k, v in local.items() if k != "served_by"},
            "served_by": local["served_by"],
            "fuzzy_while_building": early,
            "first_search_s": round(build_s, 2),
            "local_index_ready_s": round(local_ready_s, 1),
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    print(json.dumps(measure(args.items, args.queries)))


if __name__ == "__main__":
    main()

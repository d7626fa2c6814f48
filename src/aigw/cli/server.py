"""The serving process of `aigw serve`: uvicorn, started with the options on its command line.

`aigw serve` checks the settings and the configuration, runs the migration child, then replaces
itself (same process id, same environment) with `python -m aigw.cli.server`. This module imports
uvicorn and nothing of aigw, so the supervisor of `--workers N` holds no gateway code, and a single
worker (`--workers 1`) holds only what the application imports, not what the other commands need.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

APP = "aigw.api.app:app_from_environment"


def command(host: str, port: int, workers: int, keepalive: int) -> list[str]:
    """The command line that runs the server with these options in a fresh interpreter."""
    options = ["--host", host, "--port", str(port), "--workers", str(workers), "--keepalive", str(keepalive)]
    return [sys.executable, "-m", "aigw.cli.server", *options]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aigw.cli.server")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--keepalive", type=int, required=True)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(
        APP,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        ws="none",  # the gateway serves no WebSocket: the websockets library stays unloaded (2.4 MiB)
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=args.keepalive,
        server_header=False,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

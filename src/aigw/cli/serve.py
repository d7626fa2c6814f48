"""`aigw serve`, `aigw migrate`, `aigw config check`."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from typing import Any

import orjson

from aigw.config import GatewayConfig
from aigw.configfile import load_config, masked_view
from aigw.settings import Settings, load_settings
from aigw.store.database import Database


def add_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="YAML file declaring providers and models (AI_CONFIG_FILE)")
    serve.add_argument("--host", help="address to bind (AI_GATEWAY_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (AI_GATEWAY_PORT, default 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (AI_WORKERS, default 1)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="upgrade the database schema (AI_DATABASE_URL) to the latest")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(run=_migrate)


def _apply_arguments(args: argparse.Namespace) -> None:
    """Command-line options become AI_* variables, so every worker process sees the same settings."""
    for option, variable in (
        ("config", "AI_CONFIG_FILE"),
        ("host", "AI_GATEWAY_HOST"),
        ("port", "AI_GATEWAY_PORT"),
        ("workers", "AI_WORKERS"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            os.environ[variable] = str(value)


def load(args: argparse.Namespace) -> tuple[Settings, GatewayConfig]:
    _apply_arguments(args)
    settings = load_settings()
    return settings, load_config(settings)


def config_check(args: argparse.Namespace) -> int:
    settings, config = load(args)
    sys.stdout.write(orjson.dumps(masked_view(settings, config), option=orjson.OPT_INDENT_2).decode() + "\n")
    if {"PERSON", "ADDRESS"} & set(settings.pii_entities):
        from aigw.context.pii.entities.model import status

        print(f"aigw: PII names and addresses: {status()}", file=sys.stderr)
    return 0


def migrate_database(settings: Settings, revision: str = "head") -> str | None:
    from aigw.store.migrate import upgrade  # Alembic only where migrations run, never in a serving process

    async def run() -> str | None:
        database = Database(settings.effective_database_url)
        try:
            return await upgrade(database, revision)
        finally:
            await database.close()

    return asyncio.run(run())


def migrate_in_child_process() -> None:
    """`aigw migrate` in a child process: Alembic and its templates then never occupy the memory of
    the serving process. A failure is a warning: the gateway still serves from its environment."""
    done = subprocess.run([sys.executable, "-m", "aigw.store.migrate"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1][:300]
        print(f"aigw: warning: database migration failed ({reason}); continuing", file=sys.stderr)


def _migrate(args: argparse.Namespace) -> int:
    print(f"database at revision {migrate_database(load_settings(), args.revision)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings, config = load(args)
    if settings.master_key is None:
        if not settings.binds_loopback_only:
            print(
                f"aigw: refusing to bind {settings.gateway_host}: set AI_MASTER_KEY to serve beyond loopback",
                file=sys.stderr,
            )
            return 2
        print("aigw: warning: no AI_MASTER_KEY set; anyone on this machine can call the gateway", file=sys.stderr)
    if settings.config_file is None and settings.openai_api_key is None:
        print(
            "aigw: no AI_OPENAI_API_KEY: serving the stub provider (deterministic answers, no network)", file=sys.stderr
        )
    if settings.auto_migrate:
        migrate_in_child_process()
    names = ", ".join(f"{p.name} ({p.type})" for p in config.providers)
    print(
        f"aigw: serving on http://{settings.gateway_host}:{settings.gateway_port} with providers: {names}",
        file=sys.stderr,
    )
    if settings.workers > 1:
        _prepare_multiprocess_metrics(settings)
    from aigw.cli import server

    sys.stderr.flush()
    sys.stdout.flush()
    # A fresh interpreter that imports only uvicorn: what the checks above imported is not kept.
    argv = server.command(settings.gateway_host, settings.gateway_port, settings.workers, settings.keepalive_timeout)
    os.execv(argv[0], argv)
    return 0


def _prepare_multiprocess_metrics(settings: Settings) -> None:
    """Workers write metrics to files in a fresh folder; `/metrics` on any worker merges them."""
    folder = settings.state_dir / f"metrics-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())

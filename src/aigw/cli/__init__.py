"""The `aigw` command: serve, migrate, config, keys, flags, usage, audit, collections, users."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aigw.cli import catalog, control, serve, users
from aigw.configfile import ConfigError
from aigw.policy.config import PolicyConfigError
from aigw.settings import SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aigw", description="aigw, an AI gateway")
    commands = parser.add_subparsers(metavar="COMMAND")
    serve.add_commands(commands)
    control.add_commands(commands)
    catalog.add_commands(commands)
    users.add_commands(commands)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        (getattr(args, "help_parser", None) or parser).print_help()
        return 2
    try:
        code: int = args.run(args)
        return code
    except (SettingsError, ConfigError, PolicyConfigError, control.CommandError) as exc:
        print(f"aigw: {exc}", file=sys.stderr)
        return 2

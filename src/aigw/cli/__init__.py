"""The `aigw` command: serve, migrate, config, keys, flags, usage, audit, collections, users.

Command modules are imported when `main` runs, not when the package is: `aigw serve` starts its
migration child with `python -m aigw.store.migrate`, and importing anything under `aigw.cli`
(say `aigw.cli.serve`) then costs no import of every other command's dependencies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from aigw.cli import catalog, control, serve, users
    from aigw.configfile import ConfigError
    from aigw.policy.config import PolicyConfigError
    from aigw.settings import SettingsError

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

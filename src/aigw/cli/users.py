"""`aigw users create|list|delete|passwd`: the admin panel's users, straight in the database.

A password is never taken from the command line (argv is visible to every user of the machine in
`ps` and lands in shell history): it is asked twice on the terminal, or read from the first line
of standard input with `--password-stdin` (for scripts and secrets managers). Migrations run first
when AI_AUTO_MIGRATE is on, as `aigw serve` does, so the first admin can be made before the first
start.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aigw.cli.control import CommandError, print_json
from aigw.cli.control import _actor as cli_actor
from aigw.settings import load_settings
from aigw.store.database import Database
from aigw.store.identity import IdentityStoreUnavailable
from aigw.store.users import ROLES, UserError, Users, check_password

T = TypeVar("T")


def add_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="admin panel users (admin or viewer)")
    users.set_defaults(help_parser=users)
    actions = users.add_subparsers(metavar="ACTION")
    create = actions.add_parser("create", help="create a user; the password is asked, never given as an argument")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, required=True, help="admin: changes; viewer: reads only")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(run=_create)
    listing = actions.add_parser("list", help="list users and their roles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_list)
    delete = actions.add_parser("delete", help="delete a user; its sessions end")
    delete.add_argument("name")
    delete.set_defaults(run=_delete)
    passwd = actions.add_parser("passwd", help="set a user's password; its sessions end")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(run=_passwd)


def _create(args: argparse.Namespace) -> int:
    password = _password(args.password_stdin)
    user = _with_users(lambda users: users.create(args.name, args.role, password, cli_actor()))
    print(f"created {user.role} {user.name!r}")
    return 0


def _list(args: argparse.Namespace) -> int:
    found = _with_users(lambda users: users.list_all())
    if args.json:
        print_json([{"name": user.name, "role": user.role} for user in found])
    elif not found:
        print("no users: create one with aigw users create NAME --role admin")
    else:
        width = max(len(user.name) for user in found)
        for user in found:
            print(f"{user.name:<{width}}  {user.role}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not _with_users(lambda users: users.delete(args.name, cli_actor())):
        raise CommandError(f"no user named {args.name!r}")
    print(f"deleted {args.name!r}; its sessions have ended")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    password = _password(args.password_stdin)
    if not _with_users(lambda users: users.set_password(args.name, password, cli_actor())):
        raise CommandError(f"no user named {args.name!r}")
    print(f"password of {args.name!r} changed; its sessions have ended")
    return 0


def _password(from_stdin: bool) -> str:
    try:
        if from_stdin:
            password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        elif not sys.stdin.isatty():
            raise CommandError("no terminal to ask the password on: pipe it in with --password-stdin")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                raise CommandError("the passwords differ")
        return check_password(password)
    except UserError as exc:
        raise CommandError(str(exc)) from None


def _with_users(action: Callable[[Users], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        database = Database(settings.effective_database_url)
        try:
            if settings.auto_migrate:
                from aigw.store.migrate import upgrade  # Alembic only where migrations run

                await upgrade(database)
            return await action(Users(database))
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except UserError as exc:
        raise CommandError(str(exc)) from None
    except IdentityStoreUnavailable as exc:
        raise CommandError(f"the database is away: {exc}") from None

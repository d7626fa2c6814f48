"""`aigw keys`, `aigw flags`, `aigw config set|unset|show`, `aigw audit`: straight to the database,
then a change notification so that every running replica reloads within seconds."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from aigw.cli import serve
from aigw.control.service import ControlPlane, KeySettings, KeySpec
from aigw.masking import mask_entry
from aigw.policy.config import build_policy
from aigw.settings import load_settings
from aigw.store.changes import ChangeBus
from aigw.store.database import Database
from aigw.store.redis import connect_redis

T = TypeVar("T")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class CommandError(Exception):
    """A command that cannot be carried out, with a one-line reason."""


def add_commands(commands: Any) -> None:
    config = commands.add_parser("config", help="inspect and change the configuration")
    config.set_defaults(help_parser=config)
    actions = config.add_subparsers(metavar="ACTION")
    check = actions.add_parser("check", help="validate and print the effective configuration, secrets masked")
    check.add_argument("--config", help="YAML file to check (AI_CONFIG_FILE)")
    check.set_defaults(run=serve.config_check)
    show = actions.add_parser("show", help="print the policy overrides stored in the database")
    show.set_defaults(run=_config_show)
    set_ = actions.add_parser("set", help="set a policy override on every replica (value: JSON or text)")
    set_.add_argument("key")
    set_.add_argument("value")
    set_.set_defaults(run=_config_set)
    unset = actions.add_parser("unset", help="remove a policy override (back to the environment's value)")
    unset.add_argument("key")
    unset.set_defaults(run=_config_unset)

    keys = commands.add_parser("keys", help="virtual API keys")
    keys.set_defaults(help_parser=keys)
    key_actions = keys.add_subparsers(metavar="ACTION")
    create = key_actions.add_parser("create", help="create a key; it is printed once and stored only as a hash")
    create.add_argument("--user")
    create.add_argument("--name")
    create.add_argument("--models", help="comma-separated models this key may use (default: all)")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--tpm", type=int, help="tokens per minute")
    create.add_argument("--budget-daily", type=Decimal, help="USD per day")
    create.add_argument("--budget-monthly", type=Decimal, help="USD per month")
    create.add_argument("--expires", help="ISO date or datetime (UTC) after which the key stops working")
    create.add_argument("--pii-mode", choices=["mask", "restore", "block", "off"], help="PII policy for this key")
    create.add_argument(
        "--pii-entities", help="PII types looked for, comma-separated (all = the structured ones, PERSON and ADDRESS)"
    )
    create.add_argument("--max-prompt-tokens", type=int, help="most prompt tokens one request may send")
    create.add_argument(
        "--prompt-overflow", choices=["reject", "trim_oldest"], help="a prompt over budget: refuse it or trim it"
    )
    create.add_argument(
        "--no-cache", dest="cache", action="store_const", const=False, help="never answer this key from the cache"
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=_keys_create)
    listing = key_actions.add_parser("list", help="list keys (never their secret)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.set_defaults(run=_keys_list)
    revoke = key_actions.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key")
    revoke.set_defaults(run=_keys_revoke)

    flags = commands.add_parser("flags", help="feature flags (ai_enabled is the kill switch)")
    flags.set_defaults(help_parser=flags)
    flag_actions = flags.add_subparsers(metavar="ACTION")
    flag_list = flag_actions.add_parser("list", help="flags stored in the database")
    flag_list.set_defaults(run=_flags_list)
    flag_set = flag_actions.add_parser("set", help="turn a flag on or off on every replica")
    flag_set.add_argument("name")
    flag_set.add_argument("value", help="true or false")
    flag_set.set_defaults(run=_flags_set)

    usage = commands.add_parser("usage", help="spend today and this month, globally and per key")
    usage.add_argument("--json", action="store_true", help="print JSON instead of a table")
    usage.set_defaults(run=_usage)

    audit = commands.add_parser("audit", help="recent control-plane changes")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(run=_audit)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def with_plane(action: Callable[[ControlPlane], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        database = Database(settings.effective_database_url)
        redis = connect_redis(settings.redis_url) if settings.redis_url else None
        try:
            return await action(ControlPlane(database, ChangeBus(database, redis)))
        finally:
            if redis is not None:
                await redis.aclose()
            await database.close()

    return asyncio.run(run())


def print_json(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


def _key_settings(args: argparse.Namespace) -> KeySettings | None:
    given = {
        "pii_mode": args.pii_mode,
        "pii_entities": args.pii_entities,
        "max_prompt_tokens": args.max_prompt_tokens,
        "prompt_overflow": args.prompt_overflow,
        "cache": getattr(args, "cache", None),
    }
    given = {k: v for k, v in given.items() if v is not None}
    return KeySettings(**given) if given else None


def _keys_create(args: argparse.Namespace) -> int:
    try:
        spec = KeySpec(
            user=args.user,
            name=args.name,
            models=[m.strip() for m in args.models.split(",") if m.strip()] if args.models else None,
            rpm=args.rpm,
            tpm=args.tpm,
            budget_daily=args.budget_daily,
            budget_monthly=args.budget_monthly,
            expires_at=args.expires,
            settings=_key_settings(args),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CommandError(f"--{'-'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    token, shown = with_plane(lambda plane: plane.create_key(spec, _actor()))
    if args.json:
        print_json({"key": token, **shown})
    else:
        print(token)
        print(f"id {shown['id']}, prefix {shown['prefix']}: keep the key now, it is not shown again")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    print_json(with_plane(lambda plane: plane.list_keys(include_revoked=args.all)))
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    revoked = with_plane(lambda plane: plane.revoke_key(args.key, _actor()))
    if revoked is None:
        raise CommandError(f"no active key with id or prefix {args.key!r}")
    print(f"revoked key {revoked['id']} ({revoked['prefix']})")
    return 0


def _flags_list(args: argparse.Namespace) -> int:
    print_json(with_plane(lambda plane: plane.flags()))
    return 0


def _flags_set(args: argparse.Namespace) -> int:
    word = args.value.lower()
    if word not in _TRUE | _FALSE:
        raise CommandError(f"flag value must be true or false, not {args.value!r}")
    enabled = word in _TRUE
    old = with_plane(lambda plane: plane.set_flag(args.name, enabled, _actor()))
    print(f"{args.name}: {old} -> {enabled}")
    return 0


def _parse_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _config_set(args: argparse.Namespace) -> int:
    value = _parse_value(args.value)
    old = with_plane(lambda plane: plane.set_config(args.key, value, _actor()))
    print(f"{args.key}: {_shown(args.key, old)} -> {_shown(args.key, value)}")
    return 0


def _config_unset(args: argparse.Namespace) -> int:
    old = with_plane(lambda plane: plane.set_config(args.key, None, _actor()))
    print(f"{args.key}: {_shown(args.key, old)} -> (environment)")
    return 0


def _shown(key: str, value: Any) -> str:
    """A config value as JSON, secrets masked (terminals are recorded and shared)."""
    return orjson.dumps(mask_entry(key, value)).decode()


def _config_show(args: argparse.Namespace) -> int:
    async def stored(plane: ControlPlane) -> Any:
        return (await plane.config_view())["stored"]

    print_json(with_plane(stored))
    return 0


def _audit(args: argparse.Namespace) -> int:
    print_json(with_plane(lambda plane: plane.audit_log(args.limit)))
    return 0


def _usage(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def report(plane: ControlPlane) -> dict[str, Any]:
        return await plane.usage(build_policy(settings, await plane.config_entries()))

    found = with_plane(report)
    if args.json:
        print_json(found)
        return 0
    for label in ("today", "month"):
        period = found[label]
        print(
            f"{label} (since {period['since']}): {_spend_line(period['global'])}, {period['global']['requests']} calls"
        )
        for row in period["keys"]:
            who = row["key_id"] or "(master key)"
            detail = f" user {row['user']}" if row["user"] else ""
            print(f"  key {who}{detail}: {_spend_line(row)}, {row['requests']} calls")
    return 0


def _spend_line(row: dict[str, Any]) -> str:
    line = f"${row['spent_usd']:.6f}"
    if row["cap_usd"] is not None:
        line += f" of ${row['cap_usd']:g} ({row['percent']}%)"
    return line

"""The budgets' state seen from outside a call: started from the spend ledger, reported live.

`seed_budgets` starts the budgets from the spend already in the database (after a restart, a Redis
flush, or a cap set mid-period); a scope that already counts spend is left alone, so replicas
starting together cannot count the same spend twice. `live_usage` is the admin report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from aigw.policy.budget import BudgetLedger, BudgetScope, Period
from aigw.policy.config import PolicyConfig
from aigw.policy.keys import KeyRecord
from aigw.store.database import Database
from aigw.store.spend import period_starts, spend_by_key, spend_by_user


def add_scope(found: list[BudgetScope], name: str, period: Period, cap: float | Decimal | None) -> None:
    if cap is not None:
        found.append(BudgetScope(name, period, float(cap)))


def capped_scopes(policy: PolicyConfig, keys: Iterable[KeyRecord], period: Period) -> list[BudgetScope]:
    """Every scope with a cap in `period`: global, each key, each user that has a key."""
    daily = period == "daily"
    found: list[BudgetScope] = []
    add_scope(found, "global", period, policy.budget_daily if daily else policy.budget_monthly)
    user_cap = policy.budget_user_daily if daily else policy.budget_user_monthly
    users = set()
    for key in keys:
        add_scope(found, f"key:{key.id}", period, key.budget_daily if daily else key.budget_monthly)
        if user_cap is not None and key.user and key.user not in users:
            users.add(key.user)
            add_scope(found, f"user:{key.user}", period, user_cap)
    return found


async def seed_budgets(
    ledger: BudgetLedger, policy: PolicyConfig, database: Database, keys: Iterable[KeyRecord]
) -> int:
    """Seed every capped scope from the spend ledger; returns how many scopes were seeded."""
    keys = list(keys)
    day, month = period_starts()
    seeded = 0
    periods: tuple[tuple[Period, dt.datetime], ...] = (("daily", day), ("monthly", month))
    for period, since in periods:
        scopes = capped_scopes(policy, keys, period)
        if not scopes:
            continue
        by_key = {t.key_id: t.cost_usd for t in await spend_by_key(database, since)}
        by_user = await spend_by_user(database, since)
        for scope in scopes:
            kind, _, name = scope.name.partition(":")
            spent = {"global": sum(by_key.values(), Decimal(0)), "key": by_key.get(name), "user": by_user.get(name)}
            amount = spent[kind]
            if amount and await ledger.seed(scope, amount):
                seeded += 1
    return seeded


async def live_usage(
    ledger: BudgetLedger, policy: PolicyConfig, keys: Iterable[KeyRecord] = (), most: int = 500
) -> list[dict[str, Any]]:
    """The capped budgets as the ledger counts them now: spent, plus what calls in flight hold.
    Global only by default; with `keys`, each key's and user's too (at most `most` scopes)."""
    keys = list(keys)
    scopes = capped_scopes(policy, keys, "daily") + capped_scopes(policy, keys, "monthly")
    shown: list[dict[str, Any]] = []
    for scope in scopes[:most]:
        try:
            now = await ledger.usage(scope)
        except Exception as exc:  # the ledger's store is away: say so instead of failing the report
            shown.append({"scope": scope.name, "period": scope.period, "error": type(exc).__name__})
            continue
        shown.append(
            {
                "scope": scope.name,
                "period": now.period_key,
                "spent_usd": now.spent_usd,
                "reserved_usd": now.reserved_usd,
                "cap_usd": now.cap_usd,
                "remaining_usd": now.remaining_usd,
            }
        )
    return shown

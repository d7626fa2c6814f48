"""One priced call as the spend ledger stores it, and its JSON line in the spool files.

Each record carries a `spend_id` made by the gateway when the call is priced: a random prefix per
process and a counter (request ids come from the caller's `x-request-id`, so they are not unique).
The database keeps the id unique and inserts skip ids it has, so a spool written twice (a crash
between the commit and the spool's removal) counts once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
from dataclasses import asdict, dataclass, field
from decimal import Decimal

import orjson


class _SpendIds:
    """Ids unique across processes: 16 random hex digits, then a counter. A forked worker draws a
    new prefix, so that parent and child never share one."""

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


new_spend_id = _SpendIds()


@dataclass(frozen=True, slots=True)
class Spend:
    """One priced call; `estimated` when the provider sent no usage (tokens and cost are bounds)."""

    ts: dt.datetime
    request_id: str
    key_id: str | None
    user: str | None
    provider: str | None
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    estimated: bool = False
    spend_id: str = field(default_factory=new_spend_id)

    def to_json(self) -> bytes:
        row = asdict(self)
        row["ts"] = self.ts.isoformat()
        row["cost_usd"] = str(self.cost_usd)
        return orjson.dumps(row)

    @classmethod
    def from_json(cls, line: bytes) -> Spend:
        """A record from its spool line; lines written before ids existed get a new id."""
        row = orjson.loads(line)
        row["ts"] = dt.datetime.fromisoformat(row["ts"])
        row["cost_usd"] = Decimal(row["cost_usd"])
        return cls(**row)

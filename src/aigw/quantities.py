"""The bounds of every amount an operator or a caller can configure: money, rates, token counts.

One definition, used by the environment settings, the run-time policy, the key specs and the
stores, so that no value is accepted in one place and then refused (or overflows) in another: a
budget of 1e300 USD was stored, then failed every call of its key; an rpm of 2**63 overflowed
SQLite's INTEGER column.

- USD: at most 1e9, so micro-dollar sums (1e15) stay exact in Redis' Lua, whose numbers are
  doubles (exact below 2**53).
- Rates per minute: at most 1e12, far above any real limit and well inside a signed 64-bit column.
- Token counts: the same bound.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

MAX_USD = 1e9
MAX_COUNT = 10**12

UsdAmount = Annotated[float, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]
UsdDecimal = Annotated[Decimal, Field(ge=0, le=Decimal(int(MAX_USD)), allow_inf_nan=False)]
PerMinute = Annotated[int, Field(ge=1, le=MAX_COUNT)]
TokenCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]

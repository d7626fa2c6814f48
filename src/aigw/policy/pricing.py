"""What a call costs: a price table per model, USD per 1M input and output tokens.

Amounts are `Decimal` USD, exact and already rounded *up* to a whole micro-dollar (1e-6 USD), so
that they convert without loss to the integer micro-dollars the budget ledgers count in
(`cost_micros` gives that integer directly). Rounding up can over-count by less than a micro-dollar
per call; it can never under-count.

Model names resolve to a table entry by the longest family name they start with: "gpt-4o" is
itself, "gpt-4o-2024-08-06" is "gpt-4o" and "gpt-4o-mini-2024-07-18" is "gpt-4o-mini" (a family
only matches whole, i.e. followed by "-"). A key ending in "*" ("stub-*") matches any model that
starts with what precedes the star.

Unknown models are charged the table's `default` price. Unless one is given it is the most
expensive known price (the highest input and the highest output price of the table, today o1's):
never zero, so a budget still trips on a model nobody priced, and over-charging an unknown model is
the safe error. `defaulted_models` lists the models that were priced that way, so that an operator
can add them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from aigw.types import Usage

PRICES_FILE = "prices.yaml"
MAX_DEFAULTED_MODELS = 200  # model names come from callers: remember a bounded number of them
MAX_RESOLVED_MODELS = 1024  # model name -> table key, memoized: resolving scans the table
_MICRO = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1M tokens. `output_per_million` is 0 for embedding models."""

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        for value in (self.input_per_million, self.output_per_million):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"a price must be a finite number >= 0, not {value!r}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelPrice:
        """From `{"input_per_million": .., "output_per_million": ..}` or the short `{"input": .., "output": ..}`."""
        unknown = set(raw) - {"input_per_million", "output_per_million", "input", "output"}
        if unknown:
            raise ValueError(f"unknown price field(s): {', '.join(sorted(unknown))}")
        return cls(
            raw.get("input_per_million", raw.get("input", 0.0)),
            raw.get("output_per_million", raw.get("output", 0.0)),
        )

    @property
    def is_free(self) -> bool:
        return self.input_per_million == 0 and self.output_per_million == 0


def micros_to_usd(micros: int) -> Decimal:
    """Integer micro-dollars as exact USD."""
    return Decimal(micros).scaleb(-6)


class PriceTable:
    """Prices by model family, with a default for the models it does not know."""

    def __init__(self, prices: Mapping[str, ModelPrice], *, default: ModelPrice | None = None) -> None:
        self._exact: dict[str, ModelPrice] = {}
        self._patterns: dict[str, ModelPrice] = {}  # "prefix*" keys, by prefix
        for name, price in prices.items():
            key = name.strip().lower()
            if not key:
                raise ValueError("a price table key must not be empty")
            if key.endswith("*"):
                self._patterns[key[:-1]] = price
            else:
                self._exact[key] = price
        self.prices: Mapping[str, ModelPrice] = dict(prices)
        if default is None:
            default = ModelPrice(
                max((p.input_per_million for p in prices.values()), default=0.0),
                max((p.output_per_million for p in prices.values()), default=0.0),
            )
            if default.is_free:
                raise ValueError("every price in the table is zero: give an explicit default for unknown models")
        self.default = default
        self._rates: dict[ModelPrice, tuple[Decimal, Decimal]] = {}
        self._defaulted: dict[str, None] = {}
        self._resolved: dict[str, str | None] = {}

    @classmethod
    def load(
        cls, overrides: Mapping[str, ModelPrice] | None = None, *, default: ModelPrice | None = None
    ) -> PriceTable:
        """The shipped table (prices.yaml) with `overrides` added or replacing entries of the same name."""
        return cls({**shipped_prices(), **(overrides or {})}, default=default)

    def resolve(self, model: str) -> str | None:
        """The table key that prices `model`, or None when the default price applies."""
        try:
            return self._resolved[model]
        except KeyError:
            pass
        found = self._resolve(model)
        if len(self._resolved) < MAX_RESOLVED_MODELS:  # model names come from callers: a bounded memo
            self._resolved[model] = found
        return found

    def _resolve(self, model: str) -> str | None:
        name = model.strip().lower()
        if name in self._exact:
            return name
        best: str | None = None
        best_len = -1
        for key in self._exact:
            if len(key) > best_len and name.startswith(key + "-"):
                best, best_len = key, len(key)
        for prefix in self._patterns:
            if len(prefix) > best_len and name.startswith(prefix):
                best, best_len = prefix + "*", len(prefix)
        return best

    def price(self, model: str) -> ModelPrice:
        key = self.resolve(model)
        if key is None:
            if model not in self._defaulted and len(self._defaulted) < MAX_DEFAULTED_MODELS:
                self._defaulted[model] = None
            return self.default
        return self._patterns[key[:-1]] if key.endswith("*") else self._exact[key]

    def is_known(self, model: str) -> bool:
        return self.resolve(model) is not None

    @property
    def defaulted_models(self) -> frozenset[str]:
        """Models priced at the default so far (at most MAX_DEFAULTED_MODELS of them)."""
        return frozenset(self._defaulted)

    def cost_micros(self, model: str, usage: Usage) -> int:
        """What `usage` of `model` cost, in micro-dollars, rounded up.

        Tokens the provider counted in `total_tokens` but split into neither prompt nor completion
        are charged at the higher of the two prices rather than given away.
        """
        rate_in, rate_out = self._rate(self.price(model))
        prompt = max(0, usage.prompt_tokens)
        completion = max(0, usage.completion_tokens)
        unsplit = max(0, usage.total_tokens - prompt - completion)
        return _ceil(rate_in * prompt + rate_out * completion + max(rate_in, rate_out) * unsplit)

    def cost(self, model: str, usage: Usage) -> Decimal:
        """What `usage` of `model` cost, in USD (exact, a whole number of micro-dollars)."""
        return micros_to_usd(self.cost_micros(model, usage))

    def worst_case_micros(self, model: str, prompt_tokens: int, max_output_tokens: int) -> int:
        """The most a call can cost when it sends `prompt_tokens` and is answered at most `max_output_tokens`.

        It is >= `cost_micros` of every usage with prompt <= prompt_tokens, completion <=
        max_output_tokens and a total that is their sum: what a budget reserves before the call.
        """
        if prompt_tokens < 0 or max_output_tokens < 0:
            raise ValueError("token counts must be >= 0")
        rate_in, rate_out = self._rate(self.price(model))
        return _ceil(rate_in * prompt_tokens + rate_out * max_output_tokens)

    def worst_case(self, model: str, prompt_tokens: int, max_output_tokens: int) -> Decimal:
        """`worst_case_micros` in USD."""
        return micros_to_usd(self.worst_case_micros(model, prompt_tokens, max_output_tokens))

    def _rate(self, price: ModelPrice) -> tuple[Decimal, Decimal]:
        """Micro-dollars per token, exactly: USD per 1M tokens is numerically micro-USD per token."""
        rate = self._rates.get(price)
        if rate is None:
            rate = self._rates[price] = (_decimal(price.input_per_million), _decimal(price.output_per_million))
        return rate


@functools.cache
def shipped_prices() -> Mapping[str, ModelPrice]:
    """The price table shipped with aigw (prices.yaml next to this module), parsed once."""
    text = resources.files("aigw.policy").joinpath(PRICES_FILE).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f"{PRICES_FILE}: expected a `models` mapping")
    return MappingProxyType({str(name): ModelPrice.from_dict(entry) for name, entry in models.items()})


def _decimal(value: float) -> Decimal:
    """The decimal a price was written as (0.15, not 0.1499999999999999944...)."""
    return Decimal(repr(float(value)))


def _ceil(micros: Decimal) -> int:
    return int(micros.to_integral_value(rounding=ROUND_CEILING))

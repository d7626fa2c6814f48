"""Money, rates and token counts have one bound everywhere they can be set (aigw.quantities).

The fuzzer stored a key with `budget_daily: 1e300` (201), after which every call of that key and
`/admin/api/policy` answered 500, and a key with `tpm: 2**63`, which overflowed SQLite (500).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from aigw.control.service import KeySettings, KeySpec
from aigw.policy.config import PolicyConfig, PolicyConfigError, validate_entry
from aigw.quantities import MAX_COUNT, MAX_USD
from aigw.settings import SettingsError, load_settings

TOO_BIG: list[tuple[str, Any]] = [
    ("budget_daily", 1e300),
    ("budget_monthly", MAX_USD * 10),
    ("budget_daily", float("inf")),
    ("rpm", 2**63),
    ("tpm", 9223372036854775808),
    ("tpm", MAX_COUNT + 1),
]


@pytest.mark.parametrize(("field", "value"), TOO_BIG)
def test_a_key_spec_refuses_amounts_past_the_bounds(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        KeySpec.model_validate({"name": "k", field: value})


def test_a_key_spec_takes_amounts_up_to_the_bounds() -> None:
    spec = KeySpec.model_validate({"name": "k", "budget_daily": MAX_USD, "rpm": MAX_COUNT, "tpm": MAX_COUNT})
    assert spec.rpm == MAX_COUNT and float(spec.budget_daily or 0) == MAX_USD


def test_key_settings_bound_the_prompt_tokens() -> None:
    with pytest.raises(ValidationError):
        KeySettings.model_validate({"max_prompt_tokens": 2**63})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("budget_daily", 1e300),
        ("max_request_cost", 1e10),
        ("rate_limit_per_ip", 2**63),
        ("reserve_output_tokens", 2**70),
    ],
)
def test_the_run_time_policy_refuses_amounts_past_the_bounds(key: str, value: Any) -> None:
    with pytest.raises(PolicyConfigError):
        validate_entry(key, value)
    assert PolicyConfig().model_dump()[key] != value


@pytest.mark.parametrize(("variable", "value"), [("budget_daily", "1e300"), ("rate_limit_per_user", str(2**63))])
def test_the_environment_refuses_amounts_past_the_bounds(variable: str, value: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(**{variable: value})

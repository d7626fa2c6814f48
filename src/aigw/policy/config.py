"""Policy settings that can change at run time: environment defaults, database overrides (`ai_config`).

Every key of `PolicyConfig` can be set with `aigw config set KEY VALUE` (a JSON value) or the
admin API; an unknown key or a bad value is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aigw.quantities import PerMinute, TokenCount, UsdAmount
from aigw.settings import PIIEntities, Settings


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limit_per_user: PerMinute | None = Field(None, description="requests per minute per key/user")
    rate_limit_per_ip: PerMinute | None = Field(None, description="requests per minute per client IP")
    budget_daily: UsdAmount | None = Field(None, description="global daily budget, USD")
    budget_monthly: UsdAmount | None = Field(None, description="global monthly budget, USD")
    budget_user_daily: UsdAmount | None = Field(None, description="daily budget of each user (keys with a user), USD")
    budget_user_monthly: UsdAmount | None = Field(None, description="monthly budget of each user, USD")
    max_request_cost: UsdAmount | None = Field(None, description="refuse a request whose worst case costs more, USD")
    reserve_output_tokens: TokenCount = Field(
        4096, description="output cap set on calls under a budget that name none (what is reserved)"
    )
    budget_fail_closed: bool = Field(False, description="refuse calls (429) while the budget store is unreachable")
    fallback_order: tuple[str, ...] | None = Field(None, description="provider order; overrides AI_FALLBACK_ORDER")
    prices: dict[str, dict[str, float]] = Field(default_factory=dict, description="model -> per-1M token prices")
    alert_webhook_url: str | None = Field(None, description="POSTed when a budget crosses 80 % / 100 %")
    routing: dict[str, Any] | None = Field(
        None, description="providers, models and fallback_order as in the YAML file; replaces it on every replica"
    )
    pii_mode: Literal["mask", "restore", "block", "off"] = Field(
        "mask", description="personal data and secrets in requests: mask, restore (into the answer), block or off"
    )
    pii_entities: PIIEntities = Field(
        ("CARD", "EMAIL", "IBAN", "IPV4", "IPV6", "PHONE", "SECRET", "SSN"),
        description="PII types looked for (comma list): the structured ones by default; all adds PERSON and ADDRESS",
    )
    max_prompt_tokens: TokenCount | None = Field(None, description="most prompt tokens a request may send")
    prompt_overflow: Literal["reject", "trim_oldest"] = Field(
        "reject", description="a prompt over its token budget: refuse it (400) or drop the oldest messages"
    )
    prompt_templates: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description='template definitions by "name@version", on top of the shipped ones'
    )
    template_versions: dict[str, str | int] = Field(
        default_factory=dict, description="the version a bare template name renders, by name"
    )
    cache_enabled: bool = Field(True, description="answer temperature-0 chat, embeddings and tasks from the cache")
    cache_ttl: float = Field(3600.0, gt=0, le=30 * 86400, description="seconds a cached answer is served")
    cache_scope: Literal["key", "global"] = Field(
        "key", description="chat and embeddings cache entries per API key, or shared by all keys"
    )


class PolicyConfigError(ValueError):
    pass


def policy_defaults(settings: Settings) -> dict[str, Any]:
    return {
        "rate_limit_per_user": settings.rate_limit_per_user,
        "rate_limit_per_ip": settings.rate_limit_per_ip,
        "budget_daily": settings.budget_daily,
        "budget_monthly": settings.budget_monthly,
        "budget_user_daily": settings.budget_user_daily,
        "budget_user_monthly": settings.budget_user_monthly,
        "max_request_cost": settings.max_request_cost,
        "alert_webhook_url": settings.alert_webhook_url,
        "pii_mode": settings.pii_mode,
        "pii_entities": settings.pii_entities,
        "max_prompt_tokens": settings.max_prompt_tokens,
        "prompt_overflow": settings.prompt_overflow,
        "cache_enabled": settings.cache_enabled,
        "cache_ttl": settings.cache_ttl,
        "cache_scope": settings.cache_scope,
    }


def build_policy(settings: Settings, overrides: Mapping[str, Any]) -> PolicyConfig:
    """Environment defaults with database overrides on top; unknown stored keys are ignored."""
    known = {k: v for k, v in overrides.items() if k in PolicyConfig.model_fields}
    try:
        return PolicyConfig.model_validate({**policy_defaults(settings), **known})
    except ValidationError:
        return PolicyConfig.model_validate(policy_defaults(settings))  # a bad stored value never stops traffic


def validate_entry(key: str, value: Any) -> None:
    """Refuse an unknown key or a bad value before it is stored."""
    if key not in PolicyConfig.model_fields:
        raise PolicyConfigError(f"unknown config key {key!r}; known: {', '.join(sorted(PolicyConfig.model_fields))}")
    try:
        PolicyConfig.model_validate({key: value})
    except ValidationError as exc:
        raise PolicyConfigError(f"invalid value for {key}: {exc.errors()[0]['msg']}") from None

"""Control-plane operations for the CLI and the admin API: each writes the database with an audit
entry in the same transaction, then tells every replica to reload."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aigw.configfile import ConfigError, config_from_mapping
from aigw.context.templates import TemplateError, TemplateStore
from aigw.masking import mask_secrets
from aigw.policy.config import PolicyConfig, PolicyConfigError, validate_entry
from aigw.policy.keys import generate_key
from aigw.quantities import PerMinute, TokenCount, UsdDecimal
from aigw.settings import PIIEntities, Settings, load_settings
from aigw.store import audit, settings_store
from aigw.store import keys as key_rows
from aigw.store.changes import ChangeBus
from aigw.store.database import Database
from aigw.store.models import ApiKey
from aigw.store.spend import period_starts, spend_by_key


class KeySettings(BaseModel):
    """Per-key overrides of the gateway's context policy (stored in the key's `settings`)."""

    model_config = ConfigDict(extra="forbid")

    pii_mode: Literal["mask", "restore", "block", "off"] | None = None
    pii_entities: PIIEntities | None = None  # PII types looked for; "all" adds PERSON and ADDRESS
    max_prompt_tokens: TokenCount | None = None
    prompt_overflow: Literal["reject", "trim_oldest"] | None = None
    cache: bool | None = None  # False: this key's calls are never answered from nor stored in the cache


class KeySpec(BaseModel):
    """What a new key may do. Unset limits fall back to the gateway-wide policy."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=100)
    models: list[str] | None = None
    rpm: PerMinute | None = None
    tpm: TokenCount | None = None
    budget_daily: UsdDecimal | None = None
    budget_monthly: UsdDecimal | None = None
    expires_at: dt.datetime | None = None
    settings: KeySettings | None = None


class ControlPlane:
    def __init__(self, database: Database, bus: ChangeBus) -> None:
        self.database = database
        self.bus = bus

    async def create_key(self, spec: KeySpec, actor: str) -> tuple[str, dict[str, Any]]:
        """Returns the key itself (shown once, never stored) and its stored description."""
        new = generate_key()
        expires = spec.expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        row = ApiKey(
            id=new.id,
            key_hash=new.key_hash,
            prefix=new.prefix,
            name=spec.name,
            user=spec.user,
            models=spec.models,
            rpm=spec.rpm,
            tpm=spec.tpm,
            budget_daily=spec.budget_daily,
            budget_monthly=spec.budget_monthly,
            expires_at=expires,
            settings=spec.settings.model_dump(exclude_none=True) if spec.settings else None,
        )
        shown = await key_rows.insert_key(self.database, row, actor)
        await self.bus.publish("keys")
        return new.token, shown

    async def list_keys(self, include_revoked: bool = False) -> list[dict[str, Any]]:
        return await key_rows.list_keys(self.database, include_revoked)

    async def revoke_key(self, key: str, actor: str) -> dict[str, Any] | None:
        revoked = await key_rows.revoke_key(self.database, key, actor)
        if revoked is not None:
            await self.bus.publish("keys")
        return revoked

    async def flags(self) -> dict[str, bool]:
        return await settings_store.load_flags(self.database)

    async def set_flag(self, name: str, enabled: bool, actor: str) -> bool | None:
        old = await settings_store.set_flag(self.database, name, enabled, actor)
        await self.bus.publish("flags")
        return old

    async def config_entries(self) -> dict[str, Any]:
        """The stored overrides as they are, secrets included: for the gateway's own use, never shown."""
        return await settings_store.load_config_entries(self.database)

    async def config_view(self, effective: PolicyConfig | None = None) -> dict[str, Any]:
        """What the admin API and `aigw config show` print: the stored overrides (and the effective
        policy when given), with every secret masked."""
        view: dict[str, Any] = {"stored": await self.config_entries()}
        if effective is not None:
            view["effective"] = effective.model_dump(mode="json")
        masked: dict[str, Any] = mask_secrets(view)
        return masked

    async def set_config(self, key: str, value: Any, actor: str, settings: Settings | None = None) -> Any:
        if value is not None:
            validate_entry(key, value)
            if key == "routing":
                validate_routing(value, settings or load_settings())
            if key in ("prompt_templates", "template_versions"):
                await self._validate_templates(key, value)
        old = await settings_store.set_config_entry(self.database, key, value, actor)
        await self.bus.publish("config")
        return old

    async def _validate_templates(self, key: str, value: Any) -> None:
        """Templates and active versions must work together: both are checked with the other's stored value."""
        entries = {**await self.config_entries(), key: value}
        try:
            TemplateStore(entries.get("prompt_templates"), entries.get("template_versions"))
        except TemplateError as exc:
            raise PolicyConfigError(f"invalid value for {key}: {exc}") from None

    async def usage(self, policy: PolicyConfig) -> dict[str, Any]:
        """Today's and this month's spend (UTC periods) from the spend ledger, globally and per key,
        with the caps that apply. The ledger is written in batches: it lags live traffic by about a second."""
        keys = {k["id"]: k for k in await self.list_keys(include_revoked=True)}
        day, month = period_starts()
        report: dict[str, Any] = {}
        for label, since, global_cap, key_cap in (
            ("today", day, policy.budget_daily, "budget_daily"),
            ("month", month, policy.budget_monthly, "budget_monthly"),
        ):
            totals = await spend_by_key(self.database, since)
            spent = sum((t.cost_usd for t in totals), Decimal(0))
            rows = []
            for total in totals:
                key = keys.get(total.key_id or "", {})
                rows.append({**total.as_dict(), "name": key.get("name"), **_against(total.cost_usd, key.get(key_cap))})
            report[label] = {
                "since": since.isoformat(),
                "global": {"requests": sum(t.requests for t in totals), **_against(spent, global_cap)},
                "keys": rows,
            }
        return report

    async def audit_log(self, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        return await audit.recent_changes(self.database, limit, before)


def validate_routing(value: Any, settings: Settings) -> None:
    """A routing entry must build a whole gateway configuration, and hold no secret: provider keys
    stay in the environment of each replica and are named with `api_key_env`."""
    entries = value.get("providers") if isinstance(value, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and "api_key" in entry:
            raise PolicyConfigError(
                f"routing: providers[{index}] holds an api_key; "
                "keep keys in the environment and name them with api_key_env"
            )
    try:
        config_from_mapping(value, settings, "routing")
    except ConfigError as exc:
        raise PolicyConfigError(str(exc)) from None


def _against(spent: Decimal, cap: float | Decimal | str | None) -> dict[str, Any]:
    """Spent, and its share of `cap` when there is one."""
    shown: dict[str, Any] = {"spent_usd": float(spent), "cap_usd": None, "percent": None}
    if cap is not None:
        limit = Decimal(str(cap))
        shown["cap_usd"] = float(limit)
        shown["percent"] = round(float(spent / limit * 100), 2) if limit > 0 else None
    return shown

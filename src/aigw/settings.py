"""Process settings from the environment (`AI_*`, the plan's names) and an optional `.env` file.

Edge decisions made here, at start-up, so a bad value never serves a request:
- `AI_MASTER_KEY` is at least 32 characters: a short key is guessable, and an empty one (an unset
  variable in a compose file) must not silently mean "no key".
- `AI_TRUSTED_PROXIES` (IPs or CIDRs) are parsed as networks now, so a typo fails the start.
- `AI_METRICS_ACCESS` unset means `master_key` when a master key exists and `open` without one
  (then the gateway serves loopback only): `/metrics` names keys and users.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from aigw.quantities import PerMinute, TokenCount, UsdAmount

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
MIN_MASTER_KEY_CHARS = 32
# What the PII policy looks for (`aigw.context.pii.PIIType`'s values): the structured types by default;
# `all` adds the free-form entities, which a model and rules find (opt-in: they cost far more).
STRUCTURED_PII = ("SECRET", "CARD", "IBAN", "SSN", "EMAIL", "PHONE", "IPV6", "IPV4")
ENTITY_PII = ("PERSON", "ADDRESS")
_PII_GROUPS = {"all": STRUCTURED_PII + ENTITY_PII, "default": STRUCTURED_PII, "structured": STRUCTURED_PII}


def parse_pii_entities(value: object) -> tuple[str, ...]:
    """`AI_PII_ENTITIES` / `pii_entities`: a comma list (or a JSON list) of PII types and the groups
    `all`, `default`; returned sorted and without repeats. An unknown name is a ValueError naming it."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValueError("must be a comma-separated list of PII types, e.g. all or EMAIL,PHONE,PERSON")
    chosen: set[str] = set()
    for item in items:
        name = item.strip() if isinstance(item, str) else item
        if not isinstance(name, str) or not name:
            continue
        if name.lower() in _PII_GROUPS:
            chosen.update(_PII_GROUPS[name.lower()])
        elif name.upper() in STRUCTURED_PII + ENTITY_PII:
            chosen.add(name.upper())
        else:
            known = ", ".join(("all", "default", *STRUCTURED_PII, *ENTITY_PII))
            raise ValueError(f"unknown PII type {name[:40]!r}; known: {known}")
    if not chosen:
        raise ValueError("names no PII type (to detect nothing, set the PII mode to off)")
    return tuple(sorted(chosen))


PIIEntities = Annotated[tuple[str, ...], BeforeValidator(parse_pii_entities)]


class Settings(BaseSettings):
    """Every knob the gateway reads from its environment. Secrets are `SecretStr`."""

    model_config = SettingsConfigDict(env_prefix="AI_", env_file=".env", extra="ignore", case_sensitive=False)

    gateway_enabled: bool = True
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8080, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    config_file: Path | None = None

    master_key: SecretStr | None = None
    allowed_hosts: Annotated[list[str], NoDecode] = []  # Host names served without a master key, beyond loopback
    trusted_proxies: Annotated[list[str], NoDecode] = []  # IPs/CIDRs whose X-Forwarded-For is believed
    metrics_access: Literal["open", "master_key", "off"] | None = None  # see effective_metrics_access
    auth_failure_limit: int = Field(10, ge=1, le=10_000)  # failed authentications per client IP ...
    auth_failure_window: float = Field(60.0, gt=0, le=86_400)  # ... per this many seconds, then 429
    admin_session_ttl: float = Field(12 * 3600.0, gt=0, le=30 * 86_400)  # seconds an admin panel session lives
    admin_session_idle: float = Field(3600.0, gt=0, le=30 * 86_400)  # ... and unused before it ends
    # OpenID Connect single sign-on for the admin panel (aigw.identity.oidc): on when the issuer is set
    oidc_issuer: str | None = None  # discovery at <issuer>/.well-known/openid-configuration
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None  # the callback URL registered at the provider; default: from the request
    oidc_scopes: Annotated[list[str], NoDecode] = ["openid", "email", "profile"]
    oidc_role_claim: Annotated[list[str], NoDecode] = ["groups", "roles"]  # claims whose values map to roles
    oidc_admin_values: Annotated[list[str], NoDecode] = []  # claim values that make an admin
    oidc_viewer_values: Annotated[list[str], NoDecode] = []  # ... a viewer; no matching value: refused
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_timeout: float = Field(30.0, gt=0, le=3600)
    openai_max_retries: int = Field(3, ge=0, le=10)
    openai_max_connections: int = Field(1000, ge=1)
    max_upstream_body_bytes: int = Field(128 * 1024 * 1024, ge=1024)  # a plain upstream answer
    max_upstream_event_bytes: int = Field(8 * 1024 * 1024, ge=1024)  # one event of an upstream stream

    retry_backoff_base: float = Field(0.25, ge=0, le=60)
    retry_max_delay: float = Field(8.0, ge=0, le=600)

    circuit_breaker_enabled: bool = True
    circuit_breaker_failure_rate: float = Field(0.5, gt=0, le=1)
    circuit_breaker_min_calls: int = Field(10, ge=1)
    circuit_breaker_window: float = Field(30.0, gt=0)
    circuit_breaker_cooldown: float = Field(15.0, gt=0)

    fallback_enabled: bool = True
    fallback_order: Annotated[list[str], NoDecode] = ["openai", "local"]
    # Environment variables a provider's `api_key_env` may name: these prefixes, plus the usual
    # provider key names (aigw.configfile.PROVIDER_KEY_NAMES); never the gateway's own AI_* settings.
    provider_env_prefixes: Annotated[list[str], NoDecode] = ["AI_PROVIDER_"]

    database_url: str | None = None
    redis_url: str | None = None
    config_poll_interval: float = Field(2.0, gt=0, le=60)
    provider_swap_grace: float = Field(30.0, ge=0, le=3600)  # seconds replaced providers keep serving calls in flight
    auto_migrate: bool = True

    rate_limit_per_user: PerMinute | None = None
    rate_limit_per_ip: PerMinute | None = None
    budget_daily: UsdAmount | None = None
    budget_monthly: UsdAmount | None = None
    budget_user_daily: UsdAmount | None = None
    budget_user_monthly: UsdAmount | None = None
    max_request_cost: UsdAmount | None = None
    alert_webhook_url: str | None = None
    pii_mode: Literal["mask", "restore", "block", "off"] = "mask"
    # AI_PII_ENTITIES: PII types looked for, a comma list; `all` adds PERSON and ADDRESS
    pii_entities: Annotated[PIIEntities, NoDecode] = tuple(sorted(STRUCTURED_PII))
    max_prompt_tokens: TokenCount | None = None
    prompt_overflow: Literal["reject", "trim_oldest"] = "reject"

    cache_enabled: bool = True  # exact-match cache of temperature-0 chat, embeddings and task answers
    cache_ttl: float = Field(3600.0, gt=0, le=30 * 86400)
    cache_scope: Literal["key", "global"] = "key"
    cache_backend: Literal["auto", "memory", "redis"] = "auto"  # auto: Redis when AI_REDIS_URL is set
    cache_max_entries: int = Field(10_000, ge=1)  # of the in-process cache

    tracing_enabled: bool = True  # off: no trace is persisted or exported (metrics and logs stay)
    # Persisted traces (aigw.store.traces; defaults and their measured cost in its settings module).
    trace_sample_rate: float = Field(0.1, ge=0.0, le=1.0)  # of successful calls; errors, refusals, fallbacks: all
    trace_retention_days: float = Field(7.0, gt=0, le=3650)
    trace_payloads: Literal["off", "masked"] = "masked"  # masked previews of prompt (as sent) and answer
    trace_preview_chars: int = Field(200, ge=0, le=4000)  # of each masked preview
    trace_queue_size: int = Field(20_000, ge=1, le=1_000_000)  # finished traces waiting; more are dropped
    trace_batch_size: int = Field(500, ge=1, le=10_000)  # traces per flush (a full batch wakes the writer)
    trace_flush_interval: float = Field(1.0, gt=0, le=60)  # seconds between flushes
    trace_write_timeout: float = Field(5.0, gt=0, le=300)  # one flush's database time; past it the batch is dropped
    trace_retention_interval: float = Field(600.0, gt=0, le=86_400)  # seconds between retention runs
    trace_retention_batch: int = Field(500, ge=1, le=100_000)  # rows per DELETE
    metrics_enabled: bool = True
    log_level: LogLevel = "INFO"
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_collection_body_bytes: int = Field(32 * 1024 * 1024, ge=1024)  # item uploads: up to 10,000 items a call
    keepalive_timeout: int = Field(75, ge=1)  # above the usual load balancer idle timeout (60 s)
    task_deadline: float = Field(2.0, gt=0, le=120)  # seconds a task call may take, fallbacks included
    task_llm_deadline: float = Field(8.0, gt=0, le=300)  # the same for tasks with LLM steps (intent, rerank)
    embedding_model: str = "text-embedding-3-small"  # the provider model task searches embed with
    vector_index: Literal["auto", "memory", "pgvector"] = "auto"  # auto: pgvector when PostgreSQL has it
    state_dir: Path = Path(".aigw")

    @field_validator("fallback_order", "provider_env_prefixes", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("oidc_role_claim", "oidc_admin_values", "oidc_viewer_values", mode="before")
    @classmethod
    def _split_at_commas(cls, value: object) -> object:
        """Comma-separated: group names may hold spaces ("Platform Admins")."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("oidc_scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return value.replace(",", " ").split()
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _https_issuer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        host = urlsplit(value).hostname or ""
        if not (value.startswith("https://") or (value.startswith("http://") and _loopback_name(host))):
            raise ValueError("must be an https:// URL (http:// only for a provider on this machine)")
        return value

    @field_validator("master_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_MASTER_KEY_CHARS:
            raise ValueError(
                f"must be at least {MIN_MASTER_KEY_CHARS} characters (make one with: openssl rand -hex 32)"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # a ValueError names the bad entry
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def binds_loopback_only(self) -> bool:
        return _loopback_name(self.gateway_host.strip("[]"))

    @property
    def effective_metrics_access(self) -> Literal["open", "master_key", "off"]:
        if self.metrics_access is not None:
            return self.metrics_access
        return "master_key" if self.master_key is not None else "open"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.state_dir / 'aigw.db'}"

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None and self.oidc_client_id is not None


def _loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(Exception):
    """A bad setting, with a one-line explanation naming the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc, prefix="AI_")) from None


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    first = exc.errors()[0]
    name = prefix + "_".join(str(part) for part in first["loc"] if not isinstance(part, int)).upper()
    value = first.get("input")
    shown = "" if isinstance(value, dict | type(None)) or "key" in name.lower() else f"={value!r}"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid setting {name}{shown}: {first['msg']}{more}"

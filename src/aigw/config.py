"""Typed gateway configuration: providers, model aliases (deployments) and fallback order.

Models only; `aigw.configfile` builds them from a YAML file or from the `AI_*` settings. A
provider's kind is picked by its `type` field through the provider registry, never by comparing
names elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, model_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerConfig(StrictModel):
    enabled: bool = True
    failure_rate: float = Field(0.5, gt=0, le=1)
    min_calls: int = Field(10, ge=1)
    window: float = Field(30.0, gt=0)
    cooldown: float = Field(15.0, gt=0)


class RetryConfig(StrictModel):
    max_retries: int = Field(3, ge=0, le=10)
    backoff_base: float = Field(0.25, ge=0)
    max_delay: float = Field(8.0, ge=0)


class ProviderConfigBase(StrictModel):
    """What every provider's configuration has. Each provider module subclasses it with its own
    fields and a `type` literal; the registry picks the subclass by that `type`.

    Two naming rules hold for every provider family, so that the checks below (and the
    environment allow-list in `aigw.configfile`) cover a new family without knowing it:
    a field that names an environment variable to read ends in `_env` (`api_key_env`), and a
    field that holds an upstream address ends in `url` (`base_url`) and must be http(s).
    """

    type: str
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    models: tuple[str, ...] = ()  # served models; empty = any model asked for
    timeout: float = Field(30.0, gt=0)
    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()

    def env_names(self) -> dict[str, str]:
        """Field name -> environment variable name, for every field that reads the environment."""
        return {field: value for field, value in self if field.endswith("_env") and isinstance(value, str)}

    @model_validator(mode="after")
    def _check_urls(self) -> ProviderConfigBase:
        for field, value in self:
            if field.endswith("url") and isinstance(value, str):
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise ValueError(f"{field} must be an http:// or https:// URL with a host")
        return self


class Deployment(StrictModel):
    """One place a model is served: a provider and the model name it knows.

    `weight` is this deployment's share of primary traffic within its alias (relative to the
    others); 0 keeps it out of the split so it only ever serves as a fallback. `canary` puts its
    share first in the split so that raising the weight only moves users onto it (see
    `aigw.routing`). An alias whose deployments all keep weight 1.0 and no canary is a plain
    fallback list in declared order.
    """

    provider: str
    model: str
    weight: float = Field(1.0, ge=0, allow_inf_nan=False)
    canary: bool = False


class GatewayConfig(StrictModel):
    providers: tuple[SerializeAsAny[ProviderConfigBase], ...] = Field(min_length=1)
    models: dict[str, tuple[Deployment, ...]] = {}
    fallback_order: tuple[str, ...] = ()
    default_model: str | None = None

    @model_validator(mode="after")
    def _check_references(self) -> GatewayConfig:
        names = [p.name for p in self.providers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique, repeated: {', '.join(duplicates)}")
        for alias, deployments in self.models.items():
            for dep in deployments:
                if dep.provider not in names:
                    raise ValueError(f"model {alias!r} names unknown provider {dep.provider!r}")
            if deployments and all(dep.weight == 0 for dep in deployments):
                raise ValueError(
                    f"model {alias!r}: every deployment has weight 0, so none could be primary;"
                    " give at least one a weight above 0"
                )
        return self

    def provider_chain(self, fallback_enabled: bool = True) -> list[str]:
        """Provider names in the order they are tried: `fallback_order` first, then the rest."""
        names = [p.name for p in self.providers]
        chain = [n for n in self.fallback_order if n in names]
        chain += [n for n in names if n not in chain]
        return chain if fallback_enabled else chain[:1]

"""What every provider family that talks HTTP shares: the bounds in its configuration, one
`HttpTransport` opened and closed with it, and the upstream's model list cached for a minute.

A family's module subclasses `HttpProviderConfig` (adding `type`, `base_url`, credentials) and
`HttpProvider` (adding the translation), so none of this is repeated per family.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from pydantic import Field
from yarl import URL

from aigw.config import ProviderConfigBase
from aigw.errors import ProviderError
from aigw.providers.base import AIProvider
from aigw.providers.http_transport import HttpTransport, TransportLimits

_MODELS_CACHE_SECONDS = 60.0


class HttpProviderConfig(ProviderConfigBase):
    max_connections: int = Field(1000, ge=1)
    max_body_bytes: int = Field(128 * 1024 * 1024, ge=1024)  # a plain (not streamed) answer
    max_event_bytes: int = Field(8 * 1024 * 1024, ge=1024)  # one event of a stream

    def transport_limits(self) -> TransportLimits:
        return TransportLimits(
            timeout=self.timeout,
            max_connections=self.max_connections,
            max_body_bytes=self.max_body_bytes,
            max_event_bytes=self.max_event_bytes,
        )


class HttpProvider(AIProvider):
    """A provider whose calls go through one `HttpTransport` (made in `__init__`)."""

    def __init__(self, config: HttpProviderConfig, headers: Mapping[str, str]) -> None:
        super().__init__(config)
        self._transport = HttpTransport(self.name, config.transport_limits(), headers)
        self._models_cache: tuple[float, list[str]] | None = None

    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()

    def is_available(self) -> bool:
        return self._transport.is_open

    async def upstream_models(self, url: URL) -> list[str]:
        """The ids of an OpenAI-style model list (`{"data": [{"id": ...}]}`) at `url`, cached for a
        minute; none when the upstream cannot say."""
        now = time.monotonic()
        if self._models_cache and now - self._models_cache[0] < _MODELS_CACHE_SECONDS:
            return self._models_cache[1]
        try:
            data = await self._transport.get_json(url)
        except ProviderError:
            data = None
        entries = data.get("data") if isinstance(data, dict) else None
        models = [m["id"] for m in entries or () if isinstance(m, dict) and isinstance(m.get("id"), str)]
        self._models_cache = (now, models)
        return models

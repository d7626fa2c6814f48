"""The gateway inside a Python program, without HTTP: async (`Gateway`) and sync (`SyncGateway`).

    async with aigw.Gateway.from_environment() as gateway:
        await gateway.load_collection("shop", [aigw.Item("p1", "Leather sofa", {"price": 900})])
        answer = await gateway.semantic_search("shop", "couch", k=5)
        answer = await gateway.intelligent_search("shop", "cheap red couch", rerank=True)
        answer = await gateway.recommendations("shop", ["p1"], explain=True)

    with aigw.SyncGateway() as gateway:          # its own event loop, in a thread
        answer = gateway.semantic_search("shop", "couch", k=5)

Answers are the same JSON as the HTTP task endpoints. The database must be migrated (`aigw migrate`,
or `migrate=True` here).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from aigw.catalog.item import Item
from aigw.gateway import Gateway
from aigw.store.migrate import upgrade

T = TypeVar("T")


async def started(gateway: Gateway, *, migrate: bool = False) -> Gateway:
    """`gateway`, migrated first if asked, and started."""
    if migrate:
        await upgrade(gateway.database)
    await gateway.start()
    return gateway


class SyncGateway:
    """A `Gateway` for synchronous code: it runs on its own event loop in a daemon thread."""

    def __init__(self, gateway: Gateway | None = None, *, migrate: bool = False) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="aigw-gateway", daemon=True)
        self._thread.start()
        self.gateway = gateway if gateway is not None else self._run(_build())
        self._run(started(self.gateway, migrate=migrate))

    def load_collection(self, name: str, items: Sequence[Item], settings: dict[str, Any] | None = None) -> int:
        return self._run(self.gateway.load_collection(name, items, settings))

    def semantic_search(
        self, collection: str, query: str, k: int = 10, filters: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._run(self.gateway.semantic_search(collection, query, k, filters))

    def intelligent_search(
        self,
        collection: str,
        query: str,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        rerank: bool = False,
        locale: str = "en",
    ) -> dict[str, Any]:
        return self._run(self.gateway.intelligent_search(collection, query, k, filters, rerank, locale))

    def recommendations(
        self,
        collection: str,
        item_ids: Sequence[str],
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        diversity: float = 0.3,
        explain: bool = False,
        locale: str = "en",
    ) -> dict[str, Any]:
        return self._run(self.gateway.recommendations(collection, item_ids, k, filters, diversity, explain, locale))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self.gateway.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> SyncGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


async def _build() -> Gateway:
    return Gateway.from_environment()  # on the gateway's own loop, where its locks and pools will live

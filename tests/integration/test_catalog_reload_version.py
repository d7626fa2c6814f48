"""Loading the same catalog again changes nothing: the collection's version (which tells every
replica to rebuild its index and send searches to fuzzy meanwhile) moves only when an item's text
or metadata, or the collection's settings, really change. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aigw.catalog.item import Item
from aigw.cli import main
from aigw.store import catalog as rows
from aigw.store.database import Database
from aigw.store.migrate import upgrade

pytestmark = pytest.mark.integration
ITEMS = [
    Item("p1", "Grey fabric sofa", {"price": 899, "tags": ["living room", "sofa"], "dims": {"w": 210}}),
    Item("p2", "Oak coffee table", {"price": 249}),
    Item("p3", "Floor lamp", {}),
]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


async def version(database: Database) -> int:
    return (await rows.collection_versions(database))["shop"]


async def test_the_same_items_and_settings_again_keep_the_version(database: Database) -> None:
    await rows.put_collection(database, "shop", {"field_weights": {"title": 2}})
    await rows.upsert_items(database, "shop", ITEMS)
    loaded = await version(database)
    assert await rows.upsert_items(database, "shop", list(reversed(ITEMS))) == 3
    assert await rows.put_collection(database, "shop", {"field_weights": {"title": 2}}) is False
    assert await version(database) == loaded


@pytest.mark.parametrize(
    "changed",
    [
        Item("p1", "Grey fabric sofa, three seats", ITEMS[0].metadata),  # text
        Item("p2", "Oak coffee table", {"price": 199}),  # metadata
        Item("p3", "Floor lamp", {"color": "black"}),  # metadata added
        Item("p4", "Wool rug", {}),  # a new item
    ],
)
async def test_a_real_change_moves_the_version(database: Database, changed: Item) -> None:
    await rows.put_collection(database, "shop", {})
    await rows.upsert_items(database, "shop", ITEMS)
    loaded = await version(database)
    await rows.upsert_items(database, "shop", [*(i for i in ITEMS if i.id != changed.id), changed])
    assert await version(database) == loaded + 1
    stored = {s.item.id: s.item for s in await rows.load_items(database, "shop")}
    assert stored[changed.id] == changed


async def test_new_settings_and_deletions_move_the_version(database: Database) -> None:
    await rows.put_collection(database, "shop", {})
    await rows.upsert_items(database, "shop", ITEMS)
    loaded = await version(database)
    await rows.put_collection(database, "shop", {"synonyms": {"sofa": ["couch"]}})
    assert await version(database) == loaded + 1
    assert await rows.delete_items(database, "shop", ["nope"]) == 0
    assert await version(database) == loaded + 1
    assert await rows.delete_items(database, "shop", ["p3"]) == 1
    assert await version(database) == loaded + 2


def test_aigw_collections_load_twice_keeps_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    asyncio.run(_migrate(database_url))
    monkeypatch.setenv("AI_DATABASE_URL", database_url)
    monkeypatch.delenv("AI_REDIS_URL", raising=False)
    catalog = tmp_path / "items.jsonl"
    catalog.write_text("".join(json.dumps({"id": i.id, "text": i.text, "metadata": i.metadata}) + "\n" for i in ITEMS))
    assert main(["collections", "load", str(catalog), "--collection", "shop", "--batch", "2"]) == 0
    first = asyncio.run(_version(database_url))
    assert main(["collections", "load", str(catalog), "--collection", "shop", "--batch", "2"]) == 0
    assert asyncio.run(_version(database_url)) == first


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.close()


async def _version(url: str) -> int:
    database = Database(url)
    try:
        return await version(database)
    finally:
        await database.close()

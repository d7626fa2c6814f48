"""Catalog rows: collections, their items and the items' embeddings, written in bulk.

Every change to a collection or its items raises the collection's `version`, so a replica can tell
that its in-memory index is stale by comparing one integer. Only a real change does: loading the
same catalog again, or setting the same settings, writes nothing and keeps the version, so the
indexes (and their local vectors) built from it stay in use instead of being rebuilt. Embeddings
are kept per model with the hash of the text they were made from: only those whose hash matches
the item's text are used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from aigw.catalog.item import Item
from aigw.store.database import Database
from aigw.store.models import CatalogItem, Collection, ItemEmbedding

_BATCH = 500  # rows per statement: well under SQLite's and asyncpg's bound-parameter limits


@dataclass(frozen=True, slots=True)
class StoredItem:
    item: Item
    content_hash: str


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def put_collection(database: Database, name: str, settings: dict[str, Any] | None) -> bool:
    """Create the collection or replace its settings (the version moves only if they differ); True
    when it was created."""
    async with database.engine.begin() as conn:
        existing = (
            await conn.execute(sa.select(Collection.version, Collection.settings).where(Collection.name == name))
        ).first()
        if existing is None:
            await conn.execute(sa.insert(Collection).values(name=name, settings=settings, version=1))
            return True
        if (existing.settings or {}) != (settings or {}):
            await conn.execute(
                sa.update(Collection)
                .where(Collection.name == name)
                .values(settings=settings, version=existing.version + 1)
            )
        return False


async def delete_collection(database: Database, name: str) -> bool:
    async with database.engine.begin() as conn:
        await conn.execute(sa.delete(ItemEmbedding).where(ItemEmbedding.collection == name))
        await conn.execute(sa.delete(CatalogItem).where(CatalogItem.collection == name))
        result = await conn.execute(sa.delete(Collection).where(Collection.name == name))
        return bool(result.rowcount)


async def get_collection(database: Database, name: str) -> dict[str, Any] | None:
    rows = await list_collections(database, name)
    return rows[0] if rows else None


async def list_collections(database: Database, name: str | None = None) -> list[dict[str, Any]]:
    count = (
        sa.select(sa.func.count())
        .where(CatalogItem.collection == Collection.name)
        .correlate(Collection)
        .scalar_subquery()
    )
    query = sa.select(Collection.name, Collection.settings, Collection.version, count.label("items")).order_by(
        Collection.name
    )
    if name is not None:
        query = query.where(Collection.name == name)
    async with database.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [{"name": r.name, "settings": r.settings or {}, "version": r.version, "items": r.items} for r in rows]


async def collection_versions(database: Database) -> dict[str, int]:
    async with database.engine.connect() as conn:
        rows = (await conn.execute(sa.select(Collection.name, Collection.version))).all()
    return {r.name: r.version for r in rows}


async def upsert_items(database: Database, name: str, items: Sequence[Item]) -> int:
    """Insert or replace `items` (by id) in one transaction; returns how many were upserted. A row
    whose text and metadata are already stored is left alone, and the version moves only if some
    row was really written."""
    table = cast(sa.Table, CatalogItem.__table__)
    insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    written = 0  # rows inserted or changed
    async with database.engine.begin() as conn:
        for start in range(0, len(items), _BATCH):
            rows = [
                {
                    "collection": name,
                    "id": item.id,
                    "text": item.text,
                    "metadata": item.metadata,
                    "content_hash": content_hash(item.text),
                }
                for item in items[start : start + _BATCH]
            ]
            statement = insert(table).values(rows)
            new = statement.excluded
            changed = await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.collection, table.c.id],
                    set_={
                        "text": new["text"],
                        "metadata": new["metadata"],
                        "content_hash": new["content_hash"],
                        "updated_at": sa.func.now(),
                    },
                    where=sa.or_(
                        table.c.content_hash != new["content_hash"],
                        table.c.metadata.is_distinct_from(new["metadata"]),
                    ),
                ).returning(table.c.id)
            )
            written += len(changed.all())
        if written:
            await _bump(conn, name)
    return len(items)


async def delete_items(database: Database, name: str, ids: Iterable[str]) -> int:
    wanted = list(ids)
    deleted = 0
    async with database.engine.begin() as conn:
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            await conn.execute(
                sa.delete(ItemEmbedding).where(ItemEmbedding.collection == name, ItemEmbedding.item_id.in_(chunk))
            )
            result = await conn.execute(
                sa.delete(CatalogItem).where(CatalogItem.collection == name, CatalogItem.id.in_(chunk))
            )
            deleted += result.rowcount or 0
        if deleted:
            await _bump(conn, name)
    return deleted


async def load_items(database: Database, name: str) -> list[StoredItem]:
    query = sa.select(
        CatalogItem.id, CatalogItem.text, CatalogItem.item_metadata.label("meta"), CatalogItem.content_hash
    ).where(CatalogItem.collection == name)
    async with database.engine.connect() as conn:
        rows = (await conn.execute(query.order_by(CatalogItem.id))).all()
    return [StoredItem(Item(r.id, r.text, r.meta or {}), r.content_hash) for r in rows]


async def load_embeddings(database: Database, name: str, model: str) -> dict[str, tuple[str, bytes]]:
    """Item id -> (content hash, float32 bytes) of the embeddings `model` made for the collection."""
    query = sa.select(ItemEmbedding.item_id, ItemEmbedding.content_hash, ItemEmbedding.vector).where(
        ItemEmbedding.collection == name, ItemEmbedding.model == model
    )
    async with database.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {r.item_id: (r.content_hash, r.vector) for r in rows}


async def items_without_embedding(database: Database, name: str, model: str) -> int:
    """How many items of the collection have no stored embedding of their current text by `model`."""
    embedding = sa.and_(
        ItemEmbedding.collection == CatalogItem.collection,
        ItemEmbedding.item_id == CatalogItem.id,
        ItemEmbedding.model == model,
        ItemEmbedding.content_hash == CatalogItem.content_hash,
    )
    query = (
        sa.select(sa.func.count())
        .select_from(CatalogItem)
        .outerjoin(ItemEmbedding, embedding)
        .where(CatalogItem.collection == name, ItemEmbedding.item_id.is_(None))
    )
    async with database.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def store_embeddings(database: Database, name: str, model: str, rows: Sequence[tuple[str, str, bytes]]) -> int:
    """Keep embeddings (item id, content hash, float32 bytes) made by `model`, replacing older ones."""
    if not rows:
        return 0
    table = cast(sa.Table, ItemEmbedding.__table__)
    insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    async with database.engine.begin() as conn:
        for start in range(0, len(rows), _BATCH):
            values = [
                {"collection": name, "item_id": i, "model": model, "content_hash": h, "vector": v}
                for i, h, v in rows[start : start + _BATCH]
            ]
            statement = insert(table).values(values)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.collection, table.c.item_id, table.c.model],
                    set_={"content_hash": statement.excluded["content_hash"], "vector": statement.excluded["vector"]},
                )
            )
    return len(rows)


async def _bump(conn: Any, name: str) -> None:
    await conn.execute(sa.update(Collection).where(Collection.name == name).values(version=Collection.version + 1))

"""`aigw collections`: load a catalog from a JSON Lines file, list collections, delete one.

aigw collections load FILE.jsonl --collection NAME [--batch 1000] [--no-embed]
    each line: {"id": "...", "text": "...", "metadata": {...}}; creates the collection if needed,
    upserts by id, tells every running replica to reload it, and (with the local-embeddings extra)
    stores the local embedding of every item whose text has none yet

Loading makes the local embeddings here, once, rather than leaving them to the gateway: a gateway
that starts on a collection whose embeddings are all stored waits the second it takes to read them
and answers its first search with them, where it would otherwise answer with fuzzy matches for as
long as the embedding takes (~25 s for the 3,000 demo items on two cores). Loading the same file
again computes nothing.
aigw collections list
aigw collections delete NAME
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from aigw.catalog.item import MAX_ID_LENGTH, MAX_TEXT_LENGTH, Item
from aigw.catalog.jsonl import JsonLinesError, read_json_lines
from aigw.cli.control import CommandError, print_json, with_plane
from aigw.control.service import ControlPlane
from aigw.fallbacks import local_embeddings
from aigw.store import catalog as rows
from aigw.store.database import Database

_EMBED_BATCH = 256


def add_commands(commands: Any) -> None:
    collections = commands.add_parser("collections", help="catalogs searched by the task entrypoints")
    collections.set_defaults(help_parser=collections)
    actions = collections.add_subparsers(metavar="ACTION")
    load = actions.add_parser("load", help="upsert items from a JSON Lines file")
    load.add_argument("file", type=Path)
    load.add_argument("--collection", required=True, help="collection name (created if it does not exist)")
    load.add_argument("--batch", type=int, default=1000, help="items per database transaction")
    load.add_argument(
        "--no-embed", action="store_true", help="leave the local embeddings to the gateway (made when it serves)"
    )
    load.set_defaults(run=_load)
    listing = actions.add_parser("list", help="collections and their item counts")
    listing.set_defaults(run=_list)
    delete = actions.add_parser("delete", help="delete a collection and its items")
    delete.add_argument("name")
    delete.set_defaults(run=_delete)


def read_items(path: Path) -> list[Item]:
    """Items of a JSON Lines file; a bad line stops the load with its line number (nothing is written)."""
    items: dict[str, Item] = {}
    try:
        for number, raw in read_json_lines(path):
            items[_field(raw, "id", number, path)] = _item(raw, number, path)  # a repeated id: the last line wins
    except JsonLinesError as exc:
        raise CommandError(str(exc)) from None
    if not items:
        raise CommandError(f"{path}: no items")
    return list(items.values())


def _item(raw: Any, number: int, path: Path) -> Item:
    metadata = raw.get("metadata", {}) if isinstance(raw, dict) else None
    if not isinstance(metadata, dict):
        raise CommandError(f"{path}:{number}: 'metadata' must be an object")
    return Item(_field(raw, "id", number, path), _field(raw, "text", number, path), metadata)


def _field(raw: Any, name: str, number: int, path: Path) -> str:
    value = raw.get(name) if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and name == "id":
        value = str(value)
    limit = MAX_ID_LENGTH if name == "id" else MAX_TEXT_LENGTH
    if not isinstance(value, str) or not value or len(value) > limit:
        raise CommandError(f"{path}:{number}: '{name}' must be a string of 1 to {limit} characters")
    return value


def _load(args: argparse.Namespace) -> int:
    items = read_items(args.file)
    batch = max(1, args.batch)

    async def load(plane: ControlPlane) -> int:
        if await rows.get_collection(plane.database, args.collection) is None:
            await rows.put_collection(plane.database, args.collection, {})
        for start in range(0, len(items), batch):
            await rows.upsert_items(plane.database, args.collection, items[start : start + batch])
        await plane.bus.publish("catalog")
        return len(items)

    loaded = with_plane(load)
    print(f"loaded {loaded} items into collection {args.collection!r}")
    if not args.no_embed and local_embeddings.available():
        made = with_plane(lambda plane: store_local_embeddings(plane.database, args.collection))
        print(f"local embeddings: {made} made ({loaded - made} stored already)")
    return 0


async def store_local_embeddings(database: Database, name: str) -> int:
    """Make and store the local embedding of every item whose current text has none; returns how many."""
    embedder = local_embeddings.get_embedder()
    if embedder is None:
        return 0
    stored = await rows.load_items(database, name)
    saved = await rows.load_embeddings(database, name, embedder.name)
    missing = [s for s in stored if saved.get(s.item.id, ("",))[0] != s.content_hash]
    for start in range(0, len(missing), _EMBED_BATCH):
        batch = missing[start : start + _EMBED_BATCH]
        vectors = embedder.embed([s.item.text for s in batch]).astype(np.float32)
        made = [(s.item.id, s.content_hash, v.tobytes()) for s, v in zip(batch, vectors, strict=True)]
        await rows.store_embeddings(database, name, embedder.name, made)
        print(f"  embedded {start + len(batch)} of {len(missing)}", file=sys.stderr)
    return len(missing)


def _list(args: argparse.Namespace) -> int:
    print_json(with_plane(lambda plane: rows.list_collections(plane.database)))
    return 0


def _delete(args: argparse.Namespace) -> int:
    async def delete(plane: ControlPlane) -> bool:
        deleted = await rows.delete_collection(plane.database, args.name)
        await plane.bus.publish("catalog")
        return deleted

    if not with_plane(delete):
        raise CommandError(f"no collection named {args.name!r}")
    print(f"deleted collection {args.name!r}")
    return 0

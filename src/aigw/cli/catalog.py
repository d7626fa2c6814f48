"""`aigw collections`: load a catalog from a JSON Lines file, list collections, delete one.

aigw collections load FILE.jsonl --collection NAME [--batch 1000]
    each line: {"id": "...", "text": "...", "metadata": {...}}; creates the collection if needed,
    upserts by id, and tells every running replica to reload it
aigw collections list
aigw collections delete NAME
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aigw.catalog.item import MAX_ID_LENGTH, MAX_TEXT_LENGTH, Item
from aigw.catalog.jsonl import JsonLinesError, read_json_lines
from aigw.cli.control import CommandError, print_json, with_plane
from aigw.control.service import ControlPlane
from aigw.store import catalog as rows


def add_commands(commands: Any) -> None:
    collections = commands.add_parser("collections", help="catalogs searched by the task entrypoints")
    collections.set_defaults(help_parser=collections)
    actions = collections.add_subparsers(metavar="ACTION")
    load = actions.add_parser("load", help="upsert items from a JSON Lines file")
    load.add_argument("file", type=Path)
    load.add_argument("--collection", required=True, help="collection name (created if it does not exist)")
    load.add_argument("--batch", type=int, default=1000, help="items per database transaction")
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
    return 0


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

"""Catalog API: collections and their items. Writing needs the master key; reading, any valid key.

PUT    /v1/collections/{name}                {"settings": {...}}          create or update
GET    /v1/collections                       list (with item counts)
GET    /v1/collections/{name}
DELETE /v1/collections/{name}
POST   /v1/collections/{name}/items          {"items": [{"id", "text", "metadata"}]}   upsert by id
POST   /v1/collections/{name}/items/delete   {"ids": [...]}
DELETE /v1/collections/{name}/items/{id}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from aigw.api.deps import GatewayDep, any_key, master_key
from aigw.api.gateway_route import GatewayRoute
from aigw.catalog.item import MAX_ID_LENGTH, MAX_TEXT_LENGTH, Item
from aigw.errors import InvalidRequestError, NotFoundError
from aigw.gateway import Gateway
from aigw.store import catalog as rows

MAX_ITEMS_PER_CALL = 10_000
CollectionName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


router = APIRouter(prefix="/v1/collections", tags=["collections"], route_class=GatewayRoute)


class CollectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(default_factory=dict)


class ItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ItemsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemBody] = Field(min_length=1, max_length=MAX_ITEMS_PER_CALL)


class IdsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=MAX_ITEMS_PER_CALL)


@router.put("/{name}", dependencies=[Depends(master_key)])
async def put_collection(name: CollectionName, body: CollectionBody, gateway: GatewayDep, response: Response) -> Any:
    created = await rows.put_collection(gateway.database, name, body.settings)
    await gateway.catalog_changed(name)
    response.status_code = 201 if created else 200
    return {"object": "collection", **await _found(gateway, name)}


@router.get("", dependencies=[Depends(any_key)])
async def list_collections(gateway: GatewayDep) -> dict[str, Any]:
    found = await rows.list_collections(gateway.database)
    return {"object": "list", "data": [{"object": "collection", **c} for c in found]}


@router.get("/{name}", dependencies=[Depends(any_key)])
async def get_collection(name: CollectionName, gateway: GatewayDep) -> dict[str, Any]:
    return {"object": "collection", **await _found(gateway, name)}


@router.delete("/{name}", dependencies=[Depends(master_key)])
async def delete_collection(name: CollectionName, gateway: GatewayDep) -> dict[str, Any]:
    if not await rows.delete_collection(gateway.database, name):
        raise _missing(name)
    await gateway.catalog_changed(name)
    return {"object": "collection.deleted", "name": name, "deleted": True}


@router.post("/{name}/items", dependencies=[Depends(master_key)])
async def upsert_items(name: CollectionName, body: ItemsBody, gateway: GatewayDep) -> dict[str, Any]:
    await _found(gateway, name)
    ids = [item.id for item in body.items]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError("items: each id may appear once per call", param="items", code="duplicate_id")
    items = [Item(i.id, i.text, i.metadata) for i in body.items]
    written = await rows.upsert_items(gateway.database, name, items)
    await gateway.catalog_changed(name)
    return {"object": "collection.items", "collection": name, "upserted": written}


@router.post("/{name}/items/delete", dependencies=[Depends(master_key)])
async def delete_items(name: CollectionName, body: IdsBody, gateway: GatewayDep) -> dict[str, Any]:
    await _found(gateway, name)
    deleted = await rows.delete_items(gateway.database, name, body.ids)
    await gateway.catalog_changed(name)
    return {"object": "collection.items", "collection": name, "deleted": deleted}


@router.delete("/{name}/items/{item_id}", dependencies=[Depends(master_key)])
async def delete_item(name: CollectionName, item_id: str, gateway: GatewayDep) -> dict[str, Any]:
    await _found(gateway, name)
    if not await rows.delete_items(gateway.database, name, [item_id]):
        raise NotFoundError(f"No item {item_id!r} in collection {name!r}", code="item_not_found")
    await gateway.catalog_changed(name)
    return {"object": "collection.items", "collection": name, "deleted": 1}


async def _found(gateway: Gateway, name: str) -> dict[str, Any]:
    found = await rows.get_collection(gateway.database, name)
    if found is None:
        raise _missing(name)
    return found


def _missing(name: str) -> NotFoundError:
    return NotFoundError(
        f"No collection named {name!r}; create it with PUT /v1/collections/{name}", code="collection_not_found"
    )

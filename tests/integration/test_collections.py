"""The catalog API over real HTTP on SQLite and PostgreSQL: collections and items created, updated,
listed and deleted; writing needs the master key; `aigw collections load` upserts a JSON Lines file
and a running gateway sees it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory
from tests.support.helpers import ADMIN
from tests.support.processes import AIGW

pytestmark = pytest.mark.integration


def items(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"id": f"sku-{i}", "text": f"Trail running shoe model {i}", "metadata": {"price": 50 + i, "brand": "acme"}}
        for i in range(start, start + count)
    ]


def test_collections_and_items_round_trip(gateway_factory: GatewayFactory, database_url: str) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY, "AI_DATABASE_URL": database_url})
    url = f"{gateway.url}/v1/collections"
    created = httpx.put(f"{url}/shop", json={"settings": {"field_weights": {"brand": 1.0}}}, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert httpx.put(f"{url}/shop", json={}, headers=ADMIN).status_code == 200  # updating is not creating
    batch = httpx.post(f"{url}/shop/items", json={"items": items(2500)}, headers=ADMIN, timeout=30)
    assert batch.status_code == 200 and batch.json()["upserted"] == 2500
    again = httpx.post(f"{url}/shop/items", json={"items": items(10, start=2495)}, headers=ADMIN)
    assert again.json()["upserted"] == 10  # 5 replaced, 5 new
    listed = httpx.get(url, headers=ADMIN).json()["data"]
    assert [(c["name"], c["items"]) for c in listed] == [("shop", 2505)]
    deleted = httpx.post(f"{url}/shop/items/delete", json={"ids": ["sku-1", "sku-2", "nope"]}, headers=ADMIN)
    assert deleted.json()["deleted"] == 2
    assert httpx.delete(f"{url}/shop/items/sku-3", headers=ADMIN).status_code == 200
    assert httpx.delete(f"{url}/shop/items/sku-3", headers=ADMIN).status_code == 404
    assert httpx.get(f"{url}/shop", headers=ADMIN).json()["items"] == 2502
    assert httpx.delete(f"{url}/shop", headers=ADMIN).status_code == 200
    missing = httpx.get(f"{url}/shop", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"


def test_bad_input_is_refused_in_the_openai_error_format(gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY})
    url = f"{gateway.url}/v1/collections"
    assert httpx.put(f"{url}/bad name!", json={}, headers=ADMIN).status_code in (400, 404, 422)
    httpx.put(f"{url}/c", json={}, headers=ADMIN)
    for body in (
        {"items": []},
        {"items": [{"id": "", "text": "x"}]},
        {"items": [{"id": "a", "text": "x", "price": 3}]},
        {"items": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]},
    ):
        refused = httpx.post(f"{url}/c/items", json=body, headers=ADMIN)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["error"]["type"] == "invalid_request_error"
    assert httpx.post(f"{url}/nope/items", json={"items": items(1)}, headers=ADMIN).status_code == 404


def test_writing_needs_the_master_key(gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory({"AI_MASTER_KEY": MASTER_KEY})
    key = httpx.post(f"{gateway.url}/admin/api/keys", json={"user": "app"}, headers=ADMIN).json()["key"]
    user = {"authorization": f"Bearer {key}"}
    url = f"{gateway.url}/v1/collections"
    assert httpx.put(f"{url}/c", json={}, headers=user).status_code == 403
    assert httpx.put(f"{url}/c", json={}, headers=ADMIN).status_code == 201
    assert httpx.get(f"{url}/c", headers=user).status_code == 200  # reading is for any key
    assert httpx.get(f"{url}/c").status_code == 401


def test_cli_load_reaches_a_running_gateway(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"AI_MASTER_KEY": MASTER_KEY, "AI_STATE_DIR": str(state)}
    gateway = gateway_factory(env)
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("\n".join(json.dumps(i) for i in items(1200)) + "\n\n", encoding="utf-8")
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("AI_")} | env
    run = subprocess.run(
        [str(AIGW), "collections", "load", str(catalog), "--collection", "demo", "--batch", "500"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "loaded 1200 items" in run.stdout
    found = httpx.get(f"{gateway.url}/v1/collections/demo", headers=ADMIN).json()
    assert found["items"] == 1200
    catalog.write_text('{"id": "x", "text": "ok"}\n{"id": 5}\n', encoding="utf-8")
    bad = subprocess.run(
        [str(AIGW), "collections", "load", str(catalog), "--collection", "demo"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "catalog.jsonl:2" in bad.stderr

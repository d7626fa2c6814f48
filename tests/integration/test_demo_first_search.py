"""A newcomer's first search is a good one: `make run`'s steps (migrate, load the demo catalog,
serve) leave the demo's local vectors ready when the gateway starts serving, so the README's
example is answered by local embeddings at once (not by fuzzy matches while vectors build), and
its top results are what it asks for."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from aigw.fallbacks import local_embeddings
from tests.conftest import GatewayFactory
from tests.support.processes import AIGW

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src" / "aigw" / "demo" / "catalog.jsonl"
# The README's example ("Demo catalog and evaluation"): the demo's only in-stock sofa under $1,000
# that is black, found through the synonym couch -> sofa, then other black seating.
EXAMPLE = {"collection": "demo", "query": "black couch", "k": 5, "filters": {"price": {"lte": 1000}, "in_stock": True}}
EXPECTED_FIRST = "demo-00572"  # Hollinwood Vela Sofa, Black, $891.50, in stock


def run_aigw(tmp_path: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "AI_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([str(AIGW), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_first_search_after_make_run_is_served_by_local_vectors(
    tmp_path: Path, gateway_factory: GatewayFactory
) -> None:
    assert local_embeddings.available(), "make install brings the local-embeddings extra"
    run_aigw(tmp_path, "migrate")
    loaded = run_aigw(tmp_path, "collections", "load", str(CATALOG), "--collection", "demo")
    assert "loaded 3000 items" in loaded and "local embeddings: 3000 made" in loaded
    gateway = gateway_factory({})
    answer = httpx.post(f"{gateway.url}/v1/tasks/semantic_search", json=EXAMPLE, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["served_by"] == "local_embeddings", body.get("fallbacks")
    results = body["results"]
    assert results[0]["id"] == EXPECTED_FIRST
    items = {i["id"]: i for i in map(json.loads, CATALOG.read_text(encoding="utf-8").splitlines())}
    top = [items[r["id"]]["metadata"] for r in results[:3]]
    assert all(m["color"] == "black" and m["category"] == "furniture" for m in top), top
    assert all(m["in_stock"] and m["price"] <= 1000 for m in (items[r["id"]]["metadata"] for r in results))
    again = run_aigw(tmp_path, "collections", "load", str(CATALOG), "--collection", "demo")
    assert "local embeddings: 0 made" in again, "loading the same catalog again computes nothing"


def test_the_readme_shows_this_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bodies = re.findall(r"semantic_search \\\n.*?-d '(\{.*?\})'", readme, flags=re.DOTALL)
    assert EXAMPLE in [json.loads(body) for body in bodies], "README's first search is not the tested one"

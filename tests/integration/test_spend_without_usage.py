"""Calls whose provider reports no usage still reach the spend ledger when no budget applies: an
answer without usage and a stream cut before its usage chunk are priced from an estimate (the
prompt's bound and the bytes the answer wrote) and their spend row says `estimated`. Real HTTP
through a gateway process to the scripted upstream; the ledger is the gateway's SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.helpers import wait_until
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
PROMPT = "Name three rivers of Europe."
FLUSH_BOUND_S = 10.0


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def gateway_url(scripted: ScriptedUpstream, gateway_factory: GatewayFactory) -> str:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": scripted.url,
        "AI_OPENAI_MAX_RETRIES": "0",
    }  # no budget, no per-request cap: nothing is held
    return gateway_factory(env).url


def spend_rows(tmp_path: Path) -> list[dict[str, Any]]:
    database = tmp_path / "state" / "aigw.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        try:
            rows = connection.execute("SELECT * FROM ai_spend ORDER BY id").fetchall()
        except sqlite3.OperationalError:
            return []
    return [dict(row) for row in rows]


def one_row(tmp_path: Path) -> dict[str, Any]:
    wait_until(lambda: spend_rows(tmp_path), FLUSH_BOUND_S)
    rows = spend_rows(tmp_path)
    assert len(rows) == 1, rows
    return rows[0]


def body(**extra: object) -> dict[str, object]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}], **extra}


def test_an_answer_without_usage_is_estimated_and_recorded(
    scripted: ScriptedUpstream, gateway_url: str, tmp_path: Path
) -> None:
    content = "Danube, Rhine and Loire."
    scripted.then(Answer(usage=False, content=content))
    answer = httpx.post(f"{gateway_url}/v1/chat/completions", json=body(), headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    cost = Decimal(answer.headers["x-aigw-cost-usd"])
    assert cost > 0, "a billable call is never free because its provider kept quiet"

    row = one_row(tmp_path)
    assert row["estimated"] == 1
    assert row["prompt_tokens"] >= len(PROMPT) and row["completion_tokens"] >= len(content)
    assert Decimal(str(row["cost_usd"])) == cost


def test_a_stream_cut_before_its_usage_is_estimated_and_recorded(
    scripted: ScriptedUpstream, gateway_url: str, tmp_path: Path
) -> None:
    scripted.then(Answer(stream_chunks=5, cut_after=3))  # chunks "w0 ", "w1 ", "w2 ", then the cut
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{gateway_url}/v1/chat/completions", json=body(stream=True), headers=AUTH) as stream,
    ):
        assert stream.status_code == 200
        relayed = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert len(relayed) >= 3

    row = one_row(tmp_path)
    assert row["estimated"] == 1
    assert row["completion_tokens"] == len("w0 w1 w2 "), "the bytes relayed bound the tokens written"
    assert row["prompt_tokens"] >= len(PROMPT)
    assert Decimal(str(row["cost_usd"])) > 0


def test_a_stream_with_usage_is_recorded_as_reported(
    scripted: ScriptedUpstream, gateway_url: str, tmp_path: Path
) -> None:
    scripted.then(Answer(stream_chunks=3, stream_usage=True))
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{gateway_url}/v1/chat/completions", json=body(stream=True), headers=AUTH) as stream,
    ):
        assert stream.status_code == 200
        list(stream.iter_lines())

    row = one_row(tmp_path)
    assert (row["estimated"], row["prompt_tokens"], row["completion_tokens"]) == (0, 3, 1)

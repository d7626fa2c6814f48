"""traces: persisted traces, and the dashboard's rollups per minute, provider and model

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

The tables of `aigw.store.traces.tables`. The rollups' latency histograms are one column per
bucket (25 buckets: `aigw.store.traces.histogram`), written out here by count so that this
migration never changes when the code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_HISTOGRAM_BUCKETS = 25
_STRINGS = {
    "endpoint": 32,
    "method": 16,
    "key_id": 32,
    "user": 256,
    "model": 256,
    "provider": 100,
    "deployment": 200,
    "served_by": 64,
    "cache": 16,
    "fallback_from": 100,
    "error_code": 100,
}


def _cell_key() -> list[sa.Column[object]]:
    return [
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ai_traces",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        *(sa.Column(name, sa.String(length=length), nullable=True) for name, length in _STRINGS.items()),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("added_latency_ms", sa.Float(), nullable=False),
        sa.Column("upstream_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("pii", _JSON, nullable=True),
        sa.Column("prompt_preview", sa.Text(), nullable=True),
        sa.Column("answer_preview", sa.Text(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("spans", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ai_traces", schema=None) as batch_op:
        batch_op.create_index("ix_ai_traces_request_id", ["request_id"], unique=False)
        batch_op.create_index("ix_ai_traces_started_id", ["started_at", "id"], unique=False)
        batch_op.create_index("ix_ai_traces_key_started", ["key_id", "started_at"], unique=False)
        batch_op.create_index("ix_ai_traces_user_started", ["user", "started_at"], unique=False)

    counters = [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in ("requests", "errors", "refusals", "fallbacks", "cache_hits", "prompt_tokens", "completion_tokens")
    ]
    histograms = [
        sa.Column(f"{kind}_h{index:02d}", sa.BigInteger(), nullable=False)
        for kind in ("added", "upstream")
        for index in range(_HISTOGRAM_BUCKETS)
    ]
    op.create_table(
        "ai_trace_rollups",
        *_cell_key(),
        *counters,
        sa.Column("cost_usd", sa.Float(), nullable=False),
        *histograms,
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("minute", "provider", "model", name="uq_ai_trace_rollups_cell"),
    )
    op.create_table(
        "ai_trace_refusals",
        *_cell_key(),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("minute", "provider", "model", "reason", name="uq_ai_trace_refusals_cell"),
    )


def downgrade() -> None:
    op.drop_table("ai_trace_refusals")
    op.drop_table("ai_trace_rollups")
    with op.batch_alter_table("ai_traces", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_traces_user_started")
        batch_op.drop_index("ix_ai_traces_key_started")
        batch_op.drop_index("ix_ai_traces_started_id")
        batch_op.drop_index("ix_ai_traces_request_id")
    op.drop_table("ai_traces")

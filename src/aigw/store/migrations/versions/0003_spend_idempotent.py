"""spend: a unique id per row (replays count once), an `estimated` mark, wider caller strings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

`spend_id` is nullable because rows written before it have none (NULLs never conflict in a unique
index, in SQLite as in PostgreSQL). `model` and `user` widen to the 256 characters the API accepts;
token counts widen to 64 bits (a provider's usage is not ours to bound).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ai_spend", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spend_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("estimated", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column("user", existing_type=sa.String(length=100), type_=sa.String(length=256))
        batch_op.alter_column("model", existing_type=sa.String(length=200), type_=sa.String(length=256))
        for column in ("prompt_tokens", "completion_tokens"):
            batch_op.alter_column(column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
        batch_op.create_unique_constraint("uq_ai_spend_spend_id", ["spend_id"])


def downgrade() -> None:
    with op.batch_alter_table("ai_spend", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ai_spend_spend_id", type_="unique")
        for column in ("prompt_tokens", "completion_tokens"):
            batch_op.alter_column(column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch_op.alter_column("model", existing_type=sa.String(length=256), type_=sa.String(length=200))
        batch_op.alter_column("user", existing_type=sa.String(length=256), type_=sa.String(length=100))
        batch_op.drop_column("estimated")
        batch_op.drop_column("spend_id")

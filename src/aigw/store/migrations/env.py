"""Alembic environment. Migrations run on a connection handed over by `aigw.store.migrate`."""

from __future__ import annotations

from alembic import context

from aigw.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `aigw migrate` (aigw.store.migrate), which provides the connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()

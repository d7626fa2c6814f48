"""Persistence: the database (SQLAlchemy, Alembic migrations) and shared state in Redis."""

"""Admin users and sessions in the database (SQLite and PostgreSQL): migration 0005, argon2 hashes,
constant-time unknown names, sessions stored as hashes, expiry, revocation seen by other workers."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import MetaData, select, text

from aigw.store.audit import recent_changes
from aigw.store.database import Database
from aigw.store.identity import AdminSession, AdminUser, IdentityStoreUnavailable
from aigw.store.migrate import downgrade, upgrade
from aigw.store.sessions import TOUCH_EVERY_S, Sessions, token_hash
from aigw.store.users import UserError, Users

pytestmark = pytest.mark.integration
MASTER = "m" * 40
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await upgrade(db)
    yield db
    await db.close()


async def test_the_migration_creates_exactly_the_identity_tables(database: Database) -> None:
    mine = MetaData()
    for table in (AdminUser.__table__, AdminSession.__table__):
        table.to_metadata(mine)  # type: ignore[attr-defined]

    def differences(connection: object) -> list[object]:
        def ours(name: str | None, kind: str, parent: object) -> bool:
            return kind != "table" or name in mine.tables

        options = {"compare_type": True, "include_name": ours}
        context = MigrationContext.configure(connection, opts=options)  # type: ignore[arg-type]
        return list(compare_metadata(context, mine))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    assert await downgrade(database, "0004") == "0004"
    assert await upgrade(database, "0005") == "0005"


async def test_users_are_created_listed_verified_and_audited(database: Database) -> None:
    users = Users(database)
    alice = await users.create("alice", "admin", PASSWORD, "cli:root")
    await users.create("bob.v", "viewer", PASSWORD + "!", "cli:root")
    assert [(u.name, u.role) for u in await users.list_all()] == [("alice", "admin"), ("bob.v", "viewer")]
    assert await users.verify("alice", PASSWORD) == alice
    assert await users.verify("alice", PASSWORD + "x") is None
    assert await users.verify("nobody", PASSWORD) is None
    assert await users.verify("alice", "x" * 5000) is None
    async with database.sessions() as session:
        stored = await session.scalar(select(AdminUser.password_hash).where(AdminUser.name == "alice"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    audit = await recent_changes(database)
    assert {(e["actor"], e["action"], e["target"]) for e in audit} >= {
        ("cli:root", "user.create", "user:alice"),
        ("cli:root", "user.create", "user:bob.v"),
    }
    assert PASSWORD not in str(audit) and stored not in str(audit)


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [
        ("alice", "owner", PASSWORD),
        ("a b", "admin", PASSWORD),
        ("x" * 65, "admin", PASSWORD),
        ("carol", "admin", "short"),
    ],
)
async def test_bad_users_are_refused(database: Database, name: str, role: str, password: str) -> None:
    with pytest.raises(UserError):
        await Users(database).create(name, role, password, "cli")
    assert await Users(database).list_all() == []


async def test_a_name_is_taken_once(database: Database) -> None:
    users = Users(database)
    await users.create("alice", "admin", PASSWORD, "cli")
    with pytest.raises(UserError, match="exists"):
        await users.create("alice", "viewer", PASSWORD, "cli")


async def test_an_unknown_name_costs_as_much_as_a_wrong_password(database: Database) -> None:
    users = Users(database)
    await users.create("alice", "admin", PASSWORD, "cli")
    await users.verify("nobody", PASSWORD)  # the dummy hash is made once, on first use

    async def timed(name: str) -> float:
        started = time.perf_counter()
        assert await users.verify(name, "wrong password!") is None
        return time.perf_counter() - started

    known = statistics.median([await timed("alice") for _ in range(5)])
    unknown = statistics.median([await timed("nobody") for _ in range(5)])
    assert unknown > 0.5 * known, (known, unknown)


async def test_a_weak_hash_is_upgraded_at_the_next_good_sign_in(database: Database) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    await Users(database, hasher=weak).create("alice", "admin", PASSWORD, "cli")
    assert await Users(database).verify("alice", PASSWORD) is not None
    async with database.sessions() as session:
        stored = await session.scalar(select(AdminUser.password_hash).where(AdminUser.name == "alice"))
    assert stored is not None and not PasswordHasher().check_needs_rehash(stored)


async def test_sessions_keep_the_hash_of_their_token_only(database: Database) -> None:
    sessions = Sessions(database, ttl=3600, idle=600)
    new = await sessions.open("alice", "admin", "password")
    found = await sessions.lookup(new.token)
    assert found is not None and (found.name, found.role, found.csrf_token) == ("alice", "admin", new.record.csrf_token)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM ai_admin_sessions"))).all()
    assert len(rows) == 1 and new.token not in str(rows) and token_hash(new.token) in str(rows)
    assert await sessions.lookup(new.token + "x") is None
    audit = await recent_changes(database)
    assert ("admin:alice", "admin.sign_in") in {(e["actor"], e["action"]) for e in audit}
    assert new.token not in str(audit)


async def test_sessions_end_at_their_expiry_and_when_idle(database: Database) -> None:
    clock = Clock()
    sessions = Sessions(database, ttl=3 * 3600, idle=1800, cache_seconds=0, clock=clock)
    new = await sessions.open("alice", "admin", "password")
    for _ in range(5):  # used every 25 minutes: the idle timeout never strikes
        clock.now += 1500
        assert await sessions.lookup(new.token) is not None
    clock.now += 3 * 3600 - 5 * 1500  # the absolute expiry
    assert await sessions.lookup(new.token) is None

    idle = await sessions.open("bob", "viewer", "password")
    clock.now += 1801
    assert await sessions.lookup(idle.token) is None


async def test_last_use_is_written_at_most_once_a_minute(database: Database) -> None:
    clock = Clock()
    sessions = Sessions(database, ttl=3600, idle=600, cache_seconds=0, clock=clock)
    new = await sessions.open("alice", "admin", "password")

    async def last_seen() -> float:
        async with database.sessions() as session:
            value = await session.scalar(select(AdminSession.last_seen_at))
            assert value is not None
            return value

    opened = await last_seen()
    clock.now += TOUCH_EVERY_S / 2
    await sessions.lookup(new.token)
    assert await last_seen() == opened
    clock.now += TOUCH_EVERY_S
    await sessions.lookup(new.token)
    assert await last_seen() == clock.now


async def test_a_session_ended_by_another_worker_dies_within_the_cache_time(database: Database) -> None:
    this_worker = Sessions(database, ttl=3600, idle=600, cache_seconds=0.3)
    other_worker = Sessions(database, ttl=3600, idle=600, cache_seconds=0.3)
    new = await this_worker.open("alice", "admin", "password")
    assert await this_worker.lookup(new.token) is not None
    await other_worker.close(new.token, "admin:alice")
    time.sleep(0.35)
    assert await this_worker.lookup(new.token) is None
    assert ("admin:alice", "admin.sign_out") in {(e["actor"], e["action"]) for e in await recent_changes(database)}


async def test_deleting_a_user_or_changing_its_password_ends_its_sessions(database: Database) -> None:
    users = Users(database)
    sessions = Sessions(database, ttl=3600, idle=600, cache_seconds=0)
    alice = await users.create("alice", "admin", PASSWORD, "cli")
    bob = await users.create("bob", "viewer", PASSWORD, "cli")
    alices = await sessions.open("alice", "admin", "password", alice.id)
    bobs = await sessions.open("bob", "viewer", "password", bob.id)
    assert await users.set_password("alice", PASSWORD + "2", "cli")
    assert await sessions.lookup(alices.token) is None
    assert await users.verify("alice", PASSWORD) is None and await users.verify("alice", PASSWORD + "2") is not None
    assert await users.delete("bob", "cli")
    assert await sessions.lookup(bobs.token) is None
    assert not await users.delete("bob", "cli") and not await users.set_password("bob", PASSWORD, "cli")


async def test_master_key_sessions_end_when_the_master_key_changes(database: Database) -> None:
    before = Sessions(database, ttl=3600, idle=600, master_key=MASTER, cache_seconds=0)
    new = await before.open("master", "admin", "master_key")
    assert await before.lookup(new.token) is not None
    after = Sessions(database, ttl=3600, idle=600, master_key="n" * 40, cache_seconds=0)
    assert await after.lookup(new.token) is None
    async with database.engine.connect() as connection:
        rows = str((await connection.execute(text("SELECT * FROM ai_admin_sessions"))).all())
    assert MASTER not in rows


async def test_a_database_that_is_away_neither_accepts_nor_refuses(tmp_path: object) -> None:
    database = Database("postgresql://postgres@127.0.0.1:1/nothing")
    sessions = Sessions(database, ttl=3600, idle=600)
    with pytest.raises(IdentityStoreUnavailable):
        await sessions.lookup("whatever")
    with pytest.raises(IdentityStoreUnavailable):
        await sessions.open("alice", "admin", "password")
    with pytest.raises(IdentityStoreUnavailable):
        await Users(database).verify("alice", PASSWORD)
    await database.close()

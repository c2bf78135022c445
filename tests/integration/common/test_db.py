"""``Database``'s pool and its one-statement path, on the real PostgreSQL: a pooled connection
whose backend died (what a PostgreSQL restart does to every idle one) is replaced before use,
a connection in steady use is not pinged, and ``one_statement`` runs exactly one statement in
autocommit, atomically."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import db as db_module
from libs.common.bulk import InsertTogether
from libs.common.db import Database, SecondStatement
from libs.common.errors import is_database_outage

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(owner_database_url: str) -> AsyncIterator[Database]:
    """One connection kept (two at most), as the schemas' owner (the tests make tables)."""
    database = Database(owner_database_url, pool_size=1, application_name="ctip-test-db")
    yield database
    await database.dispose()


async def backend_pid(database: Database) -> int:
    async with database.sessions() as session, session.begin():
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def terminate(db: AsyncEngine, pid: int) -> None:
    """What a restart does to a pooled connection: its backend goes, the socket is closed."""
    async with db.connect() as conn:
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await conn.commit()
    for _ in range(100):  # until the backend is gone (the terminate is asynchronous)
        async with db.connect() as conn:
            alive = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        if not alive:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"backend {pid} still alive")


async def pooled_driver(database: Database) -> asyncpg.Connection:
    """The asyncpg connection the pool holds (pool_size=1: the one every session gets)."""
    async with database.sessions() as session:
        raw = await (await session.connection()).get_raw_connection()
        return raw.driver_connection


async def closed_seen(driver: asyncpg.Connection) -> None:
    """Until the client's loop has read the closed socket: the backend leaves pg_stat_activity
    before its process exits and closes the socket, later still on a busy machine."""
    for _ in range(500):
        if driver.is_closed():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the client never saw its backend's socket close")


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The backend pid of every connection pinged (the real ping, counted). Any pool of the
    test process counts here, the workers of apps other tests started included (the event loop
    is the session's): a test counts the pings of its own connections (:func:`of`)."""
    sent: list[int] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        driver: asyncpg.Connection = self._connection
        sent.append(driver.get_server_pid())
        ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return sent


def of(pings: list[int], *pids: int) -> list[int]:
    """The pings sent on the connections whose backends are ``pids``."""
    return [pid for pid in pings if pid in pids]


async def test_a_pooled_connection_whose_backend_died_is_replaced_before_use(
    database: Database, db: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # However slow the machine, no idle spell here is long enough for a ping: the closed socket
    # alone must tell the pool.
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    first = await backend_pid(database)
    driver = await pooled_driver(database)
    await terminate(db, first)
    await closed_seen(driver)
    second = await backend_pid(database)  # no error: the pool noticed, without a ping
    assert second != first
    driver = await pooled_driver(database)
    await terminate(db, second)
    await closed_seen(driver)
    async with database.one_statement() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SELECT 1", [])
    third = await backend_pid(database)
    assert third not in (first, second)
    assert of(pings, first, second, third) == []


async def test_after_an_idle_spell_a_dead_connection_fails_its_ping_and_is_replaced(
    database: Database, db: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer gone without the close being seen yet (a host lost, not a clean restart): only
    the ping after an idle spell finds out."""
    first = await backend_pid(database)
    await terminate(db, first)
    monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda self: False)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = await backend_pid(database)
    assert second != first
    assert of(pings, first, second) == [first]


async def test_without_the_idle_ping_that_dead_connection_fails_the_request_as_an_outage(
    database: Database, db: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same stale connection used within the idle threshold: the statement fails, as an
    outage (a 503, never a 500), and the pool drops the connection for the next request.

    The client reads its backend's farewell (the FATAL, then the end of the stream) before the
    pool is blinded to it, so that the statement always fails the same way. Caught halfway
    through that read, asyncpg fails the next statement with an ``InternalClientError``
    (``cannot switch to state 15``): a real pool can hand that connection out too, between the
    two reads, and that error is an outage as well (tests/unit/common/test_errors.py)."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = await backend_pid(database)
    driver = await pooled_driver(database)
    await terminate(db, first)
    await closed_seen(driver)
    monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda self: False)
    with pytest.raises(Exception) as failed:
        await backend_pid(database)
    assert is_database_outage(failed.value)
    monkeypatch.undo()
    second = await backend_pid(database)
    assert second != first
    assert of(pings, first, second) == []


async def test_a_connection_in_steady_use_is_not_pinged(
    database: Database, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = {await backend_pid(database) for _ in range(20)}
    assert len(pids) == 1 and of(pings, *pids) == []
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    await backend_pid(database)
    assert of(pings, *pids) == [*pids]


async def test_the_pool_keeps_twice_its_size_when_they_come_back(database: Database) -> None:
    """pool_size=1: two connections at once, and both are kept for the next burst."""
    async with database.sessions() as a, database.sessions() as b:
        pid_a = await a.scalar(text("SELECT pg_backend_pid()"))
        pid_b = await b.scalar(text("SELECT pg_backend_pid()"))
    assert pid_a != pid_b
    assert database.engine.pool.checkedin() == 2  # type: ignore[attr-defined]


async def test_one_statement_runs_in_autocommit_and_refuses_a_second(
    database: Database, db: AsyncEngine, tables: tuple[Table, Table, Table]
) -> None:
    parent, _, _ = tables
    first, second = uuid.uuid4(), uuid.uuid4()
    sql = f"INSERT INTO {parent.fullname} (id, label, tags) VALUES ($1, 'a', '{{}}')"
    async with database.one_statement() as session:
        connection = await session.connection()
        await connection.exec_driver_sql(sql, [first])
        async with db.connect() as other:  # committed already: no transaction around it
            seen = await other.scalar(text(f"SELECT count(*) FROM {parent.fullname}"))
        assert seen == 1
        with pytest.raises(SecondStatement):
            await connection.exec_driver_sql(sql, [second])
        with pytest.raises(SecondStatement):
            await session.execute(text("SELECT 1"))
        with pytest.raises(SecondStatement):
            session.add(object())
    async with db.connect() as other:
        ids = (await other.execute(text(f"SELECT id FROM {parent.fullname}"))).scalars().all()
    assert ids == [first]


async def test_a_failing_one_statement_stores_nothing_and_leaves_the_connection_clean(
    database: Database, db: AsyncEngine, tables: tuple[Table, Table, Table]
) -> None:
    parent, child, _ = tables
    together = InsertTogether(
        [(parent, ("id", "label", "tags"), False), (child, ("id", "parent_id", "position"), True)]
    )
    parent_id = uuid.uuid4()
    rows: list[list[Any]] = [
        [{"id": parent_id, "label": "a", "tags": []}],
        [
            {"id": uuid.uuid4(), "parent_id": parent_id, "position": 0},
            {"id": uuid.uuid4(), "parent_id": uuid.uuid4(), "position": 1},  # no such parent
        ],
    ]
    before = await backend_pid(database)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with database.one_statement() as session:
            await together.execute(session, rows)
    async with db.connect() as other:
        counts = [
            await other.scalar(text(f"SELECT count(*) FROM {t.fullname}")) for t in (parent, child)
        ]
    assert counts == [0, 0]
    rows[1].pop()
    async with database.one_statement() as session:  # the same connection, not in a transaction
        await together.execute(session, rows)
    assert await backend_pid(database) == before
    async with db.connect() as other:
        assert await other.scalar(text(f"SELECT count(*) FROM {child.fullname}")) == 1


async def test_a_one_statement_cut_short_does_not_hand_its_connection_on(
    database: Database,
) -> None:
    """A request cancelled mid-statement (its driver still waiting for the answer): the next
    one_statement gets a working connection, not one in the middle of another operation."""
    before = await backend_pid(database)

    async def slow() -> None:
        async with database.one_statement() as session:
            connection = await session.connection()
            await connection.exec_driver_sql("SELECT pg_sleep(5)", [])

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.one_statement() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SELECT 1", [])
    assert await backend_pid(database) != before

"""Async SQLAlchemy engine and sessions, one PostgreSQL schema per service.

Following the unit-of-work habit: the request dependency opens the session and commits when the
handler returns; service code only ``flush()``es. The outbox row and the state change therefore
share one transaction.

A write that is one statement by construction (``InsertTogether``: every row of a filing,
outbox event included, in one data-modifying statement) can skip the session altogether:
:meth:`Database.one_statement` runs it on a pooled connection in autocommit, where one
statement is one transaction, so BEGIN and COMMIT are two round trips saved, not atomicity
given up. A second statement there raises :class:`SecondStatement` before it reaches the
database.

A pooled connection is checked before use only if it may have gone stale: at once if its socket
is closed (PostgreSQL restarted while it sat in the pool), and with a round trip only if it has
been idle longer than ``PING_AFTER_IDLE_SECONDS``. A connection in steady use is not pinged
(SQLAlchemy's ``pool_pre_ping`` costs BEGIN, ``;``, ROLLBACK on every checkout).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Not a rule: how long a pooled connection may sit unused before its first use pings it. Under
# load connections come back within milliseconds and are never pinged; after a quiet second the
# round trip is nothing next to the wait that preceded it.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "ctip_idle_since"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq URL for raw asyncpg connections (LISTEN/NOTIFY)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class SecondStatement(RuntimeError):
    """A second statement in :meth:`Database.one_statement`: in autocommit it would be a second
    transaction, and the first could not be taken back if it failed. Such a write belongs in a
    session."""


def _stale(dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection) -> None:
    """The pool's checkout hook: a closed socket, or a failed ping after an idle spell, makes the
    pool drop the connection and open another (``DisconnectionError``)."""
    idle_since = record.info.pop(_IDLE_SINCE, None)
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the connection was closed while it was idle in the pool")
    if idle_since is not None and time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS:
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("the connection failed its ping after being idle") from exc


def _returned(_: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


class OneStatement:
    """What ``InsertTogether.execute`` needs of a session (``connection().exec_driver_sql``),
    for exactly one statement on a pooled connection in autocommit."""

    def __init__(self, connection: PoolProxiedConnection) -> None:
        self._driver: asyncpg.Connection = connection.driver_connection
        self._used = False
        # The statement was sent and its answer not read (cancelled, timed out, connection
        # lost): the driver may be mid-protocol, and the connection must not be reused.
        self.interrupted = False

    async def connection(self) -> OneStatement:
        return self

    async def exec_driver_sql(self, sql: str, parameters: Sequence[Any]) -> None:
        if self._used:
            raise SecondStatement("one_statement runs one statement; use a session for more")
        self._used = True
        self.interrupted = True
        try:
            # The driver's own connection: SQLAlchemy's adapter would open a transaction first.
            await self._driver.execute(sql, *parameters)
        except asyncpg.PostgresError:
            self.interrupted = False  # PostgreSQL answered: the connection is ready again
            raise
        self.interrupted = False

    def __getattr__(self, name: str) -> Any:
        # Anything else a session offers (execute, add, flush, ...) is a statement more.
        raise SecondStatement(f"one_statement offers no {name}(); use a session")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, application_name: str = "ctip") -> None:
        self.url = url
        # Up to twice ``pool_size`` connections, all kept when returned: an overflow connection
        # would be closed on return and opened again (a new backend) at the next burst.
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=2 * pool_size,
            max_overflow=0,
            connect_args={"server_settings": {"application_name": application_name}},
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _stale)
        event.listen(self.engine.sync_engine.pool, "checkin", _returned)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """A stand-in for a session that runs one statement, in autocommit: no BEGIN, no COMMIT.
        Only for a write that is one statement by construction; a second raises
        :class:`SecondStatement`. Typed as a session for the use cases that take one."""
        connection = await self.engine.raw_connection()
        statement = OneStatement(connection)
        try:
            yield cast(AsyncSession, statement)
        except BaseException as exc:
            # As SQLAlchemy does for a session: a connection lost, or a statement cut short (a
            # cancelled request), is closed rather than handed to the next request.
            closed = cast(asyncpg.Connection, connection.driver_connection).is_closed()
            if closed or statement.interrupted:
                connection.invalidate(exc if isinstance(exc, Exception) else None)
            raise
        finally:
            connection.close()

    async def dispose(self) -> None:
        await self.engine.dispose()


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed if the handler returns, rolled back if it raises."""
    db: Database = request.app.state.db
    async with db.sessions() as session, session.begin():
        yield session


# scope="function": the commit runs before the response is sent, so a failed commit is a 500
# and never a 201 for something that was not stored.
DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]


async def save(session: AsyncSession, *rows: object) -> None:
    """New rows, or the changes to rows already loaded, written in this transaction (every
    service's ``repository.save``)."""
    session.add_all(rows)
    await session.flush()

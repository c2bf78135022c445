"""Async SQLAlchemy engine and sessions, one PostgreSQL schema per service.

Following the unit-of-work habit: the request dependency opens the session and commits when the
handler returns; service code only ``flush()``es. The outbox row and the state change therefore
share one transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, application_name: str = "ctip") -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"server_settings": {"application_name": application_name}},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

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

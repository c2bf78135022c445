"""Fixtures of the shared machinery's tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import (
    ARRAY,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.crypto import EncryptedText
from libs.common.db import Database


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The services' connection (the runtime role), as the relay and consumers open it."""
    db = Database(database_url, pool_size=4)
    yield db
    await db.dispose()


@pytest.fixture
async def tables(db: AsyncEngine) -> AsyncIterator[tuple[Table, Table, Table]]:
    """A parent, its children (one field encrypted) and a trail, in a schema of the test's own."""
    schema = f"it_together_{uuid.uuid4().hex[:8]}"
    metadata = MetaData(schema=schema)
    parent = Table(
        "parent",
        metadata,
        Column("id", PG_UUID(as_uuid=True), primary_key=True),
        Column("label", String(5), nullable=False),
        Column("tags", ARRAY(String(10)), nullable=False),
    )
    child = Table(
        "child",
        metadata,
        Column("id", PG_UUID(as_uuid=True), primary_key=True),
        Column("parent_id", PG_UUID(as_uuid=True), ForeignKey(parent.c.id), nullable=False),
        Column("position", Integer, nullable=False),
        Column("secret", EncryptedText(f"{schema}.child.secret")),
    )
    trail = Table(
        "trail",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("note", String(20), nullable=False),
    )
    async with db.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(metadata.create_all)
    yield parent, child, trail
    async with db.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))

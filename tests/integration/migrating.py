"""Data migrations tested on rows written the old way: a private database brought to just before
a revision, the rows inserted as the code before it wrote them, then upgraded to head."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.migrations import alembic_config, migrate, upgrade
from tests.integration.conftest import TEST_DB_URL, _admin, _runtime_url, drop_database


@contextmanager
def private_database(*services: str, before: str | None = None) -> Iterator[str]:
    """A database of the caller's own, with ``services`` migrated to head as the owner and the
    runtime role granted, dropped afterwards; yields the owner's URL. With ``before`` (one
    service only), the schema stops just before that revision, for rows written the old way
    (:func:`upgrade_to_head` then). A worker scanning it with a clock of its own touches nobody
    else's records."""
    name = f"ctip_test_{uuid.uuid4().hex[:12]}"
    url = TEST_DB_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(TEST_DB_URL, f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        for service in services:
            if before is None:
                migrate(service, url, _runtime_url(url))
                continue
            script = ScriptDirectory.from_config(alembic_config(service, url))
            previous = script.get_revision(before)
            assert previous is not None and isinstance(previous.down_revision, str)
            upgrade(service, url, previous.down_revision)
        yield url
    finally:
        asyncio.run(drop_database(name))


def upgrade_to_head(service: str, url: str) -> None:
    """The rest of the history, as ``ctip migrate`` runs it (the runtime role granted)."""
    migrate(service, url, _runtime_url(url))


def runtime_url(owner_url: str) -> str:
    """The services' URL on a private database: the runtime role."""
    return _runtime_url(owner_url)


async def insert_rows(url: str, service: str, table: str, rows: list[dict[str, Any]]) -> None:
    """``rows`` written into ``service.table`` with plain SQL, as older code wrote them."""
    await _run(url, _insert(service, table, rows[0]), rows)


def rows_after_migration(
    service: str,
    revision: str,
    table: str,
    rows: list[dict[str, Any]],
    *,
    before: Sequence[tuple[str, list[dict[str, Any]]]] = (),
    read: str | None = None,
) -> list[dict[str, Any]]:
    """``rows`` inserted into ``service.table`` just before ``revision`` (after the rows of
    ``before``, e.g. the parents they refer to), read back as JSON objects after upgrading to
    head; or the rows of table ``read``, e.g. those the revision made from them."""
    name = f"ctip_test_{uuid.uuid4().hex[:12]}"
    url = TEST_DB_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(TEST_DB_URL, f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        previous = ScriptDirectory.from_config(alembic_config(service, url)).get_revision(revision)
        assert previous is not None and isinstance(previous.down_revision, str)
        upgrade(service, url, previous.down_revision)
        for parent, parent_rows in [*before, (table, rows)]:
            asyncio.run(_run(url, _insert(service, parent, parent_rows[0]), parent_rows))
        upgrade(service, url)
        source = f"{service}.{read or table}"
        return asyncio.run(_run(url, f"SELECT to_jsonb(t) FROM {source} t", []))
    finally:
        asyncio.run(drop_database(name))


def _insert(service: str, table: str, row: dict[str, Any]) -> str:
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    return f"INSERT INTO {service}.{table} ({columns}) VALUES ({values})"


async def _run(url: str, sql: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if rows:
                await conn.execute(text(sql), rows)
                return []
            return [r[0] for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()

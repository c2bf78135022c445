"""Data migrations tested on rows written the old way: a private database brought to just before
a revision, the rows inserted as the code before it wrote them, then upgraded to head."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.migrations import alembic_config, upgrade
from tests.integration.conftest import TEST_DB_URL, _admin


def rows_after_migration(
    service: str,
    revision: str,
    table: str,
    rows: list[dict[str, Any]],
    *,
    before: Sequence[tuple[str, list[dict[str, Any]]]] = (),
) -> list[dict[str, Any]]:
    """``rows`` inserted into ``service.table`` just before ``revision`` (after the rows of
    ``before``, e.g. the parents they refer to), read back as JSON objects after upgrading to
    head."""
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
        return asyncio.run(_run(url, f"SELECT to_jsonb(t) FROM {service}.{table} t", []))
    finally:
        asyncio.run(_admin(TEST_DB_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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

"""The relay's lag report on the real PostgreSQL: right figures, from a walk bounded by the cap
and not by the backlog (``libs.common.outbox_lag``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.outbox import outbox_table
from libs.common.outbox_lag import lag_query, outbox_lag

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
async def table(db: AsyncEngine) -> AsyncIterator[Table]:
    """An outbox of the test's own (the migrated shape: the relay's partial index and all), so
    that no other test's rows are counted."""
    schema = f"lag_{uuid.uuid4().hex[:8]}"
    metadata = MetaData(schema=schema)
    outbox = outbox_table(metadata)
    async with db.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(metadata.create_all)
    yield outbox
    async with db.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


async def add_rows(db: AsyncEngine, table: Table, published: int, pending: int) -> None:
    """``published`` rows then ``pending`` ones, a second apart from T0, in one statement."""
    rows = [
        {
            "id": uuid.uuid4(),
            "topic": "intake.tip.v1",
            "key": "k",
            "type": "vn.ctip.intake.tip.received.v1",
            "event": {"id": "x"},
            "created_at": T0 + timedelta(seconds=n),
            "published_at": T0 + timedelta(seconds=n + 1) if n < published else None,
        }
        for n in range(published + pending)
    ]
    async with db.begin() as conn:
        for first in range(0, len(rows), 5000):
            await conn.execute(table.insert(), rows[first : first + 5000])
        await conn.execute(text(f"ANALYZE {table.schema}.outbox"))


async def lag_of(db: AsyncEngine, table: Table, **kwargs: Any) -> Any:
    async with AsyncSession(db) as session:
        return await outbox_lag(session, table, **kwargs)


async def test_an_empty_outbox_reports_no_lag(db: AsyncEngine, table: Table) -> None:
    await add_rows(db, table, published=3, pending=0)
    lag = await lag_of(db, table)
    assert (lag.head_created_at, lag.counted, lag.seq_span, lag.pending) == (None, 0, 0, 0)
    assert lag.age_seconds() == 0.0


async def test_the_head_is_the_first_unpublished_row_and_the_count_is_exact_below_the_cap(
    db: AsyncEngine, table: Table
) -> None:
    await add_rows(db, table, published=5, pending=7)
    lag = await lag_of(db, table)
    assert lag.head_created_at == T0 + timedelta(seconds=5)
    assert (lag.counted, lag.seq_span, lag.capped, lag.pending) == (7, 7, False, 7)
    assert lag.age_seconds(T0 + timedelta(seconds=65)) == 60.0


async def test_at_the_cap_the_count_stops_and_the_seq_span_is_reported(
    db: AsyncEngine, table: Table
) -> None:
    await add_rows(db, table, published=2, pending=40)
    lag = await lag_of(db, table, cap=10)
    assert (lag.counted, lag.capped, lag.seq_span, lag.pending) == (10, True, 40, 40)
    assert lag.head_created_at == T0 + timedelta(seconds=2)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def test_the_report_walks_the_index_no_further_than_the_cap_whatever_the_backlog(
    db: AsyncEngine, table: Table
) -> None:
    """20,000 published rows and 5,000 waiting: no sequential scan, and no scan of the outbox
    returns more rows than the cap (the count's) however long the backlog."""
    await add_rows(db, table, published=20_000, pending=5_000)
    sql = str(
        lag_query(table, cap=100).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    async with db.connect() as conn:
        (raw,) = (await conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))).one()
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
    scans = [n for n in plan_nodes(plan) if n.get("Relation Name") == "outbox"]
    assert {n["Node Type"] for n in scans} <= {"Index Scan", "Index Only Scan"}
    assert {n["Index Name"] for n in scans} <= {"ix_outbox_unpublished", "outbox_pkey"}
    assert max(n["Actual Rows"] for n in scans) <= 100

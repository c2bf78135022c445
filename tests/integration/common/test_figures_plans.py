"""``plan_for_these_values``: a figure's prepared statement planned for its values every time,
on the real PostgreSQL, through SQLAlchemy and asyncpg as the services send it.

PostgreSQL counts, per prepared statement of a connection, how many times it ran on a custom
plan and on the generic one (``pg_prepared_statements``). asyncpg prepares every statement, so
after five executions the server is free to keep the generic plan; within a transaction that
called the helper, it must not."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.figures import plan_for_these_values

pytestmark = pytest.mark.integration

RUNS = 12


async def _run_and_count(session: AsyncSession, *, helped: bool) -> tuple[int, int]:
    """Run one parameterised statement ``RUNS`` times in a transaction; its (custom, generic)
    plan counts as PostgreSQL kept them."""
    marker = f"figure_{uuid.uuid4().hex[:8]}"  # a statement of its own, counted alone
    statement = text(f"SELECT count(*) AS {marker} FROM pg_class WHERE relpages >= :pages")
    async with session.begin():
        if helped:
            await plan_for_these_values(session)
        for pages in range(RUNS):
            await session.execute(statement, {"pages": pages})
        row = (
            await session.execute(
                text(
                    "SELECT custom_plans, generic_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE :like"
                ),
                {"like": f"%{marker}%"},
            )
        ).one()
    return int(row.custom_plans), int(row.generic_plans)


async def test_a_figure_is_planned_for_its_values_every_time(db: AsyncEngine) -> None:
    sessions = async_sessionmaker(db)
    async with sessions() as session:
        custom, generic = await _run_and_count(session, helped=True)
    assert (custom, generic) == (RUNS, 0)


async def test_without_it_the_server_settles_on_the_generic_plan(db: AsyncEngine) -> None:
    """The control: what the helper prevents does happen on this server, with these drivers."""
    sessions = async_sessionmaker(db)
    async with sessions() as session:
        custom, generic = await _run_and_count(session, helped=False)
    assert generic > 0
    assert custom + generic == RUNS


async def test_the_setting_ends_with_the_transaction(db: AsyncEngine) -> None:
    """``SET LOCAL``: the pooled connection goes back planning as the server is configured."""
    sessions = async_sessionmaker(db)
    async with sessions() as session:
        async with session.begin():
            default = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
        async with session.begin():
            await plan_for_these_values(session)
            inside = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
        async with session.begin():
            after = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
    assert inside == "force_custom_plan"
    assert after == default != inside

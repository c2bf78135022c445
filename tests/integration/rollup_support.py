"""What the rollup tests of intake and casework share: the periods they read, the callers' reads
of ``GET /v1/kpis`` with the rollups and from an app that counts the rows again, and the fold."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.rollups import Rollup

Period = tuple[date | None, date | None]


async def fold(db: AsyncEngine, rollups: Iterable[Rollup]) -> None:
    """What the service's worker does every so often: the pending rows folded."""
    async with db.begin() as conn:
        for rollup in rollups:
            await rollup.compact(conn)


def periods(today: date, rng: random.Random) -> list[Period]:
    """Whole months, edges inside months, a day, open ends, and a few at random."""
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    fixed: list[Period] = [
        (None, None),
        (last_month, first - timedelta(days=1)),  # a whole month
        (last_month - timedelta(days=40), today),  # months and edge days
        (last_month - timedelta(days=40), today + timedelta(days=40)),  # ends in the future
        (today - timedelta(days=100), today - timedelta(days=3)),
        (last_month + timedelta(days=2), last_month + timedelta(days=2)),  # one day
        (last_month + timedelta(days=3), last_month + timedelta(days=3)),
        (None, last_month + timedelta(days=9)),
        (last_month - timedelta(days=1), None),
    ]
    drawn = []
    for _ in range(4):
        a, b = sorted(today - timedelta(days=rng.randint(-40, 130)) for _ in range(2))
        drawn.append((a, b))
    return fixed + drawn


def params(period: Period) -> dict[str, str]:
    first, last = period
    values = {}
    if first is not None:
        values["from"] = first.isoformat()
    if last is not None:
        values["to"] = last.isoformat()
    return values


async def figures(client: httpx.AsyncClient, headers: dict[str, str], **query: str) -> Any:
    response = await client.get("/v1/kpis", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def assert_equal_to_a_recount(
    ours: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    callers: Mapping[str, dict[str, str]],
    periods: list[Period],
    db: AsyncEngine,
    rollups: Iterable[Rollup],
) -> None:
    """Every caller's figures for every period, from the rollups and from a recount, equal
    before the fold and after it."""
    for folded in (False, True):
        for name in callers:
            for period in periods:
                mine = await figures(ours, callers[name], **params(period))
                theirs = await figures(recount, callers[name], **params(period))
                assert mine == theirs, (name, period, folded)
        await fold(db, rollups)

"""Outreach's figures over whole provinces, summed from the daily rollups (and mass media's
largest audience from its index), equal a recount of the activities: activities recorded through
the API over four months in two provinces, some then moved to another day, ward or kind, their
audience changed, one deleted; read through ``GET /v1/kpis`` with the rollups and from an app
that reads the activities again, for periods whose edges fall inside months and on their first
days, callers of one or two provinces, the whole country and a ward; before and after the
fold."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vietnam_provinces import Province

from libs.common.jurisdiction import wards_of
from libs.common.settings import ServiceSettings
from services.outreach.app import create_app
from services.outreach.domain import ActivityKind
from services.outreach.models import ROLLUPS
from services.outreach.settings import OutreachSettings
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.support import bearer, running

pytestmark = pytest.mark.integration

SETTINGS = ServiceSettings()
PROVINCE_CODES = sorted(f"{int(p.code):02d}" for p in Province.iter_all())
# Đà Nẵng and Cần Thơ: the outreach API's other tests count Hà Nội's activities
PROVINCES = ("48", "92")
WARDS = {province: wards_of(province)[7:10] for province in PROVINCES}
GROUPS = (
    [],
    ["students"],
    ["students", "young_women_migrating"],
    ["young_women_migrating"],
)


@pytest.fixture
async def outreach(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings_for(OutreachSettings))) as client:
        yield client


@pytest.fixture
async def recount(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Outreach reading its figures from the activities on every request, as before rollups."""
    settings = settings_for(OutreachSettings, kpi_rollups=False)
    async with running(create_app(settings)) as client:
        yield client


async def random_activities(
    client: httpx.AsyncClient, db: AsyncEngine, rng: random.Random
) -> list[str]:
    """The ids of the activities recorded; some moved or changed afterwards, one deleted."""
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    # the days just after the periods' ends (rollup_support.periods), where a bound is off by one
    edges = [first, last_month, last_month + timedelta(days=3), last_month + timedelta(days=4)]
    ids = []
    for n in range(28):
        held_on = rng.choice(edges) if n % 3 == 0 else today - timedelta(days=rng.randint(0, 120))
        province = rng.choice(PROVINCES)
        made = await client.post(
            "/v1/activities",
            headers=bearer(SETTINGS, "social_worker", province),
            json={
                "ward_code": rng.choice(WARDS[province]),
                "kind": rng.choice(list(ActivityKind)).value,
                "held_on": held_on.isoformat(),
                "people_reached": rng.choice([0, 1, rng.randint(2, 5000)]),
                "materials_distributed": rng.randint(0, 300),
                "target_groups": rng.choice(GROUPS),
            },
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
        if n % 7 == 3:  # the last ones stay pending
            await fold(db, ROLLUPS)
    async with db.begin() as conn:
        for moved in rng.sample(ids, 8):
            province = rng.choice(PROVINCES)
            await conn.execute(
                text(
                    "UPDATE outreach.activities SET held_on = held_on - CAST(:days AS integer),"
                    " ward_code = :ward,"
                    " province_code = :province, kind = :kind, people_reached = :people"
                    " WHERE id = :id"
                ),
                {
                    "days": rng.randint(0, 40),
                    "ward": rng.choice(WARDS[province]),
                    "province": province,
                    "kind": rng.choice(list(ActivityKind)).value,
                    "people": rng.randint(0, 9000),
                    "id": moved,
                },
            )
        gone = ids.pop(rng.randrange(len(ids)))
        await conn.execute(text("DELETE FROM outreach.activities WHERE id = :id"), {"id": gone})
    return ids


@pytest.mark.parametrize("seed", [11, 2026])
async def test_rolled_up_figures_equal_a_recount(
    outreach: httpx.AsyncClient, recount: httpx.AsyncClient, db: AsyncEngine, seed: int
) -> None:
    rng = random.Random(seed)
    ids = await random_activities(outreach, db, rng)
    try:
        callers = {
            "country": bearer(SETTINGS, "supervisor", *PROVINCE_CODES),
            "da-nang": bearer(SETTINGS, "supervisor", "48"),
            "can-tho": bearer(SETTINGS, "supervisor", "92"),
            "two-provinces": bearer(SETTINGS, "supervisor", *PROVINCES),
            "a-ward": bearer(SETTINGS, "supervisor", WARDS["48"][0]),
        }
        async with db.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM outreach.reach_rollup WHERE NOT folded")
            )
        asked = periods(datetime.now(UTC).date(), rng)
        await assert_equal_to_a_recount(outreach, recount, callers, asked, db, ROLLUPS)
        assert pending, "the activities were counted from the pending rows before the fold"
    finally:
        # the other tests of the provinces see none of ours: deleted through the triggers
        async with db.begin() as conn:
            await conn.execute(
                text("DELETE FROM outreach.activities WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": ids},
            )
    async with db.begin() as conn:
        for rollup in ROLLUPS:
            assert await rollup.check(conn) == [], rollup.name

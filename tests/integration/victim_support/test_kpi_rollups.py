"""Victim_support's figures over provinces, summed from the daily rollups, equal a recount of the
victims: random people received through the API, identified (in time or late), protected and
supported or not, with needs and exploitation types, and received over months (backdated), read
through ``GET /v1/kpis`` with the rollups and from an app that counts the rows again, for periods
whose edges fall inside months and on their first days, callers of one or two provinces and the
whole country; before and after the fold, and ``check`` finds nothing to mend."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vietnam_provinces import Province

from services.victim_support.app import create_app
from services.victim_support.models import ROLLUPS
from services.victim_support.settings import VictimSupportSettings
from testkit import victim_support as bodies
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.integration.victim_support.support import backdate, receive, supervisor, worker
from tests.support import SHARED_HANOI_WARD, fresh_ward, running

pytestmark = pytest.mark.integration

PROVINCE_CODES = sorted(f"{int(p.code):02d}" for p in Province.iter_all())
TYPES = ["sexual_exploitation", "forced_labour", "forced_marriage", "organ_removal", "other"]
SOURCES = ["rescued", "self_report", "repatriated", "border_handover"]
WORKER = worker("01", "79")  # a social worker of both provinces the people are received in


async def step(client: httpx.AsyncClient, victim: str, path: str, body: dict[str, Any]) -> None:
    response = await client.post(f"/v1/victims/{victim}/{path}", headers=WORKER, json=body)
    assert response.status_code in (200, 201), response.text


@pytest.fixture
async def recount(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Victim_support counting its figures over the rows on every request, as before rollups."""
    settings = settings_for(
        VictimSupportSettings, kpi_rollups=False, run_relay=False, run_consumers=False
    )
    async with running(create_app(settings)) as client:
        yield client


def seed_of(rng: random.Random) -> str:
    return f"{rng.getrandbits(24):06x}"


async def random_people(client: httpx.AsyncClient, db: AsyncEngine, rng: random.Random) -> None:
    # Rollups equal a recount whatever else a ward holds: a shared Hanoi ward and two fresh ones
    # of Saigon (Hanoi's fresh wards are the scarcest in a whole test session).
    wards = {"01": [SHARED_HANOI_WARD], "79": [fresh_ward("79"), fresh_ward("79")]}
    for n in range(24):
        province = rng.choice(["01", "01", "79"])
        needs = rng.sample(["medical", "schooling", "vocational_training"], rng.randint(0, 2))
        person = await receive(
            client,
            rng.choice(wards[province]),
            headers=WORKER,
            source=rng.choice(SOURCES),
            needs=needs,
        )
        victim = person["id"]
        path = rng.choice(["presumed", "not_a_victim", "identified", "protected", "supported"])
        if path != "presumed" and rng.random() < 0.4:
            await backdate(db, victim, days=rng.choice([2, 5]))  # decided in time, or late
        if path != "presumed":
            outcome = "not_a_victim" if path == "not_a_victim" else "identified"
            decision = bodies.identification(f"QĐ-{n}-{seed_of(rng)}", outcome=outcome)
            await step(client, victim, "identification", decision)
        if path in ("protected", "supported"):
            await step(client, victim, "protection", {"measures": ["safe_shelter"]})
        if path == "supported" and needs:
            given = {
                "type": needs[0],
                "amount_vnd": 100_000,
                "provided_on": datetime.now(UTC).date().isoformat(),
                "provider_org": "so-lao-dong-ha-noi",
            }
            await step(client, victim, "supports", given)
        await backdate(db, victim, days=rng.randint(0, 120) + rng.random())
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE victim_support.victims SET exploitation_types = :t WHERE id = :id"),
                {"t": rng.sample(TYPES, rng.randint(0, 2)), "id": victim},
            )
        if n % 8 == 3:
            await fold(db, ROLLUPS)
    # still presumed, the 3-day verification due within the hour and passed an hour ago
    for days in (2.9, 3.1):
        person = await receive(client, wards["79"][0], headers=WORKER)
        await backdate(db, person["id"], days=days)


@pytest.mark.parametrize("seed", [11, 2026])
async def test_rolled_up_figures_equal_a_recount(
    victim_support: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    db: AsyncEngine,
    seed: int,
) -> None:
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    await random_people(victim_support, db, rng)
    callers = {
        "country": supervisor(*PROVINCE_CODES),
        "hanoi": supervisor("01"),
        "two-provinces": supervisor("01", "79"),
        "hcmc": supervisor("79"),
    }
    async with db.connect() as conn:
        pending = await conn.scalar(
            text("SELECT count(*) FROM victim_support.victim_rollup WHERE NOT folded")
        )
    await assert_equal_to_a_recount(
        victim_support, recount, callers, periods(today, rng), db, ROLLUPS
    )
    assert pending, "the people were counted from the pending rows before the fold"
    async with db.connect() as conn:
        for rollup in ROLLUPS:
            assert await rollup.check(conn) == [], rollup.name

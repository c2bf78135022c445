"""The intake figures over provinces, summed from the daily rollups, equal a recount of the tips:
random tips filed, placed, classified, extended, verified and backdated over months, read through
``GET /v1/kpis`` with the rollups and from an app that counts the tips again, for periods whose
edges fall inside months and on their first days, callers of one or several provinces (the
triage province's officers count the unplaced tips) and the whole country; before and after the
worker folds the rollups. ``TIP_ROLLUP.check`` finds a rollup row set wrong, and a backfill
mends it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vietnam_provinces import Province

from services.intake.app import create_app
from services.intake.models import OPEN_TIP_ROLLUP, ROLLUPS, TIP_KIND_ROLLUP, TIP_ROLLUP
from services.intake.settings import IntakeSettings
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import classify, file_tip, set_clock, verify
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.support import SHARED_HANOI_WARD, fresh_ward, running

pytestmark = pytest.mark.integration

PROVINCE_CODES = sorted(f"{int(p.code):02d}" for p in Province.iter_all())
TYPES = ["sexual_exploitation", "forced_labour", "forced_marriage", "forced_begging", "other"]
COUNTRIES = [None, None, "CN", "MY", "KH"]


@pytest.fixture
async def recount(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Intake counting its figures over the tips on every request, as it did before rollups."""
    settings = settings_for(IntakeSettings, kpi_rollups=False, run_relay=False)
    async with running(create_app(settings)) as client:
        yield client


async def random_tips(
    intake: httpx.AsyncClient, auth: Auth, db: AsyncEngine, rng: random.Random, today: date
) -> list[str]:
    """Tips in fresh wards of two provinces and unplaced ones, received over the last ~120 days
    (UTC, any hour), each taken a random way along its life; the rollups folded now and then."""
    # Rollups equal a recount whatever else a ward holds: a shared Hanoi ward (Hanoi's fresh ones
    # are the scarcest in a whole test session) and two fresh ones of Saigon.
    wards = [SHARED_HANOI_WARD, fresh_ward("79"), fresh_ward("79")]
    officers = {"01": auth("intake_officer", "01"), "79": auth("intake_officer", "79")}
    ids: list[str] = []
    for n in range(36):
        ward = rng.choice([*wards, None])
        body: dict[str, Any] = {
            "incident_ward_code": ward,
            "exploitation_types": rng.sample(TYPES, rng.randint(0, 2)),
            "destination_country": rng.choice(COUNTRIES),
        }
        tip = await file_tip(intake, officers["01"], **body)  # officers are not rate-limited
        ids.append(tip["id"])
        received = datetime.combine(today, datetime.min.time(), tzinfo=UTC) - timedelta(
            days=rng.randint(0, 120), hours=rng.randint(-12, 12), minutes=rng.randint(0, 59)
        )
        days = rng.choice([20, 20, 60, 5])
        await set_clock(db, tip["id"], received_at=received, due_at=received + timedelta(days))
        officer = officers["01" if ward is None or ward == wards[0] else "79"]
        step = rng.random()
        if step < 0.8:
            place = {}
            if ward is None and rng.random() < 0.6:  # triage places it, maybe in the other province
                place = {"incident_ward_code": rng.choice(wards)}
            await classify(
                intake,
                officer,
                tip["id"],
                exploitation_types=rng.sample(TYPES, rng.randint(0, 3)),
                **place,
            )
            ward = place.get("incident_ward_code", ward)
            officer = officers["01" if ward is None or ward == wards[0] else "79"]
        if step < 0.3:
            response = await intake.post(
                f"/v1/tips/{tip['id']}/extension",
                json={"kind": "complex_case", "reason": "many suspects"},
                headers=officer,
            )
            assert response.status_code in (200, 409), response.text
        if step < 0.6:
            outcome = rng.choice(["substantiated", "unsubstantiated", "referred"])
            if ward is None:
                outcome = "unsubstantiated"
            response = await verify(intake, officer, tip["id"], outcome)
            assert response.status_code == 200, response.text
            if rng.random() < 0.5:  # resolved before or after its deadline
                resolved = received + timedelta(days=rng.choice([3, 30, 70]))
                async with db.begin() as conn:
                    await conn.execute(
                        text("UPDATE intake.tips SET resolved_at = :at WHERE id = :id"),
                        {"at": min(resolved, datetime.now(UTC)), "id": tip["id"]},
                    )
        if n % 9 == 4:
            await fold(db, ROLLUPS)
    # Open tips due about today's start and now: the overdue of now sums the days before today
    # from the rollup and reads today's from the tips.
    now = datetime.now(UTC)
    today_start = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    for due in (
        today_start - timedelta(minutes=1),
        today_start,
        today_start + timedelta(seconds=1),
        now - timedelta(hours=1),
        now - timedelta(minutes=2),
        now + timedelta(minutes=30),
        now + timedelta(days=3),
    ):
        ward = rng.choice([*wards, None])
        tip = await file_tip(intake, officers["01"], incident_ward_code=ward)
        ids.append(tip["id"])
        await set_clock(db, tip["id"], received_at=due - timedelta(days=20), due_at=due)
    return ids


@pytest.mark.parametrize("seed", [19, 2026])
async def test_rolled_up_figures_equal_a_recount(
    intake: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    seed: int,
) -> None:
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    await random_tips(intake, auth, db, rng, today)
    callers = {
        "country": auth("supervisor", *PROVINCE_CODES),
        "hanoi-supervisor": auth("supervisor", "01"),
        "hanoi-triage": auth("intake_officer", "01"),  # counts the unplaced tips
        "hcmc-officer": auth("intake_officer", "79"),
        "two-provinces": auth("supervisor", "01", "79"),
    }
    async with db.connect() as conn:
        pending = await conn.scalar(text("SELECT count(*) FROM intake.tip_rollup WHERE NOT folded"))
    await assert_equal_to_a_recount(intake, recount, callers, periods(today, rng), db, ROLLUPS)
    assert pending, "the tips were counted from the pending rows before the fold"
    async with db.connect() as conn:
        for rollup in (TIP_ROLLUP, TIP_KIND_ROLLUP, OPEN_TIP_ROLLUP):
            assert await rollup.check(conn) == []


async def test_the_check_finds_a_wrong_rollup_row_and_a_backfill_mends_it(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    ward = fresh_ward("79")  # Hanoi's fresh wards are the scarcest in a whole test session
    await file_tip(intake, incident_ward_code=ward, exploitation_types=["forced_labour"])
    await fold(db, ROLLUPS)
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE intake.tip_rollup SET received = received + 1, verified = 5"
                " WHERE ward_code = :ward AND grain = 'm'"
            ),
            {"ward": ward},
        )
        await conn.execute(text("DELETE FROM intake.tip_kind_rollup WHERE grain = 'd'"))
    async with db.connect() as conn:
        wrong = await TIP_ROLLUP.check(conn)
        missing = await TIP_KIND_ROLLUP.check(conn)
    assert {(r["grain"], r["side"], r["ward_code"]) for r in wrong} == {
        ("m", "recount", ward),
        ("m", "rollup", ward),
    }
    assert {r["side"] for r in missing} == {"recount"}
    assert {r["grain"] for r in missing} == {"d"}
    async with db.begin() as conn:
        for rollup in ROLLUPS:
            await rollup.backfill(conn)
    async with db.connect() as conn:
        assert await TIP_ROLLUP.check(conn) == []
        assert await TIP_KIND_ROLLUP.check(conn) == []

"""Casework's figures over provinces, summed from the daily rollups, equal a recount of the cases
and tips: random cases opened (some naming a substantiated tip), taken along their stages by the
API and backdated over months, read through ``GET /v1/kpis`` with the rollups and from an app
that counts the rows again, for periods whose edges fall inside months and on their first days,
callers of one or two provinces and the whole country; before and after the fold. A tip's copy
and its case changed at once by two transactions are both counted (the tip's advisory lock)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from vietnam_provinces import Province

from services.casework.app import create_app
from services.casework.models import ROLLUPS, TIP_REF_ROLLUP
from services.casework.settings import CaseworkSettings
from tests.integration.casework.support import Auth, Casework, known_tip
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.support import SHARED_HANOI_WARD, fresh_ward, running

pytestmark = pytest.mark.integration

PROVINCE_CODES = sorted(f"{int(p.code):02d}" for p in Province.iter_all())
TYPES = ["sexual_exploitation", "forced_labour", "forced_marriage", "other"]


@pytest.fixture
async def recount(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Casework counting its figures over the rows on every request, as before rollups."""
    settings = settings_for(
        CaseworkSettings, kpi_rollups=False, run_relay=False, run_consumers=False
    )
    async with running(create_app(settings)) as client:
        yield client


async def substantiated(db: AsyncEngine, tip_id: str, verified_at: datetime) -> None:
    """What casework's consumer of ``intake.tip.verified`` writes in its copy of the tip."""
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE casework.tip_refs SET outcome = 'substantiated', status = 'verified',"
                " verified_at = :at WHERE tip_id = :id"
            ),
            {"at": verified_at, "id": tip_id},
        )


async def random_cases(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine, rng: random.Random, today: date
) -> None:
    # Rollups equal a recount whatever else a ward holds: a shared Hanoi ward (Hanoi's fresh ones
    # are the scarcest in a whole test session) and two fresh ones of Saigon.
    wards = {"01": [SHARED_HANOI_WARD], "79": [fresh_ward("79"), fresh_ward("79")]}
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    for n in range(30):
        province = rng.choice(["01", "01", "79"])
        ward = rng.choice(wards[province])
        cw = Casework(casework, auth, province)
        tip: str | None = None
        if rng.random() < 0.6:
            tip = await known_tip(db, ward, province)
            if rng.random() < 0.8:
                await substantiated(db, tip, midnight - timedelta(days=rng.randint(0, 110)))
        case = await cw.open(ward, tip_id=tip, exploitation_types=rng.sample(TYPES, 2))
        suspect = await cw.add_suspect(case["id"])
        path = rng.choice(
            [
                [],
                ["decline"],
                ["initiate"],
                ["initiate", "indict"],
                ["initiate", "indict", "schedule_trial"],
                ["initiate", "indict", "schedule_trial", "record_verdict"],
            ]
        )
        for action in path:
            fields: dict[str, Any] = {"party_id": suspect}
            if action == "schedule_trial":
                fields["trial_type"] = rng.choice(["standard", "mobile", "model"])
            if action == "record_verdict":
                fields["outcome"] = rng.choice(["acquitted", "returned_for_investigation"])
            await cw.step(case["id"], action, **fields)
        opened = midnight - timedelta(days=rng.randint(0, 120), hours=rng.randint(-12, 12))
        # the stage due days before today (rolled up), today before now, and later (counted)
        now = datetime.now(UTC)
        due = rng.choice(
            [
                None,
                midnight - timedelta(days=3),
                midnight - timedelta(microseconds=1),
                midnight,
                now - timedelta(hours=1),
                now - timedelta(minutes=2),
                now + timedelta(minutes=30),
                now + timedelta(days=3),
            ]
        )
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE casework.cases SET opened_at = :opened,"
                    " initiated_at = initiated_at - (now() - :opened) / 2,"
                    " indicted_at = indicted_at - (now() - :opened) / 3,"
                    " trial_scheduled_for = trial_scheduled_for - (now() - :opened) / 4,"
                    " stage_due_at = coalesce(:due, stage_due_at),"
                    " destination_country = :country WHERE id = :id"
                ),
                {
                    "opened": opened,
                    "due": due,
                    "country": rng.choice([None, "CN", "KH"]),
                    "id": case["id"],
                },
            )
        if n % 8 == 3:
            await fold(db, ROLLUPS)


@pytest.mark.parametrize("seed", [19, 2026])
async def test_rolled_up_figures_equal_a_recount(
    casework: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    seed: int,
) -> None:
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    await random_cases(casework, auth, db, rng, today)
    callers = {
        "country": auth("supervisor", *PROVINCE_CODES),
        "hanoi": auth("supervisor", "01"),
        "hcmc-investigator": auth("investigator", "79"),
        "two-provinces": auth("supervisor", "01", "79"),
    }
    async with db.connect() as conn:
        pending = await conn.scalar(
            text("SELECT count(*) FROM casework.case_rollup WHERE NOT folded")
        )
    await assert_equal_to_a_recount(casework, recount, callers, periods(today, rng), db, ROLLUPS)
    assert pending, "the cases were counted from the pending rows before the fold"
    async with db.connect() as conn:
        for rollup in ROLLUPS:
            assert await rollup.check(conn) == [], rollup.name


async def test_a_tip_and_its_case_changed_at_once_are_both_counted(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    """The case's initiation commits while the tip's verification waits on its lock, and the
    other way round: either way the initiated tip is counted once, on its day."""
    ward = fresh_ward("79")  # Hanoi's fresh wards are the scarcest in a whole test session
    for tip_first in (True, False):
        tip = await known_tip(db, ward, "79")
        case = await Casework(casework, auth, "79").open(ward, tip_id=tip)
        verify = text(
            "UPDATE casework.tip_refs SET outcome = 'substantiated', verified_at = now()"
            " WHERE tip_id = :id"
        )
        initiate = text("UPDATE casework.cases SET initiated_at = now() WHERE id = :id")
        first, second = (verify, initiate) if tip_first else (initiate, verify)
        ids = ({"id": tip}, {"id": case["id"]}) if tip_first else ({"id": case["id"]}, {"id": tip})
        async with db.connect() as one, db.connect() as two:
            await one.begin()
            await one.execute(first, ids[0])
            await two.begin()
            waiting = asyncio.ensure_future(two.execute(second, ids[1]))
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the second writer waits for the tip's lock"
            await one.commit()
            await waiting
            await two.commit()
        async with db.connect() as conn:
            assert await TIP_REF_ROLLUP.check(conn) == []
            row = (
                await conn.execute(
                    text(
                        "SELECT sum(substantiated), sum(initiated) FROM casework.tip_ref_rollup"
                        " WHERE ward_code = :ward AND (grain = 'd' OR NOT folded)"
                    ),
                    {"ward": ward},
                )
            ).one()
        assert tuple(row) == ((2, 2) if not tip_first else (1, 1))


async def test_the_check_finds_a_wrong_case_row(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    ward = fresh_ward("79")
    await Casework(casework, auth, "79").open(ward)
    await fold(db, ROLLUPS)
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE casework.case_rollup SET opened = 7 WHERE ward_code = :w AND grain = 'd'"),
            {"w": ward},
        )
    async with db.connect() as conn:
        wrong = await ROLLUPS[0].check(conn)
    assert {(r["grain"], r["side"], r["ward_code"], r["opened"]) for r in wrong} == {
        ("d", "recount", ward, 1),
        ("d", "rollup", ward, 7),
    }
    async with db.begin() as conn:
        await ROLLUPS[0].backfill(conn)
    async with db.connect() as conn:
        assert await ROLLUPS[0].check(conn) == []

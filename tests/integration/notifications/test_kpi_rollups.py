"""Notifications' figures over provinces, summed from the daily rollup, equal a recount of the
notifications: deadline signals and assignments handled as the consumer does, backdated over
months, some moved to another province and some read (by the API and in bulk), read through
``GET /v1/kpis`` with the rollup and from an app that counts the rows again, for periods whose
edges fall inside months and on their first days, callers of one or two provinces, the whole
country and a ward; before and after the fold."""

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

from libs.common.directory import SeededDirectory
from services.notifications.app import create_app
from services.notifications.models import ROLLUPS
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications.support import (
    MakeContext,
    Ward,
    assigned,
    handled,
    new_ward,
    signal,
    token,
)
from tests.integration.rollup_support import assert_equal_to_a_recount, fold, periods
from tests.support import running

pytestmark = pytest.mark.integration

PROVINCE_CODES = sorted(f"{int(p.code):02d}" for p in Province.iter_all())


@pytest.fixture(scope="module")
def rollup_ward(directory: SeededDirectory) -> Ward:
    """One ward of Hồ Chí Minh City for both seeds: Hà Nội's fresh wards are the scarcest in a
    whole test session."""
    return new_ward(directory, "79")


@pytest.fixture
async def recount(
    settings_for: Callable[..., Any], directory: SeededDirectory
) -> AsyncIterator[httpx.AsyncClient]:
    """Notifications counting its figures over the rows on every request, as before rollups."""
    settings = settings_for(
        NotificationsSettings, kpi_rollups=False, run_relay=False, run_consumers=False
    )
    async with running(create_app(settings, directory)) as client:
        yield client


async def random_notifications(
    client: httpx.AsyncClient,
    wards: list[Ward],
    db: AsyncEngine,
    as_consumer: MakeContext,
    rng: random.Random,
) -> list[str]:
    """The ids of the events handled."""
    events = []
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(16):
        ward = rng.choice(wards)
        if rng.random() < 0.7:
            event = signal("intake", rng.choice(["approaching", "missed"]), ward)
        else:
            event = assigned("casework.case.assigned", ward, ward.investigator)
        await handled(db, as_consumer, event)
        events.append(event.id)
        if rng.random() < 0.3:  # read by the API, one person's
            async with db.connect() as conn:
                mine = await conn.scalar(
                    text(
                        "SELECT id FROM notifications.notifications"
                        " WHERE source_event_id = :e AND recipient = :r"
                    ),
                    {"e": event.id, "r": ward.officer},
                )
            if mine is not None:
                read = await client.post(
                    f"/v1/notifications/{mine}/read", headers=token(ward.officer)
                )
                assert read.status_code in (200, 204), read.text
        created = midnight - timedelta(days=rng.randint(0, 120), hours=rng.randint(-12, 12))
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE notifications.notifications SET created_at = :at,"
                    " province_code = :p,"
                    " read_at = CASE WHEN :read THEN coalesce(read_at, :at) ELSE read_at END"
                    " WHERE source_event_id = :e"
                ),
                {
                    "at": created,
                    "p": rng.choice(["01", "01", "79"]),
                    "read": rng.random() < 0.3,
                    "e": event.id,
                },
            )
        if n % 6 == 2:  # the last ones stay pending
            await fold(db, ROLLUPS)
    return events


@pytest.mark.parametrize("seed", [5, 2026])
async def test_rolled_up_figures_equal_a_recount(
    notifications: httpx.AsyncClient,
    recount: httpx.AsyncClient,
    rollup_ward: Ward,
    db: AsyncEngine,
    as_consumer: MakeContext,
    seed: int,
) -> None:
    rng = random.Random(seed)
    wards = [rollup_ward]
    events = await random_notifications(notifications, wards, db, as_consumer, rng)
    try:
        callers = {
            "country": token("sup-vn", "supervisor", *PROVINCE_CODES),
            "hanoi": token("sup-hn", "supervisor", "01"),
            "hcmc": token("sup-hcm", "supervisor", "79"),
            "two-provinces": token("sup-two", "supervisor", "01", "79"),
            "a-ward": token(wards[0].supervisor, "supervisor", wards[0].code),
        }
        async with db.connect() as conn:
            pending = await conn.scalar(
                text("SELECT count(*) FROM notifications.notification_rollup WHERE NOT folded")
            )
        today = datetime.now(UTC).date()
        await assert_equal_to_a_recount(
            notifications, recount, callers, periods(today, rng), db, ROLLUPS
        )
        assert pending, "the notifications were counted from the pending rows before the fold"
    finally:
        # other tests count the notifications of Hồ Chí Minh City: ours go, through the triggers
        async with db.begin() as conn:
            await conn.execute(
                text("DELETE FROM notifications.notifications WHERE source_event_id = ANY(:e)"),
                {"e": events},
            )
    async with db.connect() as conn:
        for rollup in ROLLUPS:
            assert await rollup.check(conn) == [], rollup.name

"""A period read from a rollup (``libs.common.rollup_reads.period_slice``) sums to a plain count
of the rows it rolls up, for periods that start on every day of a month (a first month read as
its days, or as the month less its days before the period) and end inside a month, on its first
day or in the future; with the rollup's rows pending, folded, and half of each.

The rollup is intake's ``open_clock_rollup`` (keyed by due day): watches written straight into
``deadline_watches``, one or more on every day of four past months, in two wards no other test
uses, so that every day at a period's edge holds rows."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.jurisdiction import province_of
from libs.common.rollup_reads import period_slice
from services.intake.models import CLOCK_ROLLUP, metadata
from tests.support import fresh_ward

pytestmark = pytest.mark.integration


def _periods(months: list[date], today: date) -> list[tuple[date | None, date | None]]:
    """[first, after): from every day of the second month to the end of the third month, to a
    day inside the fourth, to today and to the future; and a few with an open end."""
    second, third, fourth = months[1], months[2], months[3]
    periods: list[tuple[date | None, date | None]] = []
    day = second
    while day < third:
        periods += [(day, fourth), (day, fourth + timedelta(days=9)), (day, today + timedelta(40))]
        day += timedelta(days=1)
    periods += [(None, third + timedelta(days=3)), (second + timedelta(days=5), None), (None, None)]
    return periods


async def test_a_period_sums_to_the_rows_it_covers(db: AsyncEngine) -> None:
    rng = random.Random(4)
    today = datetime.now(UTC).date()
    first = (today.replace(day=1) - timedelta(days=95)).replace(day=1)
    months = [first]
    while len(months) < 5:
        months.append((months[-1] + timedelta(days=32)).replace(day=1))
    wards = [fresh_ward("01"), fresh_ward("79")]
    table = metadata.tables["intake.deadline_watches"]
    rollup = metadata.tables["intake.open_clock_rollup"]
    rows: list[dict[str, Any]] = []
    day = months[0]
    while day < min(months[4], today):
        for _ in range(rng.randint(1, 3)):
            ward = rng.choice(wards)
            due = datetime.combine(day, time(rng.randint(0, 23)), tzinfo=UTC)
            rows.append(
                {
                    "record_type": "tip",
                    "record_id": uuid.uuid4(),
                    "deadline_kind": "resolution",
                    "due_at": due,
                    "armed_at": due - timedelta(days=20),
                    "fire_at": due,
                    "ward_code": ward,
                    "province_code": province_of(ward),
                }
            )
        day += timedelta(days=1)
    per_day = Counter((r["due_at"].date(), r["ward_code"]) for r in rows)

    async def assert_summed(step: str) -> None:
        async with db.connect() as conn:
            for period in _periods(months, today):
                start, after = period
                sliced = period_slice(rollup, start, after)
                summed = dict(
                    (
                        await conn.execute(
                            select(sliced.c.ward_code, func.sum(sliced.c.clocks))
                            .where(sliced.c.ward_code.in_(wards))
                            .group_by(sliced.c.ward_code)
                        )
                    ).all()
                )
                counted = Counter[str]()
                for (due, ward), n in per_day.items():
                    if (start is None or due >= start) and (after is None or due < after):
                        counted[ward] += n
                assert {w: n for w, n in summed.items() if n} == dict(counted), (step, period)

    half = len(rows) // 2
    try:
        async with db.begin() as conn:
            await conn.execute(insert(table), rows[:half])
            await CLOCK_ROLLUP.compact(conn)
            await conn.execute(insert(table), rows[half:])
        await assert_summed("half folded, half pending")
        async with db.begin() as conn:
            await CLOCK_ROLLUP.compact(conn)
        await assert_summed("folded")
    finally:
        async with db.begin() as conn:
            await conn.execute(
                delete(table).where(table.c.record_id.in_([r["record_id"] for r in rows]))
            )

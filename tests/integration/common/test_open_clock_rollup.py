"""The open clocks counted per due day (``libs.common.open_clocks.roll_up_open_clocks``): the
figures summed from the rollup equal those counted from the watches one by one, and both equal a
plain count of the watches written here, whether the rollup's rows are pending or folded, after
watches are moved to another day, settled or added; and ``check`` finds nothing to mend.

Watches are written straight into intake's ``deadline_watches`` (the triggers keep the rollup
whatever writes them), in three wards no other test uses, with due times from half a year ago to
past the horizon: months ago, yesterday, earlier today, later today, within the horizon, on the
horizon's last day and beyond it."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import Principal
from libs.common.jurisdiction import province_of
from libs.common.open_clocks import WardClocks, clocks_by_ward, rolled_up_clocks_by_ward
from services.intake.models import CLOCK_ROLLUP, metadata
from tests.support import fresh_ward

pytestmark = pytest.mark.integration

HORIZON = timedelta(days=5)
KIND = ("tip", "resolution")


def _due(now: datetime, rng: random.Random) -> datetime:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return rng.choice(
        [
            now - timedelta(days=rng.randint(32, 200), seconds=rng.randint(0, 86_399)),
            today - timedelta(seconds=rng.randint(1, 86_400)),  # yesterday
            today + (now - today) * rng.random(),  # earlier today
            now + (today + timedelta(days=1) - now) * rng.random(),  # later today
            now + HORIZON * rng.random(),
            now + HORIZON - timedelta(seconds=rng.randint(0, 3_600)),  # the horizon's last day
            now + HORIZON + timedelta(seconds=rng.randint(1, 400_000)),  # beyond it
        ]
    )


def _expected(rows: list[dict[str, Any]], now: datetime, wards: set[str]) -> dict[str, WardClocks]:
    soon: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for row in rows:
        if (row["record_type"], row["deadline_kind"]) != KIND or row["ward_code"] not in wards:
            continue
        if row["due_at"] < now:
            missed[row["ward_code"]] += 1
        elif row["due_at"] <= now + HORIZON:
            soon[row["ward_code"]] += 1
    return {w: WardClocks(w, soon[w], missed[w]) for w in wards if soon[w] or missed[w]}


@pytest.mark.parametrize("seed", [7, 2026])
async def test_rolled_up_open_clocks_equal_the_watches_counted(db: AsyncEngine, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    wards = [fresh_ward("01"), fresh_ward("01"), fresh_ward("79")]
    table = metadata.tables["intake.deadline_watches"]
    rollup = metadata.tables["intake.open_clock_rollup"]
    rows: list[dict[str, Any]] = []
    for _ in range(300):
        ward = rng.choice(wards)
        record_type, kind = rng.choice(
            [KIND, KIND, KIND, ("tip", "triage"), ("report", "resolution")]
        )
        due = _due(now, rng)
        rows.append(
            {
                "record_type": record_type,
                "record_id": uuid.uuid4(),
                "deadline_kind": kind,
                "due_at": due,
                "armed_at": due - timedelta(days=20),
                "fire_at": due,
                "ward_code": ward,
                "province_code": province_of(ward),
            }
        )
    callers = [
        (
            Principal(sub="country", roles=frozenset({"supervisor"}), jurisdiction=("01", "79")),
            None,
        ),
        (Principal(sub="hanoi", roles=frozenset({"supervisor"}), jurisdiction=("01",)), None),
        (Principal(sub="ward", roles=frozenset({"supervisor"}), jurisdiction=(wards[0],)), None),
        (
            Principal(sub="country", roles=frozenset({"supervisor"}), jurisdiction=("01", "79")),
            wards[2],
        ),
    ]

    async def assert_counted(step: str) -> None:
        async with db.connect() as conn:
            for principal, ward_code in callers:
                asked: dict[str, Any] = dict(
                    record_type=KIND[0],
                    kind=KIND[1],
                    principal=principal,
                    ward_code=ward_code,
                    now=now,
                    horizon=HORIZON,
                )
                summed = await rolled_up_clocks_by_ward(conn, table, rollup, **asked)  # type: ignore[arg-type]
                counted = await clocks_by_ward(conn, table, **asked)  # type: ignore[arg-type]
                assert summed == counted, (step, principal.sub, ward_code)
                seen = {w for w in wards if principal.covers(w) and ward_code in (None, w)}
                mine = {c.ward_code: c for c in summed if c.ward_code in seen}
                assert mine == _expected(rows, now, seen), (step, principal.sub, ward_code)

    try:
        async with db.begin() as conn:
            await conn.execute(insert(table), rows)
        await assert_counted("pending")
        async with db.begin() as conn:
            await CLOCK_ROLLUP.compact(conn)
        await assert_counted("folded")
        # moved to another day (an extension, a reopened record), settled, and new ones
        moved = rng.sample(rows, 40)
        async with db.begin() as conn:
            for row in moved:
                row["due_at"] = _due(now, rng)
                await conn.execute(
                    update(table)
                    .where(table.c.record_id == row["record_id"])
                    .values(due_at=row["due_at"])
                )
            settled = rng.sample([r for r in rows if r not in moved], 40)
            await conn.execute(
                delete(table).where(table.c.record_id.in_([r["record_id"] for r in settled]))
            )
        rows = [r for r in rows if r not in settled]
        await assert_counted("moved and settled, pending")
        async with db.begin() as conn:
            await CLOCK_ROLLUP.compact(conn)
            assert await CLOCK_ROLLUP.check(conn) == []
        await assert_counted("moved and settled, folded")
    finally:
        async with db.begin() as conn:
            await conn.execute(
                delete(table).where(table.c.record_id.in_([r["record_id"] for r in rows]))
            )

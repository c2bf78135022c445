"""Each stage's deadline, watched (DESIGN §11): ``casework.deadline.approaching`` at 5 days and at
1 day before it, ``casework.deadline.missed`` once it passes, each exactly once, through the
outbox; a step that sets a new deadline re-arms the watch, a stage without one and closing settle
it; concurrent, restarted and repeated workers never signal twice; the migration arms the cases
open before it.

The worker is the service's own (``deadline_worker``), run with a clock of the test's own on a
database of this module's own: a scan years ahead touches no other test's records, and no
worker of a running app races the clock (the app here runs without its relay).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.events import CloudEvent
from libs.common.periodic import Periodic
from services.casework.app import create_app
from services.casework.models import metadata
from services.casework.settings import CaseworkSettings
from tests.integration.casework.support import HAI_BA_TRUNG, HANOI, Auth, Casework
from tests.integration.deadline_support import Clocked, signals, watch_of
from tests.integration.migrating import (
    insert_rows,
    private_database,
    runtime_url,
    upgrade_to_head,
)
from tests.support import bearer, running

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)
FIVE_DAYS, ONE_DAY = 432_000, 86_400
REVISION = "4498a2a91f83"  # deadline_watches, with the backfill


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def own_url(stack: None) -> Iterator[str]:
    with private_database("casework") as url:
        yield url


@pytest.fixture(scope="module")
def own_settings(settings_for: Callable[..., Any], own_url: str) -> CaseworkSettings:
    settings: CaseworkSettings = settings_for(
        CaseworkSettings,
        database_url=runtime_url(own_url),
        run_relay=False,
        run_consumers=False,
    )
    return settings


@pytest.fixture(scope="module")
def own_app(own_settings: CaseworkSettings) -> FastAPI:
    return create_app(own_settings)


@pytest.fixture(scope="module")
async def cw(own_app: FastAPI, own_settings: CaseworkSettings) -> AsyncIterator[Casework]:
    def auth(role: str, *jurisdiction: str) -> dict[str, str]:
        return bearer(own_settings, role, *jurisdiction)

    async with running(own_app) as client:
        yield Casework(client, auth)


@pytest.fixture(scope="module")
async def clock(own_settings: CaseworkSettings, own_url: str) -> AsyncIterator[Clocked]:
    clocked = Clocked(own_settings, metadata, runtime_url(own_url))
    yield clocked
    await clocked.dispose()


@pytest.fixture
async def own_db(own_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(own_url)
    yield engine
    await engine.dispose()


async def _kinds(db: AsyncEngine, case_id: str) -> list[tuple[str, int]]:
    return [(s.kind, s.threshold_seconds) for s in await signals(db, "casework", case_id)]


# The thresholds ---------------------------------------------------------------------------------


async def test_a_stage_signals_5_days_and_1_day_before_its_deadline_and_then_missed_once(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("investigating")
    due = _at(case["stage_due_at"])

    for now in (
        due - 5 * DAY - timedelta(minutes=1),
        due - 5 * DAY,
        due - 5 * DAY + timedelta(hours=3),
        due - DAY + timedelta(seconds=1),
        due - timedelta(hours=2),
        due,
        due + DAY,
        due + 400 * DAY,
    ):
        await clock.at(now)

    assert await _kinds(own_db, case["id"]) == [
        ("approaching", FIVE_DAYS),
        ("approaching", ONE_DAY),
        ("missed", 0),
    ]
    first = (await signals(own_db, "casework", case["id"]))[0].data
    assert first["record_type"] == "case" and first["deadline_kind"] == "stage"
    assert first["record_id"] == case["id"] and _at(first["due_at"]) == due
    assert first["jurisdiction"] == {"ward_code": HAI_BA_TRUNG, "province_code": HANOI}
    assert first["assignee"] is None
    assert _at(first["signalled_at"]) == due - 5 * DAY
    watch = await watch_of(own_db, "casework", case["id"])
    assert watch is not None and watch["fire_at"] is None  # nothing left to say


async def test_a_worker_down_past_both_thresholds_says_only_the_nearest(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("indicted")
    due = _at(case["stage_due_at"])
    await clock.at(due - timedelta(hours=5))
    await clock.at(due + timedelta(minutes=1))
    assert await _kinds(own_db, case["id"]) == [("approaching", ONE_DAY), ("missed", 0)]


# Re-armed, settled ------------------------------------------------------------------------------


async def test_a_new_trial_date_rearms_the_watch_and_the_old_date_is_never_missed(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("trial_scheduled")
    first_date = _at(case["stage_due_at"])
    await clock.at(first_date - timedelta(hours=20))  # 1 day: approaching

    second_date = (first_date + 20 * DAY).replace(microsecond=0)
    moved = await cw.step(case["id"], "schedule_trial", scheduled_for=second_date.isoformat())
    assert _at(moved["stage_due_at"]) == second_date
    watch = await watch_of(own_db, "casework", case["id"])
    assert watch is not None
    assert (_at(watch["due_at"]), watch["last_threshold_seconds"]) == (second_date, None)

    await clock.at(first_date + DAY)  # the old date passes: nothing
    await clock.at(second_date - 5 * DAY)

    found = await signals(own_db, "casework", case["id"])
    assert [(s.kind, s.threshold_seconds) for s in found] == [
        ("approaching", ONE_DAY),
        ("approaching", FIVE_DAYS),
    ]
    assert [_at(s.data["due_at"]) for s in found] == [first_date, second_date]
    assert _at(found[1].data["armed_at"]) > _at(found[0].data["armed_at"])


async def test_indictment_rearms_the_watch_for_the_trial_preparation(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("investigating")
    investigation_due = _at(case["stage_due_at"])
    await clock.at(investigation_due - 5 * DAY)
    indicted = await cw.step(case["id"], "indict", party_id=case["suspect_id"])
    preparation_due = _at(indicted["stage_due_at"])
    assert preparation_due < investigation_due

    await clock.at(preparation_due - 5 * DAY)
    await clock.at(preparation_due)

    found = await signals(own_db, "casework", case["id"])
    assert [(s.kind, s.threshold_seconds, _at(s.data["due_at"])) for s in found] == [
        ("approaching", FIVE_DAYS, investigation_due),
        ("approaching", FIVE_DAYS, preparation_due),
        ("missed", 0, preparation_due),
    ]


async def test_suspension_settles_the_watch_and_resumption_arms_a_new_one(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("investigating")
    await cw.step(case["id"], "suspend")
    assert await watch_of(own_db, "casework", case["id"]) is None
    await clock.at(_at(case["stage_due_at"]) + DAY)
    assert await _kinds(own_db, case["id"]) == []

    resumed = await cw.step(case["id"], "resume")
    watch = await watch_of(own_db, "casework", case["id"])
    assert watch is not None and _at(watch["due_at"]) == _at(resumed["stage_due_at"])


async def test_a_verdict_settles_the_watch_and_closing_keeps_it_settled(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    case = await cw.case_in("trial_scheduled")
    await cw.step(case["id"], "record_verdict")
    assert await watch_of(own_db, "casework", case["id"]) is None
    closed = await cw.step(case["id"], "close")
    assert closed["status"] == "closed"
    await clock.at(_at(case["stage_due_at"]) + 30 * DAY)
    assert await watch_of(own_db, "casework", case["id"]) is None
    assert await _kinds(own_db, case["id"]) == []


async def test_a_case_declined_before_any_stage_was_never_watched(
    cw: Casework, own_db: AsyncEngine
) -> None:
    case = await cw.open()
    assert await watch_of(own_db, "casework", case["id"]) is None
    await cw.step(case["id"], "decline")
    assert await watch_of(own_db, "casework", case["id"]) is None


# Exactly once ----------------------------------------------------------------------------------


async def test_concurrent_restarted_and_repeated_workers_signal_each_threshold_once(
    cw: Casework, clock: Clocked, own_db: AsyncEngine
) -> None:
    cases = [await cw.case_in("investigating") for _ in range(12)]
    latest = max(_at(c["stage_due_at"]) for c in cases)

    async def drain(workers: list[Periodic]) -> None:
        """Replicas scanning side by side in small batches, until one round finds nothing."""
        while sum(await asyncio.gather(*(w.once() for w in workers))):
            pass

    for now in (latest - 5 * DAY, latest - DAY, latest + timedelta(seconds=1)):
        clock.now = now
        for _ in range(3):  # and again, as fresh workers would after a restart
            await drain([clock.worker(batch=3) for _ in range(4)])

    for case in cases:
        assert await _kinds(own_db, case["id"]) == [
            ("approaching", FIVE_DAYS),
            ("approaching", ONE_DAY),
            ("missed", 0),
        ], case["id"]


async def test_the_worker_runs_only_beside_the_relay(
    casework_app: FastAPI, casework: httpx.AsyncClient, cw: Casework, own_app: FastAPI
) -> None:
    def named(app: FastAPI) -> list[str]:
        return [w.name for w in app.state.workers if isinstance(w, Periodic)]

    assert "casework deadlines" in named(casework_app)  # run_relay (the default)
    assert "casework deadlines" not in named(own_app)  # an API replica without the relay


async def test_a_missed_stage_reaches_kafka_once_through_the_relay(
    casework: httpx.AsyncClient,
    auth: Auth,
    casework_settings: CaseworkSettings,
    db: AsyncEngine,
    database_url: str,
) -> None:
    """On the session's database, with the app's relay and worker running: the case's clock is
    set in the database to have run out a minute ago. Whichever worker scans first (the app's,
    or this test's at the real moment) signals it, and the relay publishes it once."""
    case = await Casework(casework, auth).case_in("investigating")
    async with db.begin() as conn:
        for table, column in (("cases", "stage_due_at"), ("deadline_watches", "due_at")):
            await conn.execute(
                text(
                    f"UPDATE casework.{table} SET {column} = now() - interval '1 minute'"
                    f" WHERE {'id' if table == 'cases' else 'record_id'} = :id"
                ),
                {"id": case["id"]},
            )
        await conn.execute(
            text("UPDATE casework.deadline_watches SET fire_at = now() WHERE record_id = :id"),
            {"id": case["id"]},
        )
    ours = Clocked(casework_settings, metadata, database_url)
    try:
        await ours.at(datetime.now(UTC))
        await ours.at(datetime.now(UTC))
    finally:
        await ours.dispose()

    consumer = AIOKafkaConsumer(
        casework_settings.topic("casework.deadline.v1"),
        bootstrap_servers=casework_settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[CloudEvent] = []
    try:
        for _ in range(120):
            batch = await consumer.getmany(timeout_ms=250)
            for records in batch.values():
                seen += [
                    CloudEvent.from_json_bytes(r.value)
                    for r in records
                    if r.key == case["id"].encode()
                ]
            if seen:
                await consumer.getmany(timeout_ms=2000)  # a second one would be here by now
                break
    finally:
        await consumer.stop()
    assert [e.type for e in seen] == ["vn.ctip.casework.deadline.missed.v1"]
    assert seen[0].data["record_id"] == case["id"] and seen[0].data["threshold_seconds"] == 0


# The backfill -----------------------------------------------------------------------------------


def _case_row(status: str, due: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "title": "v1.x", "status": status, "ward_code": HAI_BA_TRUNG,
        "province_code": HANOI, "exploitation_types": [], "opened_at": now, "opened_by": "i",
        "stage_entered_at": now, "stage_due_at": due, "defendants": "[]", "sentences": "[]",
        "version": 1,
    }  # fmt: skip


def test_the_migration_arms_the_open_cases_whose_stage_has_a_deadline(
    settings_for: Callable[..., Any],
) -> None:
    now = datetime.now(UTC)
    rows = {
        "ahead": _case_row("investigating", now + 10 * DAY, now),
        "passed": _case_row("trial_scheduled", now - 2 * DAY, now),
        "suspended": _case_row("suspended", None, now),
        "closed": _case_row("closed", now - 9 * DAY, now),
        "open": _case_row("open", None, now),
    }
    with private_database("casework", before=REVISION) as url:
        asyncio.run(insert_rows(url, "casework", "cases", list(rows.values())))
        upgrade_to_head("casework", url)
        settings = settings_for(CaseworkSettings, database_url=runtime_url(url))
        watches, kinds = asyncio.run(_backfilled_then_scanned(url, settings, rows, now))

    assert set(watches) == {"ahead", "passed"}
    for name, watch in watches.items():
        assert (watch["record_type"], watch["deadline_kind"]) == ("case", "stage")
        assert _at(watch["due_at"]) == rows[name]["stage_due_at"]
        assert (watch["ward_code"], watch["province_code"]) == (HAI_BA_TRUNG, HANOI)
        assert watch["last_threshold_seconds"] is None and watch["assignee"] is None
        assert _at(watch["fire_at"]) <= datetime.now(UTC)
    assert kinds == {"ahead": [], "passed": [("missed", 0)]}


async def _backfilled_then_scanned(
    url: str, settings: CaseworkSettings, rows: dict[str, dict[str, Any]], now: datetime
) -> tuple[dict[str, dict[str, Any]], dict[str, list[tuple[str, int]]]]:
    engine = create_async_engine(url)
    clocked = Clocked(settings, metadata, runtime_url(url))  # the runtime role may scan
    try:
        watches = {
            name: watch
            for name, row in rows.items()
            if (watch := await watch_of(engine, "casework", str(row["id"]))) is not None
        }
        await clocked.at(datetime.now(UTC))
        await clocked.at(datetime.now(UTC))
        kinds = {n: await _kinds(engine, str(rows[n]["id"])) for n in ("ahead", "passed")}
        ahead = await watch_of(engine, "casework", str(rows["ahead"]["id"]))
        assert ahead is not None
        assert _at(ahead["fire_at"]) == rows["ahead"]["stage_due_at"] - 5 * DAY  # rescheduled
        return watches, kinds
    finally:
        await clocked.dispose()
        await engine.dispose()

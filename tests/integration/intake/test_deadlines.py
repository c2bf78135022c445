"""A tip's legal clocks on the real stack (DESIGN §11): a tip is driven to its deadline by moving
its clock in the database (``support.advance``), and intake's deadline worker scans at the real
now. Each threshold is signalled once, through the outbox and on ``intake.deadline.v1``; an
extension re-arms the clocks; a verified tip says nothing more; two workers at once, a repeated
scan and a restart add nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.context import context_factory
from libs.common.crypto import BlindIndex
from libs.common.db import Database
from libs.common.deadlines import thresholds_from_days
from libs.common.events import CloudEvent
from libs.common.periodic import Periodic, deadline_worker
from libs.common.platform import platform_of
from libs.contracts.deadlines import DeadlineSignal
from services.intake.app import create_app
from services.intake.models import metadata
from services.intake.settings import IntakeSettings
from tests.integration.intake.support import (
    HAI_BA_TRUNG,
    HANOI,
    advance,
    classify,
    deadline_signals,
    file_tip,
    verify,
    watches,
)
from tests.integration.migrating import rows_after_migration
from tests.support import eventually, running

pytestmark = pytest.mark.integration

DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)
FIVE_DAYS, ONE_DAY = 5 * 86400, 86400


@pytest.fixture
async def quiet(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Intake without its workers: only the scans the test runs look at the clocks."""
    async with running(create_app(settings_for(IntakeSettings, run_relay=False))) as client:
        yield client


@pytest.fixture
async def database(intake_settings: IntakeSettings) -> AsyncIterator[Database]:
    db = Database(intake_settings.database_url, pool_size=4)
    yield db
    await db.dispose()


def worker(settings: IntakeSettings, db: Database) -> Periodic:
    """The deadline worker intake runs with its relay, built as ``app.py`` builds it."""
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    make_context = context_factory(settings, platform_of(metadata), index)
    return deadline_worker("intake", settings.deadline_thresholds_days, 30)(db, make_context)


@pytest.fixture
def scan(intake_settings: IntakeSettings, database: Database) -> Callable[[], Any]:
    return worker(intake_settings, database).once


def said(signals: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(s["signal"], s["deadline_kind"], s["threshold_seconds"]) for s in signals]


# A tip driven to its deadline ---------------------------------------------------------------------


async def test_a_tip_is_told_5_days_and_1_day_ahead_then_missed_each_once(
    quiet: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    scan: Callable[[], Any],
) -> None:
    tip = await file_tip(quiet, officer)
    # the last day to ask for an extension is day 15, the deadline day 20
    walked = [
        (10 * DAY + MINUTE, [("approaching", "extension_request", FIVE_DAYS)]),
        (4 * DAY, [("approaching", "extension_request", ONE_DAY)]),
        (DAY, [("missed", "extension_request", 0), ("approaching", "resolution", FIVE_DAYS)]),
        (4 * DAY, [("approaching", "resolution", ONE_DAY)]),
        (DAY, [("missed", "resolution", 0)]),
        (30 * DAY, []),
    ]
    expected: list[tuple[str, str, int]] = []
    for by, new in walked:
        await advance(db, tip["id"], by)
        await scan()
        await scan()  # a repeated scan adds nothing
        expected += new
        assert sorted(said(await deadline_signals(db, tip["id"]))) == sorted(expected)


async def test_a_signal_names_the_clock_and_the_place_and_no_person(
    quiet: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, scan: Callable[[], Any]
) -> None:
    tip = await file_tip(
        quiet,
        officer,
        persons=[{"role": "victim", "full_name": "Lò Thị Mẫu", "phone": "0912345678"}],
        reporter={"name": "Trần Văn Ví Dụ", "phone": "0900000001"},
    )
    await advance(db, tip["id"], 15 * DAY + MINUTE)
    await scan()
    signals = await deadline_signals(db, tip["id"])
    assert sorted((s["signal"], s["deadline_kind"]) for s in signals) == [
        ("approaching", "resolution"),
        ("missed", "extension_request"),
    ]
    due = {kind: w.due_at for kind, w in (await watches(db, tip["id"])).items()}
    for signal in signals:
        assert set(signal) - {"signal"} == set(DeadlineSignal.model_fields)
        assert (signal["record_type"], signal["record_id"]) == ("tip", tip["id"])
        assert datetime.fromisoformat(signal["due_at"]) == due[signal["deadline_kind"]]
        assert signal["jurisdiction"] == {"ward_code": HAI_BA_TRUNG, "province_code": HANOI}
        assert signal["assignee"] is None
        assert "Mẫu" not in str(signal) and "0912345678" not in str(signal)


async def test_an_extension_re_arms_the_clocks_and_the_procuracys_ends_the_last_day_to_ask(
    quiet: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, scan: Callable[[], Any]
) -> None:
    tip = await file_tip(quiet, officer)
    await advance(db, tip["id"], 12 * DAY)
    await scan()
    assert said(await deadline_signals(db, tip["id"])) == [
        ("approaching", "extension_request", FIVE_DAYS)
    ]
    extended = await quiet.post(
        f"/v1/tips/{tip['id']}/extension",
        json={"kind": "complex_case", "reason": "many suspects, several provinces"},
        headers=officer,
    )
    assert extended.status_code == 200, extended.text
    due = datetime.fromisoformat(extended.json()["resolution_due_at"])
    clocks = await watches(db, tip["id"])
    assert clocks["resolution"].due_at == due and clocks["resolution"].fire_at == due - 5 * DAY
    assert clocks["extension_request"].due_at == due - 5 * DAY
    assert clocks["extension_request"].last_threshold_seconds is None
    # 10 days before the new deadline, the new last day to ask is 5 days away: said again
    remaining = due - datetime.fromisoformat(tip["received_at"])
    await advance(db, tip["id"], remaining - 10 * DAY + MINUTE)
    await scan()
    signals = await deadline_signals(db, tip["id"])
    assert said(signals) == [
        ("approaching", "extension_request", FIVE_DAYS),
        ("approaching", "extension_request", FIVE_DAYS),
    ]
    first, again = signals
    assert (again["due_at"], again["armed_at"]) != (first["due_at"], first["armed_at"])
    procuracy = await quiet.post(
        f"/v1/tips/{tip['id']}/extension",
        json={"kind": "procuracy", "reason": "the procuracy extends once"},
        headers=officer,
    )
    assert procuracy.status_code == 200, procuracy.text
    assert set(await watches(db, tip["id"])) == {"resolution"}
    await advance(db, tip["id"], 120 * DAY)
    await scan()
    assert said(await deadline_signals(db, tip["id"]))[2:] == [("missed", "resolution", 0)]


@pytest.mark.parametrize("outcome", ["substantiated", "unsubstantiated"])
async def test_a_verified_or_closed_tip_says_nothing_more(
    quiet: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    scan: Callable[[], Any],
    outcome: str,
) -> None:
    tip = await file_tip(quiet, officer)
    await classify(quiet, officer, tip["id"])
    await advance(db, tip["id"], 10 * DAY + MINUTE)
    await scan()
    assert len(await deadline_signals(db, tip["id"])) == 1
    response = await verify(quiet, officer, tip["id"], outcome)
    assert response.status_code == 200, response.text
    assert await watches(db, tip["id"]) == {}
    await advance(db, tip["id"], 30 * DAY)
    await scan()
    assert len(await deadline_signals(db, tip["id"])) == 1


async def test_placing_an_unlocated_tip_moves_its_watches_from_the_triage_province(
    quiet: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    tip = await file_tip(quiet, officer, incident_ward_code=None)
    before = await watches(db, tip["id"])
    assert {(w.ward_code, w.province_code) for w in before.values()} == {(None, HANOI)}
    await classify(quiet, officer, tip["id"], incident_ward_code=HAI_BA_TRUNG)
    after = await watches(db, tip["id"])
    assert {(w.ward_code, w.province_code) for w in after.values()} == {(HAI_BA_TRUNG, HANOI)}
    assert [(w.due_at, w.fire_at) for w in after.values()] == [
        (w.due_at, w.fire_at) for w in before.values()
    ]


# Exactly once: two workers, a restart -------------------------------------------------------------


async def test_two_workers_scanning_at_once_signal_each_clock_once(
    quiet: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    intake_settings: IntakeSettings,
    database: Database,
) -> None:
    tips = [await file_tip(quiet, officer) for _ in range(3)]
    for tip in tips:
        await advance(db, tip["id"], 15 * DAY + MINUTE)
    watch = platform_of(metadata).deadlines
    assert watch is not None
    thresholds = thresholds_from_days(intake_settings.deadline_thresholds_days)
    index = BlindIndex.from_b64(intake_settings.blind_index_key.get_secret_value())
    make_context = context_factory(intake_settings, platform_of(metadata), index)
    first_scanned, first_may_commit = asyncio.Event(), asyncio.Event()

    async def first() -> int:
        """Scans and holds its transaction (its rows locked) while the second one scans."""
        async with database.sessions() as session, session.begin():
            ctx = make_context(session)
            n = await watch.scan(session, now=ctx.now, thresholds=thresholds, emit=ctx.emit)
            first_scanned.set()
            await first_may_commit.wait()
            return n

    async def second() -> int:
        await first_scanned.wait()
        async with database.sessions() as session, session.begin():
            ctx = make_context(session)
            n = await watch.scan(session, now=ctx.now, thresholds=thresholds, emit=ctx.emit)
        first_may_commit.set()
        return n

    # a second worker that waited for the first one's rows would never let it commit
    counts = await asyncio.wait_for(asyncio.gather(first(), second()), timeout=20)
    assert counts[0] >= 6 and counts[1] == 0
    workers = [worker(intake_settings, database) for _ in range(4)]
    await asyncio.gather(*(w.once() for w in workers))  # and again, four at once
    for tip in tips:
        assert sorted(said(await deadline_signals(db, tip["id"]))) == [
            ("approaching", "resolution", FIVE_DAYS),
            ("missed", "extension_request", 0),
        ]


async def test_many_workers_racing_signal_each_clock_once(
    quiet: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    intake_settings: IntakeSettings,
    database: Database,
) -> None:
    tips = [await file_tip(quiet, officer) for _ in range(5)]
    for tip in tips:
        await advance(db, tip["id"], 19 * DAY + MINUTE)
    workers = [worker(intake_settings, database) for _ in range(4)]
    done = await asyncio.gather(*(w.once() for w in workers))
    assert sum(done) >= 10
    for tip in tips:
        assert sorted(said(await deadline_signals(db, tip["id"]))) == [
            ("approaching", "resolution", ONE_DAY),
            ("missed", "extension_request", 0),
        ]


async def read_deadline_topic(
    settings: IntakeSettings, key: str, expected: int
) -> list[CloudEvent]:
    consumer = AIOKafkaConsumer(
        settings.topic("intake.deadline.v1"),
        bootstrap_servers=settings.kafka_bootstrap,
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
                    CloudEvent.from_json_bytes(r.value) for r in records if r.key == key.encode()
                ]
            if len(seen) >= expected:
                break
    finally:
        await consumer.stop()
    return seen


async def test_the_worker_publishes_on_the_deadline_topic_and_a_restart_adds_nothing(
    settings_for: Callable[..., Any], officer: dict[str, str], db: AsyncEngine
) -> None:
    settings: IntakeSettings = settings_for(IntakeSettings, deadline_scan_seconds=0.2)
    async with running(create_app(settings)) as client:
        tip = await file_tip(client, officer)
        await advance(db, tip["id"], 15 * DAY + MINUTE)

        async def both() -> list[dict[str, Any]] | None:
            signals = await deadline_signals(db, tip["id"])
            return signals if len(signals) == 2 else None

        await eventually(both, timeout=30)
        published = await read_deadline_topic(settings, tip["id"], 2)
    assert sorted(e.type for e in published) == [
        "vn.ctip.intake.deadline.approaching.v1",
        "vn.ctip.intake.deadline.missed.v1",
    ]
    assert {e.data["deadline_kind"] for e in published} == {"resolution", "extension_request"}
    async with running(create_app(settings)):
        await asyncio.sleep(1.5)  # several scans of the restarted worker
    assert len(await deadline_signals(db, tip["id"])) == 2


# The open tips of before the watches -------------------------------------------------------------

WATCHES_REVISION = "3489a20c8611"


def test_the_migration_watches_the_open_tips_it_finds() -> None:
    received = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    extended_at = received + 10 * DAY

    def tip(status: str, ward: str | None, extensions: list[str], due: datetime) -> dict[str, Any]:
        return {
            "id": uuid4(), "channel": "hotline", "status": status, "description": "v1.x",
            "incident_ward_code": ward, "province_code": HANOI if ward else None,
            "exploitation_types": [], "anonymous": True, "extensions": extensions,
            "received_at": received, "resolution_due_at": due, "updated_at": received,
            "version": 1,
        }  # fmt: skip

    plain = received + 20 * DAY
    complex_ = received + relativedelta(months=2)
    tips = {
        "received": tip("received", HAI_BA_TRUNG, [], plain),
        "complex": tip("triaged", HAI_BA_TRUNG, ["complex_case"], complex_),
        "procuracy": tip(
            "triaged",
            HAI_BA_TRUNG,
            ["complex_case", "procuracy"],
            complex_ + relativedelta(months=2),
        ),
        "unlocated": tip("received", None, [], plain),
        "verified": tip("verified", HAI_BA_TRUNG, [], plain),
        "closed": tip("closed", HAI_BA_TRUNG, [], plain),
    }

    def extension(name: str, kind: str, at: datetime) -> dict[str, Any]:
        return {
            "id": uuid4(), "tip_id": tips[name]["id"], "kind": kind, "reason": "v1.x",
            "previous_due_at": plain, "new_due_at": complex_, "granted_by": "officer",
            "granted_at": at,
        }  # fmt: skip

    extensions = [
        extension("complex", "complex_case", extended_at),
        extension("procuracy", "complex_case", extended_at - DAY),
        extension("procuracy", "procuracy", extended_at),
    ]
    rows = rows_after_migration(
        "intake",
        WATCHES_REVISION,
        "tip_extensions",
        extensions,
        before=[("tips", list(tips.values()))],
        read="deadline_watches",
    )
    found = {(r["record_id"], r["deadline_kind"]): r for r in rows}
    name = {str(t["id"]): n for n, t in tips.items()}
    assert sorted((name[i], kind) for i, kind in found) == [
        ("complex", "extension_request"),
        ("complex", "resolution"),
        ("procuracy", "resolution"),
        ("received", "extension_request"),
        ("received", "resolution"),
        ("unlocated", "extension_request"),
        ("unlocated", "resolution"),
    ]
    for (tip_id, kind), row in found.items():
        t = tips[name[tip_id]]
        due = t["resolution_due_at"] - (5 * DAY if kind == "extension_request" else timedelta(0))
        armed = received if name[tip_id] in ("received", "unlocated") else extended_at
        assert row["record_type"] == "tip"
        assert datetime.fromisoformat(row["due_at"]) == due
        assert datetime.fromisoformat(row["fire_at"]) == due - 5 * DAY
        assert datetime.fromisoformat(row["armed_at"]) == armed
        assert row["last_threshold_seconds"] is None and row["assignee"] is None
        assert (row["ward_code"], row["province_code"]) == (
            t["incident_ward_code"],
            t["province_code"],
        )

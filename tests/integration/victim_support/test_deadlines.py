"""The 3-day verification of a presumed victim, watched (Law 53/2024 Art. 27, DESIGN §11):
``victim_support.deadline.approaching`` at the 5-day and 1-day thresholds and
``victim_support.deadline.missed`` once it passes, each exactly once, through the outbox; armed
by every way a person is received, settled by identification whatever its outcome; concurrent,
restarted and repeated workers never signal twice; the migration arms the persons still under
verification.

The 3-day clock lies inside the 5-day threshold from the start, so that threshold is never
announced ("5 days left" of a 3-day clock tells a social worker nothing); the scan a day before
the deadline says "approaching" (1 day). The backfill, which cannot know when a clock started,
signals the nearest threshold already passed at its first scan.

The worker is the service's own (``deadline_worker``), run with a clock of the test's own on a
database of this module's own, so that a scan ahead of time touches no other test's records.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.events import CloudEvent
from libs.common.periodic import Periodic
from libs.contracts.casework import VictimLinked
from libs.contracts.interagency import AlertReceived
from services.victim_support import consumers
from services.victim_support.app import create_app
from services.victim_support.models import metadata
from services.victim_support.settings import VictimSupportSettings
from tests.integration.deadline_support import Clocked, signals, watch_of
from tests.integration.migrating import (
    insert_rows,
    private_database,
    runtime_url,
    upgrade_to_head,
)
from tests.integration.victim_support.support import PROVINCE, identify, protect, receive
from tests.support import fresh_ward, running

pytestmark = pytest.mark.integration

WARD = fresh_ward(PROVINCE)
DAY = timedelta(days=1)
FIVE_DAYS, ONE_DAY = 432_000, 86_400
REVISION = "e2712483dbee"  # deadline_watches, with the backfill


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def own_url(stack: None) -> Iterator[str]:
    with private_database("victim_support") as url:
        yield url


@pytest.fixture(scope="module")
def own_settings(settings_for: Callable[..., Any], own_url: str) -> VictimSupportSettings:
    settings: VictimSupportSettings = settings_for(
        VictimSupportSettings,
        database_url=runtime_url(own_url),
        run_relay=False,
        run_consumers=False,
    )
    return settings


@pytest.fixture(scope="module")
async def client(own_settings: VictimSupportSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(own_settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def clock(own_settings: VictimSupportSettings, own_url: str) -> AsyncIterator[Clocked]:
    clocked = Clocked(own_settings, metadata, runtime_url(own_url))
    yield clocked
    await clocked.dispose()


@pytest.fixture
async def own_db(own_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(own_url)
    yield engine
    await engine.dispose()


async def _kinds(db: AsyncEngine, victim_id: str) -> list[tuple[str, int]]:
    return [(s.kind, s.threshold_seconds) for s in await signals(db, "victim_support", victim_id)]


# The thresholds ---------------------------------------------------------------------------------


async def test_a_verification_signals_approaching_twice_and_then_missed_each_once(
    client: httpx.AsyncClient, clock: Clocked, own_db: AsyncEngine
) -> None:
    person = await receive(client, WARD)
    received, due = _at(person["received_at"]), _at(person["verification_due_at"])
    assert due == received + 3 * DAY

    for now in (
        received,
        received + timedelta(hours=6),
        due - DAY,
        due - timedelta(hours=1),
        due + timedelta(seconds=1),
        due + 30 * DAY,
    ):
        await clock.at(now)

    found = await signals(own_db, "victim_support", person["id"])
    assert [(s.kind, s.threshold_seconds) for s in found] == [
        ("approaching", ONE_DAY),
        ("missed", 0),
    ]
    data = found[-1].data
    assert (data["record_type"], data["deadline_kind"]) == ("victim", "verification")
    assert data["record_id"] == person["id"] and _at(data["due_at"]) == due
    assert data["jurisdiction"] == {"ward_code": WARD, "province_code": PROVINCE}
    assert set(data) == {
        "record_type",
        "record_id",
        "deadline_kind",
        "due_at",
        "threshold_seconds",
        "jurisdiction",
        "assignee",
        "armed_at",
        "signalled_at",
    }  # fmt: skip  (no name, phone or description: nothing of the person)


# Settled ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["identified", "not_a_victim"])
async def test_identification_settles_the_watch_whatever_its_outcome(
    client: httpx.AsyncClient, clock: Clocked, own_db: AsyncEngine, outcome: str
) -> None:
    person = await receive(client, WARD)
    due = _at(person["verification_due_at"])
    await clock.at(_at(person["received_at"]))

    await identify(client, person["id"], outcome)

    assert await watch_of(own_db, "victim_support", person["id"]) is None
    await clock.at(due - DAY)
    await clock.at(due + DAY)
    assert await _kinds(own_db, person["id"]) == []


async def test_protection_of_a_presumed_victim_keeps_the_clock_running(
    client: httpx.AsyncClient, clock: Clocked, own_db: AsyncEngine
) -> None:
    person = await receive(client, WARD)
    await protect(client, person["id"])
    watch = await watch_of(own_db, "victim_support", person["id"])
    assert watch is not None and _at(watch["due_at"]) == _at(person["verification_due_at"])
    await clock.at(_at(person["verification_due_at"]))
    assert await _kinds(own_db, person["id"]) == [("missed", 0)]


# Armed by every way in --------------------------------------------------------------------------


async def test_every_way_of_reception_arms_the_watch(
    client: httpx.AsyncClient, clock: Clocked, own_db: AsyncEngine
) -> None:
    by_hand = await receive(client, WARD, received_hours_ago=30)
    linked_at = datetime.now(UTC) - timedelta(hours=5)
    party_id, alert_id = uuid.uuid4(), uuid.uuid4()
    handover_at = datetime.now(UTC) - timedelta(hours=1)

    async with clock.db.sessions() as session, session.begin():
        clock.now = datetime.now(UTC)
        ctx = cast(Any, clock.context(session))
        event = cast(CloudEvent, None)  # the handlers read the payload only
        await consumers.on_victim_linked(
            ctx,
            event,
            VictimLinked(
                case_id=uuid.uuid4(), party_id=party_id, full_name="Lò Thị Giả Lập",
                ward_code=WARD, province_code=PROVINCE, linked_at=linked_at,
            ),
        )  # fmt: skip
        await consumers.on_alert_received(
            ctx,
            event,
            AlertReceived(
                alert_id=alert_id, partner_code="02", alert_type="victim_handover",
                received_at=handover_at, full_name="Giàng A Giả Lập", handover_at=handover_at,
                receiving_province_code=PROVINCE,
            ),
        )  # fmt: skip

    watches = [await watch_of(own_db, "victim_support", by_hand["id"])]
    for kind, ref in (("case_party", party_id), ("partner_alert", alert_id)):
        victim_id = await _victim_of_source(own_db, kind, str(ref))
        watches.append(await watch_of(own_db, "victim_support", victim_id))
    expected = [
        (_at(by_hand["received_at"]) + 3 * DAY, WARD),
        (linked_at + 3 * DAY, WARD),
        (handover_at + 3 * DAY, None),  # a partner hands over to the province
    ]
    assert [(_at(w["due_at"]), w["ward_code"]) for w in watches if w is not None] == expected
    assert {(w["record_type"], w["deadline_kind"], w["province_code"]) for w in watches if w} == {
        ("victim", "verification", PROVINCE)
    }


async def _victim_of_source(db: AsyncEngine, kind: str, ref: str) -> str:
    async with db.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT victim_id FROM victim_support.victim_sources"
                " WHERE source_kind = :k AND source_ref = :r"
            ),
            {"k": kind, "r": ref},
        )
        return str(found.scalar_one())


# Exactly once ----------------------------------------------------------------------------------


async def test_concurrent_restarted_and_repeated_workers_signal_each_threshold_once(
    client: httpx.AsyncClient, clock: Clocked, own_db: AsyncEngine
) -> None:
    people = [await receive(client, WARD) for _ in range(12)]
    latest = max(_at(p["verification_due_at"]) for p in people)

    async def drain(workers: list[Periodic]) -> None:
        while sum(await asyncio.gather(*(w.once() for w in workers))):
            pass

    for now in (latest - 3 * DAY, latest - DAY, latest + timedelta(seconds=1)):
        clock.now = now
        for _ in range(3):
            await drain([clock.worker(batch=3) for _ in range(4)])

    for person in people:
        assert await _kinds(own_db, person["id"]) == [
            ("approaching", ONE_DAY),
            ("missed", 0),
        ], person["id"]


# The backfill -----------------------------------------------------------------------------------


def _victim_row(status: str, received: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "status": status, "source": "rescued", "ward_code": WARD,
        "province_code": PROVINCE, "received_at": received,
        "verification_due_at": received + 3 * DAY, "nationality": "v1.x", "needs": [],
        "exploitation_types": [], "case_ids": [], "created_by": "sw", "version": 1,
    }  # fmt: skip


def test_the_migration_arms_the_persons_still_under_verification(
    settings_for: Callable[..., Any],
) -> None:
    now = datetime.now(UTC)
    rows = {
        "received": _victim_row("received", now - timedelta(hours=2)),
        "late": _victim_row("under_verification", now - 10 * DAY),
        "identified": _victim_row("identified", now - DAY),
        "not_a_victim": _victim_row("not_a_victim", now - DAY),
        "closed": _victim_row("closed", now - 90 * DAY),
    }
    with private_database("victim_support", before=REVISION) as url:
        asyncio.run(insert_rows(url, "victim_support", "victims", list(rows.values())))
        upgrade_to_head("victim_support", url)
        settings = settings_for(VictimSupportSettings, database_url=runtime_url(url))
        watches, kinds = asyncio.run(_backfilled_then_scanned(url, settings, rows))

    assert set(watches) == {"received", "late"}
    for name, watch in watches.items():
        assert (watch["record_type"], watch["deadline_kind"]) == ("victim", "verification")
        assert _at(watch["due_at"]) == rows[name]["verification_due_at"]
        assert (watch["ward_code"], watch["province_code"]) == (WARD, PROVINCE)
        assert watch["last_threshold_seconds"] is None
    assert kinds == {"received": [("approaching", FIVE_DAYS)], "late": [("missed", 0)]}


async def _backfilled_then_scanned(
    url: str, settings: VictimSupportSettings, rows: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[tuple[str, int]]]]:
    engine = create_async_engine(url)
    clocked = Clocked(settings, metadata, runtime_url(url))
    try:
        watches = {
            name: watch
            for name, row in rows.items()
            if (watch := await watch_of(engine, "victim_support", str(row["id"]))) is not None
        }
        await clocked.at(datetime.now(UTC))
        await clocked.at(datetime.now(UTC))
        kinds = {n: await _kinds(engine, str(rows[n]["id"])) for n in ("received", "late")}
        return watches, kinds
    finally:
        await clocked.dispose()
        await engine.dispose()

"""A tip's legal clocks, across intake and notifications as real HTTP servers (issue 18).

intake (with its outbox relay and deadline worker) and notifications (with its consumer) listen
on loopback ports, on this session's own PostgreSQL database and Kafka topics, and read who holds
which role where from a seeded directory file that this module writes (``directory_file``): two
intake officers of one ward, an intake officer of another ward, and the province's supervisor.
Tips are filed through intake's API and driven to their deadlines by moving their clocks in the
database (``advance``): intake's own worker, scanning at the real now, finds them due.

What the officers read is ``GET /v1/notifications``, nothing else: the ladder (approaching to the
ward's officers or the assignee, missed to them and the supervisor), exactly once per person and
signal through a restart of notifications, a second notifications consumer, a second intake
worker and the relay's events published twice; and never a word of the people the tip names.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import issue_dev_token
from libs.common.jurisdiction import province_of
from libs.common.settings import ServiceSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.notifications.app import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from testkit.intake import resident_key
from tests.e2e.conftest import Served, _listening_socket
from tests.integration.intake.support import advance
from tests.support import eventually, fresh_ward, scraped

pytestmark = pytest.mark.e2e

PROVINCE = "14"  # Sơn La: no other test of the session files anything there
WARD, OTHER_WARD = fresh_ward(PROVINCE), fresh_ward(PROVINCE)
assert province_of(WARD) == PROVINCE
OFFICER, SECOND_OFFICER, ELSEWHERE, SUPERVISOR = "io-ladder-1", "io-ladder-2", "io-far", "sup-14"
PEOPLE = [
    {"sub": OFFICER, "roles": ["intake_officer"], "jurisdiction": [WARD]},
    {"sub": SECOND_OFFICER, "roles": ["intake_officer"], "jurisdiction": [WARD], "locale": "en"},
    {"sub": ELSEWHERE, "roles": ["intake_officer"], "jurisdiction": [OTHER_WARD]},
    {"sub": SUPERVISOR, "roles": ["supervisor"], "jurisdiction": [PROVINCE]},
]
ROLE = {OFFICER: "intake_officer", SECOND_OFFICER: "intake_officer", ELSEWHERE: "intake_officer",
        SUPERVISOR: "supervisor"}  # fmt: skip
JURISDICTION = {OFFICER: WARD, SECOND_OFFICER: WARD, ELSEWHERE: OTHER_WARD, SUPERVISOR: PROVINCE}

# Synthetic people named by the filing, which no notification may carry.
REPORTER = {"name": "Hoàng Văn Thử", "phone": "0987650001", "email": "hoang.thu@mail.example"}
VICTIM = {"role": "victim", "full_name": "Lò Thị Chăm", "phone": "0912000111"}
SUSPECT = {"role": "suspect", "full_name": "Vàng A Dính", "phone": "0933000222"}
PERSONAL = [
    "Hoàng Văn Thử", "Lò Thị Chăm", "Vàng A Dính", "hoang.thu@mail.example",
    "0987650001", "987650001", "0912000111", "912000111", "0933000222", "933000222",
]  # fmt: skip

DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)
FIVE_DAYS, ONE_DAY = 5 * 86_400, 86_400
SETTLE = 3.0  # seconds for a duplicate, had there been one, to arrive
Said = tuple[str, str | None, int | None]  # (kind, deadline_kind, threshold_seconds)


def token(sub: str) -> dict[str, str]:
    issued = issue_dev_token(
        ServiceSettings(), roles=[ROLE[sub]], jurisdiction=[JURISDICTION[sub]], sub=sub
    )
    return {"Authorization": f"Bearer {issued}"}


@dataclass
class Stack:
    """intake and notifications as served now; a test may restart or add replicas."""

    intake_settings: IntakeSettings
    notifications_settings: NotificationsSettings
    intake: Served
    notifications: Served
    extra: list[Served] = field(default_factory=list)

    async def replica(self, name: str) -> Served:
        """Another process of the service: its own workers, relay and consumer."""
        app = (
            intake_app(self.intake_settings)
            if name == "intake"
            else notifications_app(self.notifications_settings)
        )
        served = Served(f"{name}-{len(self.extra) + 2}", app, _listening_socket())
        await served.start()
        self.extra.append(served)
        return served

    async def restart_notifications(self) -> None:
        """Stopped, then a fresh process on the same port, as after a deployment."""
        port = self.notifications.port
        await self.notifications.stop()
        app = notifications_app(self.notifications_settings)
        self.notifications = Served("notifications", app, _listening_socket(port))
        await self.notifications.start()

    async def stop(self) -> None:
        for served in [*self.extra, self.notifications, self.intake]:
            await served.stop()


@pytest.fixture(scope="module")
def directory_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ladder") / "directory.json"
    path.write_text(json.dumps({"people": PEOPLE}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
async def ladder(settings_for: Callable[..., Any], directory_file: Path) -> AsyncIterator[Stack]:
    directory = {"directory_file": str(directory_file)}
    intake_settings = settings_for(IntakeSettings, deadline_scan_seconds=0.2, **directory)
    notifications_settings = settings_for(NotificationsSettings, **directory)
    running = Stack(
        intake_settings,
        notifications_settings,
        Served("intake", intake_app(intake_settings), _listening_socket()),
        Served("notifications", notifications_app(notifications_settings), _listening_socket()),
    )
    try:
        await asyncio.gather(running.intake.start(), running.notifications.start())
        yield running
    finally:
        await running.stop()


async def file_tip(stack: Stack) -> str:
    """A tip of the ward, filed anonymously, naming its reporter, a victim and a suspect."""
    body = {
        "channel": "hotline",
        "description": "Synthetic tip: a broker recruits girls for factory work across the border.",
        "incident_ward_code": WARD,
        "reporter": REPORTER,
        "persons": [VICTIM, SUSPECT],
    }
    async with httpx.AsyncClient(base_url=stack.intake.url, timeout=10) as client:
        response = await client.post("/v1/tips", json=body, headers=resident_key())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def notifications_of(stack: Stack, sub: str, tip: str) -> list[dict[str, Any]]:
    """``GET /v1/notifications`` as ``sub``, every page, about one tip."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=stack.notifications.url, timeout=10) as client:
        while True:
            params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
            response = await client.get("/v1/notifications", params=params, headers=token(sub))
            assert response.status_code == 200, response.text
            page = response.json()
            found += [n for n in page["items"] if n["record_id"] == tip]
            cursor = page.get("next_cursor")
            if not cursor:
                return found


def said(items: list[dict[str, Any]]) -> Counter[Said]:
    return Counter((n["kind"], n["deadline_kind"], n["threshold_seconds"]) for n in items)


async def told(stack: Stack, tip: str, expected: dict[str, list[Said]]) -> None:
    """Waits until each person read what ``expected`` says, then (a duplicate having had time
    to arrive) that each of it was said to them exactly once, and nothing else."""

    async def arrived() -> bool:
        for sub, signals in expected.items():
            if set(said(await notifications_of(stack, sub, tip))) != set(signals):
                return False
        return True

    await eventually(arrived, timeout=90, interval=0.5)
    await asyncio.sleep(SETTLE)
    for sub, signals in expected.items():
        assert said(await notifications_of(stack, sub, tip)) == Counter(signals), sub


EXTENSION_5 = ("deadline.approaching", "extension_request", FIVE_DAYS)
EXTENSION_1 = ("deadline.approaching", "extension_request", ONE_DAY)
EXTENSION_MISSED = ("deadline.missed", "extension_request", 0)
RESOLUTION_5 = ("deadline.approaching", "resolution", FIVE_DAYS)
RESOLUTION_1 = ("deadline.approaching", "resolution", ONE_DAY)
RESOLUTION_MISSED = ("deadline.missed", "resolution", 0)


async def republish_deadline_events(settings: IntakeSettings, tip: str) -> int:
    """Every deadline event of the tip on ``intake.deadline.v1`` published once more, as a relay
    that died before marking its batch published sends it again."""
    topic = settings.topic("intake.deadline.v1")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[tuple[bytes, bytes]] = []
    try:
        idle = 0
        while idle < 4:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for part in batch.values():
                records += [(r.key, r.value) for r in part if r.key == tip.encode() and r.value]
    finally:
        await consumer.stop()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
    return len(records)


async def duplicates_seen(stack: Stack, topic: str) -> float:
    """Events notifications' consumers (of this process) found already handled."""
    async with httpx.AsyncClient(base_url=stack.notifications.url, timeout=10) as client:
        return await scraped(
            client, "ctip_consumed_total", service="notifications", topic=topic, outcome="duplicate"
        )


async def test_the_ladder_tells_each_person_each_signal_once_through_restarts_and_replicas(
    ladder: Stack, db: AsyncEngine
) -> None:
    """Unassigned: both officers of the ward hear every approaching signal (5 days, 1 day) of
    both clocks and every missed one, the province's supervisor only the missed ones, the
    officer of another ward nothing. Then notifications is restarted, a second notifications
    consumer and a second intake worker join, the relay's events are published again: the
    deadline that is then missed is said once more to each, and nothing twice."""
    tip = await file_tip(ladder)
    officers: list[Said] = []
    supervisor: list[Said] = []
    # the last day to ask for an extension is day 15 of the tip, its deadline day 20
    for by, new in [
        (10 * DAY + MINUTE, [EXTENSION_5]),
        (4 * DAY, [EXTENSION_1]),
        (DAY, [EXTENSION_MISSED, RESOLUTION_5]),
        (4 * DAY, [RESOLUTION_1]),
    ]:
        await advance(db, tip, by)
        officers += new
        supervisor += [s for s in new if s[0] == "deadline.missed"]
        await told(
            ladder,
            tip,
            {OFFICER: officers, SECOND_OFFICER: officers, SUPERVISOR: supervisor, ELSEWHERE: []},
        )

    await ladder.restart_notifications()
    await ladder.replica("notifications")
    await ladder.replica("intake")
    topic = ladder.intake_settings.topic("intake.deadline.v1")
    duplicates = await duplicates_seen(ladder, topic)
    assert await republish_deadline_events(ladder.intake_settings, tip) == 5
    await advance(db, tip, DAY)
    final = {
        OFFICER: [*officers, RESOLUTION_MISSED],
        SECOND_OFFICER: [*officers, RESOLUTION_MISSED],
        SUPERVISOR: [*supervisor, RESOLUTION_MISSED],
        ELSEWHERE: [],
    }
    await told(ladder, tip, final)
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT recipient, kind, deadline_kind, threshold_seconds"
                " FROM notifications.notifications WHERE record_id = :tip"
            ),
            {"tip": tip},
        )
        stored = Counter((r[0], (r[1], r[2], r[3])) for r in rows.all())
    assert stored == Counter((sub, s) for sub, signals in final.items() for s in signals)
    assert await duplicates_seen(ladder, topic) - duplicates >= 5  # the replay was consumed
    english = await notifications_of(ladder, SECOND_OFFICER, tip)
    assert "Tip resolution deadline missed" in {n["title"] for n in english}


async def test_an_assigned_tip_tells_its_assignee_alone_until_it_is_missed(
    ladder: Stack, db: AsyncEngine
) -> None:
    """Given to the second officer: the assignment and the approaching deadline are theirs
    alone; the first officer of the ward hears nothing of the tip; missed, the supervisor too."""
    tip = await file_tip(ladder)
    async with httpx.AsyncClient(base_url=ladder.intake.url, timeout=10) as client:
        response = await client.post(
            f"/v1/tips/{tip}/assignment", json={"sub": SECOND_OFFICER}, headers=token(OFFICER)
        )
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == SECOND_OFFICER
    assigned: Said = ("assigned", None, None)
    await advance(db, tip, 10 * DAY + MINUTE)
    await told(
        ladder,
        tip,
        {SECOND_OFFICER: [assigned, EXTENSION_5], OFFICER: [], SUPERVISOR: [], ELSEWHERE: []},
    )
    await advance(db, tip, 5 * DAY)
    await told(
        ladder,
        tip,
        {
            SECOND_OFFICER: [assigned, EXTENSION_5, EXTENSION_MISSED, RESOLUTION_5],
            OFFICER: [],
            SUPERVISOR: [EXTENSION_MISSED],
            ELSEWHERE: [],
        },
    )


async def test_no_notification_carries_anything_of_the_people_a_tip_names(
    ladder: Stack, db: AsyncEngine
) -> None:
    """The filing names its reporter, a victim and a suspect with their phones: none of it is in
    any answer of notifications, nor anywhere in its tables."""
    tip = await file_tip(ladder)
    await advance(db, tip, 15 * DAY + MINUTE)
    officers = [EXTENSION_MISSED, RESOLUTION_5]
    await told(ladder, tip, {OFFICER: officers, SUPERVISOR: [EXTENSION_MISSED]})
    answers = json.dumps(
        [await notifications_of(ladder, sub, tip) for sub in (OFFICER, SUPERVISOR)],
        ensure_ascii=False,
    )
    assert tip in answers
    async with db.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'notifications' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        stored = ""
        for table in sorted(tables):
            rows = await conn.execute(text(f'SELECT t::text FROM notifications."{table}" t'))
            stored += "\n".join(rows.scalars()) + "\n"
    assert tip in stored
    for personal in PERSONAL:
        assert personal not in answers, personal
        assert personal not in stored, personal

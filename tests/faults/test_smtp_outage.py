"""The mail server down for a minute, then up: every notification told while it was down
reaches its reader by e-mail once it is back, none twice, and no delivery is given up.

notifications runs in this process on the suite's own stack (its consumer reading the deadline
signals from the suite's Kafka, its channels worker sending through a real STARTTLS server,
``aiosmtpd`` with a certificate the test made). Signals arrive for 20 seconds while the server
is down; it stays down for 60 seconds, then listens again on the same port. The retry schedule
(1, 2, 4, 8, 16, 16, 16, 16 s: 79 s in all) outlives the outage, as production's 27 hours
outlive a night.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.directory import SeededDirectory
from libs.common.events import CloudEvent
from libs.contracts.deadlines import DeadlineSignal, Jurisdiction
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from testkit.mailserver import MailServer, make_certificates
from tests.faults.conftest import REPORTS
from tests.faults.stack import FaultStack
from tests.integration.notifications.channels import channel_settings
from tests.integration.notifications.support import event, produce
from tests.support import eventually, fresh_ward, running

pytestmark = pytest.mark.faults

PEOPLE, SIGNALS, SIGNAL_SECONDS, OUTAGE_SECONDS = 10, 40, 20.0, 60.0
RETRIES = [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0]
CONVERGE_SECONDS = 120.0


@dataclass
class Mailroom:
    settings: NotificationsSettings
    mail: MailServer
    directory: SeededDirectory
    engine: AsyncEngine
    ward: str
    people: list[tuple[str, str]]  # (sub, address)


@pytest.fixture(scope="module")
async def mailroom(
    fault_stack: FaultStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mailroom]:
    mail = MailServer(make_certificates(Path(tmp_path_factory.mktemp("smtp-outage"))))
    mail.up()
    ward = fresh_ward()
    tag = uuid.uuid4().hex[:8]
    people = [(f"io-{tag}-{n}", f"canbo{n}.{tag}@hanoi.ctip.example") for n in range(PEOPLE)]
    directory = SeededDirectory.of(
        {"sub": sub, "roles": ["intake_officer"], "jurisdiction": [ward], "email": address}
        for sub, address in people
    )
    overrides = channel_settings(mail) | {
        "run_consumers": True,
        "delivery_retry_schedule_seconds": RETRIES,
        "delivery_poll_seconds": 0.2,
    }
    settings = NotificationsSettings(
        database_url=fault_stack.database_url,
        kafka_bootstrap=fault_stack.kafka_bootstrap,
        topic_prefix=f"s{uuid.uuid4().hex[:10]}.",
        environment="test",
        log_level="ERROR",
        relay_poll_seconds=0.5,
        **overrides,
    )
    engine = create_async_engine(fault_stack.database_url, pool_pre_ping=True)
    try:
        async with running(create_app(settings, directory)):
            yield Mailroom(settings, mail, directory, engine, ward, people)
    finally:
        mail.down()
        await engine.dispose()


def missed(ward: str, assignee: str) -> CloudEvent:
    now = datetime.now(UTC)
    payload = DeadlineSignal(
        record_type="tip",
        record_id=uuid.uuid4(),
        deadline_kind="resolution",
        due_at=now - timedelta(minutes=1),
        threshold_seconds=0,
        jurisdiction=Jurisdiction(ward_code=ward, province_code="01"),
        assignee=assignee,
        armed_at=now - timedelta(days=20),
        signalled_at=now,
    )
    return event("intake.deadline.missed", payload.record_id, payload.model_dump(mode="json"))


async def links_told(engine: AsyncEngine, subs: list[str]) -> dict[str, str]:
    """Each notification's link, with the address of the person it was for."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT recipient, link FROM notifications.notifications WHERE recipient = ANY(:s)"
            ),
            {"s": subs},
        )
        return {link: recipient for recipient, link in rows}


async def test_a_mail_server_down_for_a_minute_loses_and_doubles_nothing(
    mailroom: Mailroom,
) -> None:
    room = mailroom
    addresses = dict(room.people)
    subs = list(addresses)
    room.mail.down()
    down_at = time.monotonic()
    for n in range(SIGNALS):
        await produce(room.settings, missed(room.ward, subs[n % PEOPLE]))
        await asyncio.sleep(SIGNAL_SECONDS / SIGNALS)

    async def all_told() -> bool:
        return len(await links_told(room.engine, subs)) == SIGNALS

    # the consumer tells every signal while the server is still down
    await eventually(all_told, timeout=OUTAGE_SECONDS - SIGNAL_SECONDS, interval=0.5)
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    async with room.engine.connect() as conn:
        tried = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM notifications.deliveries"
                    " WHERE recipient = ANY(:s) AND attempts > 0 AND status = 'pending'"
                ),
                {"s": subs},
            )
        ).scalar_one()
    assert tried, "no delivery was tried while the server was down"
    assert not room.mail.accepted
    room.mail.up()

    told = await links_told(room.engine, subs)
    deadline = time.monotonic() + CONVERGE_SECONDS
    while time.monotonic() < deadline:
        seen = {
            link for m in room.mail.accepted for link in told if link in m.message.get_content()
        }
        if len(seen) == len(told):
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(3.0)  # anything sent twice would show by now

    received = Counter(
        (link, tuple(accepted.rcpt_tos))
        for accepted in room.mail.accepted
        for link in told
        if link in accepted.message.get_content()
    )
    message_ids = Counter(str(a.message["Message-ID"]) for a in room.mail.accepted)
    async with room.engine.connect() as conn:
        statuses = dict(
            (
                await conn.execute(
                    text(
                        "SELECT status, count(*) FROM notifications.deliveries"
                        " WHERE recipient = ANY(:s) GROUP BY status"
                    ),
                    {"s": subs},
                )
            ).all()
        )
    REPORTS.append(
        {
            "fault": f"SMTP down {OUTAGE_SECONDS:.0f} s",
            "signals": SIGNALS,
            "notified": len(told),
            "messages": len(room.mail.accepted),
            "links_received": len(received),
            "deliveries": statuses,
        }
    )
    assert {link: (addresses[sub],) for link, sub in told.items()} == {
        link: rcpts for (link, rcpts) in received
    }, "a notification did not reach its reader, or reached someone else"
    assert set(received.values()) == {1}, "a notification was e-mailed twice"
    assert set(message_ids.values()) == {1}, "a message was accepted twice"
    assert statuses == {"sent": statuses.get("sent", 0)}, "a delivery was given up or left pending"

"""What notifications' integration tests share: a seeded directory that each test adds its own
people to (in a ward of its own, so that no test is told of another's records), the events the
other services emit, and tokens of the people in the directory."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.auth import issue_dev_token
from libs.common.context import Context
from libs.common.directory import SeededDirectory
from libs.common.events import CloudEvent, event_type, topic_for
from libs.common.settings import ServiceSettings
from libs.contracts.deadlines import DeadlineSignal, Jurisdiction, RecordAssigned
from services.notifications import consumers
from services.notifications.settings import NotificationsSettings
from tests.support import fresh_ward

MakeContext = Callable[[AsyncSession], Context[NotificationsSettings]]
DAY = 86_400
SETTINGS = ServiceSettings()


@dataclass(frozen=True)
class Ward:
    """The people of one ward, as the directory knows them."""

    code: str
    officer: str  # intake_officer
    second_officer: str  # intake_officer, in English
    investigator: str
    social_worker: str
    supervisor: str
    elsewhere: str  # an intake officer of another ward
    province: str = "01"


def new_ward(directory: SeededDirectory, province: str = "01") -> Ward:
    code, other = fresh_ward(province), fresh_ward(province)
    tag = uuid.uuid4().hex[:8]
    ward = Ward(
        code=code,
        officer=f"io-{tag}",
        second_officer=f"io2-{tag}",
        investigator=f"inv-{tag}",
        social_worker=f"sw-{tag}",
        supervisor=f"sup-{tag}",
        elsewhere=f"io-elsewhere-{tag}",
        province=province,
    )
    extra = SeededDirectory.of(
        [
            {"sub": ward.officer, "roles": ["intake_officer"], "jurisdiction": [code]},
            {"sub": ward.second_officer, "roles": ["intake_officer"], "jurisdiction": [code],
             "locale": "en"},
            {"sub": ward.investigator, "roles": ["investigator"], "jurisdiction": [code]},
            {"sub": ward.social_worker, "roles": ["social_worker"], "jurisdiction": [code]},
            {"sub": ward.supervisor, "roles": ["supervisor"], "jurisdiction": [code]},
            {"sub": ward.elsewhere, "roles": ["intake_officer"], "jurisdiction": [other]},
        ]
    )  # fmt: skip
    directory.people.extend(extra.people)
    return ward


def token(sub: str, role: str = "intake_officer", *jurisdiction: str) -> dict[str, str]:
    issued = issue_dev_token(SETTINGS, roles=[role], jurisdiction=jurisdiction or ("01",), sub=sub)
    return {"Authorization": f"Bearer {issued}"}


def signal(
    service: str,
    kind: str,
    ward: Ward,
    *,
    record_type: str = "tip",
    deadline_kind: str = "resolution",
    record_id: uuid.UUID | None = None,
    assignee: str | None = None,
    threshold_seconds: int = 5 * DAY,
) -> CloudEvent:
    """``<service>.deadline.<kind>``, as the owning service's worker emits it."""
    now = datetime.now(UTC)
    payload = DeadlineSignal(
        record_type=record_type,
        record_id=record_id or uuid.uuid4(),
        deadline_kind=deadline_kind,
        due_at=now + timedelta(seconds=threshold_seconds),
        threshold_seconds=threshold_seconds if kind == "approaching" else 0,
        jurisdiction=Jurisdiction(ward_code=ward.code, province_code=ward.province),
        assignee=assignee,
        armed_at=now - timedelta(days=15),
        signalled_at=now,
    )
    return event(f"{service}.deadline.{kind}", payload.record_id, payload.model_dump(mode="json"))


def assigned(
    short_type: str, ward: Ward, assignee: str, record_id: uuid.UUID | None = None
) -> CloudEvent:
    record_type = "tip" if short_type.startswith("intake") else "case"
    payload = RecordAssigned(
        record_type=record_type,
        record_id=record_id or uuid.uuid4(),
        assignee=assignee,
        assigned_by="supervisor-somewhere",
        jurisdiction=Jurisdiction(ward_code=ward.code, province_code=ward.province),
        assigned_at=datetime.now(UTC),
    )
    return event(short_type, payload.record_id, payload.model_dump(mode="json"))


def event(short_type: str, subject: uuid.UUID, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=f"/ctip/{short_type.split('.', 1)[0]}",
        type=event_type(short_type),
        subject=str(subject),
        data=data,
    )


async def produce(settings: ServiceSettings, *events: CloudEvent) -> None:
    """The events on their topics, as the producers' relays publish them."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for e in events:
            topic = settings.topic(topic_for(e.short_type))
            await producer.send_and_wait(topic, e.to_json_bytes(), key=str(e.subject).encode())
    finally:
        await producer.stop()


async def handled(db: AsyncEngine, as_consumer: MakeContext, event: CloudEvent) -> None:
    """The consumer's handler, in a transaction of its own, as ``EventConsumer`` runs it."""
    handler = consumers.HANDLERS[event.short_type]
    model = RecordAssigned if event.short_type.endswith(".assigned") else DeadlineSignal
    async with AsyncSession(db) as session, session.begin():
        await handler(as_consumer(session), event, model.model_validate(event.data))

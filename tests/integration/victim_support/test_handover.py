"""A victim handed over by a partner province (interagency ``alert.received``) is received once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.events import CloudEvent
from libs.contracts.interagency import AlertReceived
from services.victim_support.settings import VictimSupportSettings
from tests.support import eventually

pytestmark = pytest.mark.integration


def alert_event(alert: AlertReceived) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/ctip/interagency",
        type="vn.ctip.interagency.alert.received.v1",
        subject=str(alert.alert_id),
        data=alert.model_dump(mode="json"),
    )


async def produce(settings: VictimSupportSettings, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                settings.topic("interagency.alert.v1"), e.to_json_bytes(), key=b"alerts"
            )
    finally:
        await producer.stop()


async def received_from(db: AsyncEngine, alert_id: uuid.UUID) -> list[Any]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT v.id, v.status, v.source, v.province_code, v.ward_code"
                " FROM victim_support.victim_sources s"
                " JOIN victim_support.victims v ON v.id = s.victim_id"
                " WHERE s.source_kind = 'partner_alert' AND s.source_ref = :ref"
            ),
            {"ref": str(alert_id)},
        )
        return list(rows.all())


async def test_a_handover_alert_receives_the_person_once_and_other_alerts_do_not(
    victim_support: httpx.AsyncClient,
    settings_for: Callable[..., Any],
    db: AsyncEngine,
) -> None:
    settings = settings_for(VictimSupportSettings)
    now = datetime.now(UTC)
    handover = AlertReceived(
        alert_id=uuid.uuid4(),
        partner_code="20",
        alert_type="victim_handover",
        received_at=now,
        full_name="Vàng Thị Pằng",
        sex="female",
        age=19,
        nationality="VN",
        handover_at=now,
        receiving_province_code="01",
        needs=["medical", "psychological", "not_a_support_type"],
    )
    found = AlertReceived(
        alert_id=uuid.uuid4(),
        partner_code="20",
        alert_type="person_found",
        received_at=now,
    )
    first = alert_event(handover)
    await produce(settings, first, first, alert_event(handover), alert_event(found))
    rows = await eventually(lambda: received_from(db, handover.alert_id))
    await eventually(lambda: _alerts_handled(db, 3))  # the copy of ``first`` is not a new one
    assert len(rows) == 1
    _, status, source, province, ward = rows[0]
    assert (status, source, province, ward) == ("received", "partner_province", "01", None)
    assert await received_from(db, found.alert_id) == []


async def _alerts_handled(db: AsyncEngine, count: int) -> bool:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT count(*) FROM victim_support.inbox WHERE type LIKE '%alert.received%'")
        )
        return int(rows.scalar_one()) >= count

"""One real event crossing two services: intake's tip reaches casework exactly once.

intake ``POST /v1/tips`` → intake.outbox → Kafka ``intake.tip.v1`` → casework's consumer →
``casework.tip_refs``, on the real PostgreSQL and Kafka of the local stack.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.casework.app import create_app as casework_app
from services.casework.settings import CaseworkSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from testkit.intake import resident_key
from tests.support import eventually, kafka_ctl, running
from tests.support import outbox_event as decrypt_event

pytestmark = pytest.mark.integration

TIP = {
    "channel": "hotline",
    "description": "Người gọi báo một cô gái 17 tuổi được hứa việc làm ở cửa khẩu (dữ liệu giả).",
    "incident_ward_code": "00256",
    "exploitation_types": ["forced_marriage"],
}


@pytest.fixture
async def services(
    settings_for: Callable[..., Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Any]]:
    intake_settings = settings_for(IntakeSettings)
    casework_settings = settings_for(CaseworkSettings)
    async with (
        running(intake_app(intake_settings)) as intake,
        running(casework_app(casework_settings)) as casework,
    ):
        yield intake, casework, casework_settings


async def tip_refs(db: AsyncEngine, tip_id: str) -> int:
    async with db.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM casework.tip_refs WHERE tip_id = :id"), {"id": tip_id}
        )
        return int(result.scalar_one())


async def outbox_event(db: AsyncEngine, tip_id: str) -> dict[str, Any]:
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT event, published_at FROM intake.outbox WHERE key = :k"), {"k": tip_id}
            )
        ).one()
        return {"event": decrypt_event("intake", row.event), "published_at": row.published_at}


async def test_a_filed_tip_reaches_casework_once(services: Any, db: AsyncEngine) -> None:
    intake, _, _ = services
    response = await intake.post("/v1/tips", json=TIP, headers=resident_key())
    assert response.status_code == 201, response.text
    tip_id = response.json()["id"]

    assert await eventually(lambda: tip_refs(db, tip_id)) == 1
    stored = await outbox_event(db, tip_id)
    assert stored["published_at"] is not None
    assert stored["event"]["type"] == "vn.ctip.intake.tip.received.v1"
    assert stored["event"]["subject"] == tip_id
    async with db.connect() as conn:
        inbox = await conn.execute(
            text("SELECT count(*) FROM casework.inbox WHERE event_id = :id"),
            {"id": stored["event"]["id"]},
        )
        assert inbox.scalar_one() == 1


async def test_the_correlation_id_follows_the_tip_into_the_event(
    services: Any, db: AsyncEngine
) -> None:
    intake, _, _ = services
    headers = {"X-Correlation-ID": "cid-42", **resident_key()}
    response = await intake.post("/v1/tips", json=TIP, headers=headers)
    assert response.headers["x-correlation-id"] == "cid-42"
    stored = await outbox_event(db, response.json()["id"])
    assert stored["event"]["correlationid"] == "cid-42"


async def test_a_redelivered_event_has_no_second_effect(services: Any, db: AsyncEngine) -> None:
    intake, _, casework_settings = services
    tip_id = (await intake.post("/v1/tips", json=TIP, headers=resident_key())).json()["id"]
    await eventually(lambda: tip_refs(db, tip_id))
    event = (await outbox_event(db, tip_id))["event"]

    # The same event again (a producer retry or a replay), then a fresh marker event on the
    # same key, hence the same partition: once the marker is handled the duplicate was too.
    marker_id = str(uuid.uuid4())
    marker = {**event, "id": str(uuid.uuid4()), "data": {**event["data"], "tip_id": marker_id}}
    topic = casework_settings.topic("intake.tip.v1")
    producer = AIOKafkaProducer(bootstrap_servers=casework_settings.kafka_bootstrap)
    await producer.start()
    try:
        for value in (event, event, marker):
            await producer.send_and_wait(topic, json.dumps(value).encode(), key=tip_id.encode())
    finally:
        await producer.stop()

    await eventually(lambda: tip_refs(db, marker_id))
    assert await tip_refs(db, tip_id) == 1
    async with db.connect() as conn:
        handled = await conn.execute(
            text("SELECT count(*) FROM casework.inbox WHERE event_id = :id"), {"id": event["id"]}
        )
        assert handled.scalar_one() == 1


async def test_a_poison_message_goes_to_the_dlt_and_later_messages_still_flow(
    services: Any, db: AsyncEngine
) -> None:
    _, _, casework_settings = services
    topic = casework_settings.topic("intake.tip.v1")
    key = str(uuid.uuid4()).encode()
    good_tip = str(uuid.uuid4())
    good = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/ctip/intake",
        "type": "vn.ctip.intake.tip.received.v1",
        "subject": good_tip,
        "datacontenttype": "application/json",
        "data": {
            "tip_id": good_tip,
            "channel": "web",
            "status": "received",
            "received_at": "2026-11-01T00:00:00Z",
            "resolution_due_at": "2026-11-21T00:00:00Z",
        },
    }
    producer = AIOKafkaProducer(bootstrap_servers=casework_settings.kafka_bootstrap)
    await producer.start()
    try:
        poison = await producer.send_and_wait(topic, b"{not json", key=key)
        await producer.send_and_wait(topic, json.dumps(good).encode(), key=key)
    finally:
        await producer.stop()

    assert await eventually(lambda: tip_refs(db, good_tip)) == 1

    dlt = AIOKafkaConsumer(
        f"{topic}.dlt",
        bootstrap_servers=casework_settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await dlt.start()
    try:
        found = None
        for _ in range(40):
            batch = await dlt.getmany(timeout_ms=500)
            for record in (r for records in batch.values() for r in records):
                if record.value == b"{not json":
                    found = record
            if found:
                break
    finally:
        await dlt.stop()
    assert found is not None, "the poison message is not in the DLT"
    headers = {k: v.decode() for k, v in found.headers}
    assert headers["dlt-consumer-group"] == casework_settings.topic("casework")
    assert headers["dlt-original-topic"] == topic
    assert headers["dlt-original-offset"] == str(poison.offset)
    assert headers["dlt-error-class"] == "PoisonMessage"
    assert headers["dlt-attempts"] == "1"


@pytest.mark.faults
async def test_a_tip_filed_while_kafka_is_down_is_delivered_when_it_returns(
    services: Any, db: AsyncEngine
) -> None:
    intake, _, _ = services
    kafka_ctl("stop")
    try:
        response = await intake.post("/v1/tips", json=TIP, headers=resident_key())
        assert response.status_code == 201
        tip_id = response.json()["id"]
        assert (await outbox_event(db, tip_id))["published_at"] is None
    finally:
        kafka_ctl("start")
    assert await eventually(lambda: tip_refs(db, tip_id), timeout=120) == 1
    assert (await outbox_event(db, tip_id))["published_at"] is not None

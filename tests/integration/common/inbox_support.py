"""Events, a producer and a DLT reader for the inbox consumer's tests."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from libs.common.events import CloudEvent
from services.casework.settings import CaseworkSettings


def event(tip_id: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/ctip/intake",
        type="vn.ctip.intake.tip.received.v1",
        subject=tip_id,
        data={
            "tip_id": tip_id,
            "channel": "web",
            "status": "received",
            "received_at": "2026-11-01T00:00:00Z",
            "resolution_due_at": "2026-11-21T00:00:00Z",
        },
    )


async def produce(settings: CaseworkSettings, topic: str, key: str, *events: CloudEvent) -> None:
    await produce_keyed(settings, topic, [(key, e) for e in events])


async def produce_keyed(
    settings: CaseworkSettings, topic: str, keyed: list[tuple[str, CloudEvent]]
) -> None:
    """In order, each acknowledged before the next (the order of a key is the order given)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for key, e in keyed:
            await producer.send_and_wait(topic, e.to_json_bytes(), key=key.encode())
    finally:
        await producer.stop()


async def dead_letters(
    settings: CaseworkSettings, topic: str, *, quiet_polls: int = 4
) -> list[tuple[str, dict[str, str]]]:
    """Every record of the topic's DLT (event id, headers): read until the first arrives
    (30 s at most), then until ``quiet_polls`` polls of 250 ms bring nothing more."""
    consumer = AIOKafkaConsumer(
        f"{topic}.dlt",
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[tuple[str, dict[str, str]]] = []
    try:
        quiet = 0
        for _ in range(120):
            batch = await consumer.getmany(timeout_ms=250)
            records = [r for records in batch.values() for r in records]
            for record in records:
                headers = {k: v.decode() for k, v in record.headers}
                found.append((CloudEvent.from_json_bytes(record.value).id, headers))
            quiet = 0 if records or not found else quiet + 1
            if quiet >= quiet_polls:
                break
    finally:
        await consumer.stop()
    return found


async def dlt_headers(settings: CaseworkSettings, topic: str, event_id: str) -> dict[str, str]:
    return next((h for i, h in await dead_letters(settings, topic) if i == event_id), {})

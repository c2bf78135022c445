"""Our Kafka records as the official CloudEvents SDK reads them, and the SDK's records as our
consumers read them: structured mode both ways, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import ConsumerRecord
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkEvent
from sqlalchemy import MetaData

from libs.common.events import CloudEvent, kafka_headers
from libs.common.inbox import EventConsumer, inbox_table
from libs.common.settings import ServiceSettings
from libs.contracts.intake import TipReceived

TIP_ID = "01980000-0000-7000-8000-000000000001"
TRACEPARENT = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
DATA = {
    "tip_id": TIP_ID,
    "channel": "hotline",
    "status": "received",
    "incident_ward_code": "00256",
    "province_code": "01",
    "exploitation_types": ["sexual"],
    "received_at": "2026-11-24T01:30:00Z",
    "resolution_due_at": "2026-12-14T01:30:00Z",
}


def ours() -> CloudEvent:
    return CloudEvent(
        id="01980000-0000-7000-8000-0000000000aa",
        source="/ctip/intake",
        type="vn.ctip.intake.tip.received.v1",
        subject=TIP_ID,
        time=datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
        correlationid="corr-1",
        traceparent=TRACEPARENT,
        data=DATA,
    )


def record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t.intake.tip.v1",
        partition=0,
        offset=1,
        timestamp=0,
        timestamp_type=0,
        key=TIP_ID.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(TIP_ID),
        serialized_value_size=len(value),
        headers=headers,
    )


def consumer() -> EventConsumer:
    async def handler(*args: Any) -> None:
        raise AssertionError("decoding only")

    return EventConsumer(
        None,  # type: ignore[arg-type]  (decoding opens no session)
        inbox_table(MetaData(schema="t")),
        ServiceSettings(environment="test"),
        {"intake.tip.received": handler},
        lambda session: session,
    )


def test_the_sdk_reads_our_record_with_every_attribute_and_the_data() -> None:
    event = ours()
    message = KafkaMessage(
        headers=dict(kafka_headers(event)), key=TIP_ID.encode(), value=event.to_json_bytes()
    )
    read = from_kafka_event(message)
    assert (read.get_id(), read.get_source(), read.get_type(), read.get_specversion()) == (
        event.id,
        "/ctip/intake",
        "vn.ctip.intake.tip.received.v1",
        "1.0",
    )
    assert read.get_subject() == TIP_ID
    assert read.get_time() == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert read.get_datacontenttype() == "application/json"
    assert read.get_extension("correlationid") == "corr-1"
    assert read.get_extension("traceparent") == TRACEPARENT
    assert read.get_data() == DATA


def test_our_consumer_reads_a_record_the_sdk_wrote() -> None:
    sdk_event = SdkEvent(
        attributes={
            "id": "partner-7",
            "source": "/ctip/intake",
            "type": "vn.ctip.intake.tip.received.v1",
            "subject": TIP_ID,
            "time": datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
            "datacontenttype": "application/json",
        },
        data=DATA,
    )
    message = to_structured_event(sdk_event)
    event, payload = consumer()._decode(record(message.value, list(message.headers.items())))
    assert (event.id, event.subject, event.short_type) == (
        "partner-7",
        TIP_ID,
        "intake.tip.received",
    )
    assert isinstance(payload, TipReceived)
    assert payload.tip_id == UUID(TIP_ID)


def test_our_consumer_still_reads_a_record_written_the_old_way() -> None:
    """Records from the release before carried ce_ headers beside the structured value."""
    event = ours()
    old_headers = [
        ("ce_id", event.id.encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", event.source.encode()),
        ("ce_specversion", b"1.0"),
        ("content-type", b"application/cloudevents+json; charset=UTF-8"),
    ]
    decoded, payload = consumer()._decode(record(event.to_json_bytes(), old_headers))
    assert decoded == event
    assert isinstance(payload, TipReceived)

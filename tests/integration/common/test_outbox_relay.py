"""The outbox relay on the real stack: order per aggregate, one leader, NOTIFY wake-up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaTimeoutError
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event
from sqlalchemy import event, func, select

from libs.common.db import Database, asyncpg_dsn
from libs.common.events import CloudEvent
from libs.common.platform import platform_of
from libs.common.relay import OutboxRelay
from libs.contracts.intake import TipReceived
from services.intake.models import metadata as intake_metadata
from services.intake.settings import IntakeSettings
from tests.support import eventually

platform = platform_of(intake_metadata)

pytestmark = pytest.mark.integration

outbox = platform.outbox


def tip_payload(tip_id: uuid.UUID, n: int) -> dict[str, Any]:
    return {
        "tip_id": str(tip_id),
        "channel": "web",
        "status": "received",
        "exploitation_types": [],
        "received_at": f"2026-11-01T00:00:{n % 60:02d}Z",
        "resolution_due_at": "2026-11-21T00:00:00Z",
    }


async def add_events(db: Database, subject: uuid.UUID, count: int) -> list[str]:
    ids = []
    for n in range(count):
        async with db.sessions() as session, session.begin():
            event = await outbox.add(
                session, "intake.tip.received", subject, tip_payload(subject, n)
            )
            ids.append(event.id)
    return ids


async def read_topic(settings: IntakeSettings, key: bytes, expected: int) -> list[CloudEvent]:
    return [
        CloudEvent.from_json_bytes(r.value) for r in await read_records(settings, key, expected)
    ]


async def read_records(settings: IntakeSettings, key: bytes, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        settings.topic("intake.tip.v1"),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[Any] = []
    try:
        for _ in range(120):
            batch = await consumer.getmany(timeout_ms=250)
            for records in batch.values():
                seen += [r for r in records if r.key == key]
            if len(seen) >= expected:
                break
    finally:
        await consumer.stop()
    return seen


async def pending(db: Database) -> int:
    async with db.sessions() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).where(outbox.table.c.published_at.is_(None))
                )
            ).scalar_one()
        )


@pytest.fixture
async def database(database_url: str) -> Any:
    db = Database(database_url, pool_size=4)
    yield db
    await db.dispose()


async def test_events_of_one_aggregate_are_published_in_commit_order(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(IntakeSettings, relay_batch_size=7)
    subject = uuid.uuid4()
    ids = await add_events(database, subject, 30)
    relay = OutboxRelay(database, outbox, settings)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _none_pending(database))
    finally:
        relay.stop()
        await task
    events = await read_topic(settings, str(subject).encode(), 30)
    assert [e.id for e in events] == ids


async def test_a_published_record_reads_whole_with_the_official_cloudevents_sdk(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(IntakeSettings)
    subject = uuid.uuid4()
    (event_id,) = await add_events(database, subject, 1)
    relay = OutboxRelay(database, outbox, settings)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _none_pending(database))
    finally:
        relay.stop()
        await task
    (published,) = await read_records(settings, str(subject).encode(), 1)
    headers = {name: value for name, value in published.headers}
    assert headers["content-type"] == b"application/cloudevents+json"
    assert (headers["ctip-id"], headers["ctip-type"], headers["ctip-source"]) == (
        event_id.encode(),
        b"vn.ctip.intake.tip.received.v1",
        b"/ctip/intake",
    )
    read = from_kafka_event(KafkaMessage(headers=headers, key=published.key, value=published.value))
    assert (read.get_id(), read.get_subject()) == (event_id, str(subject))
    assert read.get_data() == TipReceived.model_validate(tip_payload(subject, 0)).model_dump(
        mode="json"
    )


async def _none_pending(db: Database) -> bool:
    return await pending(db) == 0


async def test_two_relays_publish_each_event_once(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(IntakeSettings, relay_batch_size=5)
    subject = uuid.uuid4()
    ids = await add_events(database, subject, 40)
    relays = [OutboxRelay(database, outbox, settings) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        await eventually(lambda: _none_pending(database))
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks)
    events = await read_topic(settings, str(subject).encode(), 40)
    assert [e.id for e in events] == ids


async def test_notify_wakes_the_relay_long_before_its_polling_interval(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(IntakeSettings)
    relay = OutboxRelay(database, outbox, settings, use_notify=True, poll_seconds=3600)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _none_pending(database), timeout=60)
        await asyncio.sleep(1.0)  # the relay is now asleep on its hour-long poll
        subject = uuid.uuid4()
        await add_events(database, subject, 1)
        # Without the notification nothing would be published for an hour.
        await eventually(lambda: _none_pending(database), timeout=20)
    finally:
        relay.stop()
        await task


async def test_a_transaction_adding_events_sends_one_notification_at_commit(
    database: Database, database_url: str
) -> None:
    """The outbox trigger notifies; PostgreSQL folds a transaction's identical NOTIFYs into one,
    delivered only when it commits (nothing for a rolled-back one)."""
    received: list[str] = []
    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    await listener.add_listener(outbox.channel, lambda *args: received.append(args[2]))
    try:
        subject = uuid.uuid4()
        async with database.sessions() as session, session.begin():
            for n in range(3):
                await outbox.add(session, "intake.tip.received", subject, tip_payload(subject, n))
            await asyncio.sleep(0.3)
            assert received == []  # not before the commit
        await eventually(lambda: _async_true(received), timeout=5)
        await asyncio.sleep(0.3)
        assert received == [outbox.channel]

        received.clear()
        async with database.sessions() as session:
            await session.begin()
            await outbox.add(session, "intake.tip.received", subject, tip_payload(subject, 9))
            await session.rollback()
        await asyncio.sleep(0.5)
        assert received == []
    finally:
        await listener.close()


async def _async_true(items: list[str]) -> bool:
    return bool(items)


async def test_after_a_partial_batch_the_relay_lingers_so_a_stream_goes_out_in_few_rounds(
    settings_for: Callable[..., Any], database: Database
) -> None:
    settings = settings_for(IntakeSettings, relay_linger_seconds=1.0)
    sizes: list[int] = []

    class Counting(OutboxRelay):
        async def publish_round(self) -> int:
            published = await super().publish_round()
            if published:
                sizes.append(published)
            return published

    relay = Counting(database, outbox, settings, use_notify=True, poll_seconds=3600)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _none_pending(database), timeout=60)
        await asyncio.sleep(0.5)
        sizes.clear()
        subject = uuid.uuid4()
        await add_events(database, subject, 1)  # wakes the relay at once
        await eventually(lambda: _none_pending(database), timeout=20)
        await add_events(database, subject, 5)  # during the linger: one round for the five
        await eventually(lambda: _none_pending(database), timeout=20)
        assert sizes == [1, 5]
    finally:
        relay.stop()
        await task


async def publish_what_is_pending(relay: OutboxRelay) -> None:
    """Other tests' rows out of the way, so that a round counts only this test's."""
    while await relay.publish_round():
        pass


async def test_a_batch_is_marked_published_by_one_update_of_all_its_rows(
    settings_for: Callable[..., Any], database: Database
) -> None:
    relay = OutboxRelay(database, outbox, settings_for(IntakeSettings, relay_batch_size=50))
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    try:
        await publish_what_is_pending(relay)
        ids = await add_events(database, uuid.uuid4(), 30)
        event.listen(database.engine.sync_engine, "before_cursor_execute", note)
        try:
            assert await relay.publish_round() == 30
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", note)
    finally:
        await relay._close_producer()
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1
    assert "= ANY (" in updates[0]
    async with database.sessions() as session:
        rows = (
            await session.execute(
                select(outbox.table.c.published_at, outbox.table.c.attempts).where(
                    outbox.table.c.id.in_([uuid.UUID(i) for i in ids])
                )
            )
        ).all()
    assert len(rows) == 30
    assert all(published_at is not None and attempts == 1 for published_at, attempts in rows)


class _FailingAcks:
    """The relay's producer, except that the acknowledgements of sends number ``fail`` (a range,
    counted from 1) fail a moment later, their records never sent."""

    def __init__(self, producer: Any, fail: range) -> None:
        self._producer = producer
        self.fail = fail
        self.sends = 0
        self.sent_before_failure: int | None = None

    async def send(self, topic: str, **kwargs: Any) -> asyncio.Future[Any]:
        self.sends += 1
        if self.sends not in self.fail:
            future: asyncio.Future[Any] = await self._producer.send(topic, **kwargs)
            return future
        failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def fail() -> None:
            if self.sent_before_failure is None:
                self.sent_before_failure = self.sends
            failed.set_exception(KafkaTimeoutError("injected"))

        asyncio.get_running_loop().call_later(0.3, fail)
        return failed


async def test_a_failed_batch_and_the_one_sent_behind_it_stay_unpublished_and_go_again(
    settings_for: Callable[..., Any], database: Database
) -> None:
    """Batch 2's acknowledgements fail while batch 3, already claimed and sent behind it, is
    acknowledged: neither is marked (rows are marked in batch order, each after its acks), and
    the next round sends both again, in order, after batch 1."""
    settings = settings_for(IntakeSettings, relay_batch_size=5)
    failing: list[_FailingAcks] = []

    class Failing(OutboxRelay):
        async def _producer_ready(self) -> Any:
            if not failing:
                failing.append(_FailingAcks(await super()._producer_ready(), range(6, 11)))
            return failing[0]

    relay = Failing(database, outbox, settings)
    try:
        await publish_what_is_pending(OutboxRelay(database, outbox, settings))
        subject = uuid.uuid4()
        ids = await add_events(database, subject, 20)
        with pytest.raises(KafkaTimeoutError):
            await relay.publish_round()
        # Batch 3 was claimed and handed to Kafka while batch 2 still waited for its acks.
        assert failing[0].sent_before_failure == 15
        async with database.sessions() as session:
            state = {
                str(row.id): (row.published_at is not None, row.attempts, row.last_error)
                for row in await session.execute(
                    select(
                        outbox.table.c.id,
                        outbox.table.c.published_at,
                        outbox.table.c.attempts,
                        outbox.table.c.last_error,
                    ).where(outbox.table.c.id.in_([uuid.UUID(i) for i in ids]))
                )
            }
        assert [state[i][0] for i in ids] == [True] * 5 + [False] * 15
        assert all(state[i][1] == 1 and "KafkaTimeoutError" in state[i][2] for i in ids[5:10])
        failing[0].fail = range(0)
        assert await relay.publish_round() == 15
    finally:
        await relay._close_producer()
    events = [e.id for e in await read_topic(settings, str(subject).encode(), 25)]
    assert events[:5] == ids[:5]
    assert events[-15:] == ids[5:]  # batch 3's first copy came before batch 2: a duplicate
    assert events[5:10] == ids[10:15]

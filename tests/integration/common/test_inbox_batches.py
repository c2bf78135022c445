"""The inbox consumer handles a poll's records in one transaction: a failing event leaves the
batch alone, duplicates have one effect, an aggregate's order holds, an outage loses nothing.

Each handler writes its effect to a table of the test's own, in the consumer's transaction, so
that what was kept (and how often) is read back from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.db import Database
from libs.common.events import CloudEvent
from libs.common.inbox import EventConsumer, Handler
from libs.common.platform import platform_of
from services.casework.models import metadata
from services.casework.settings import CaseworkSettings
from tests.integration.common.inbox_support import dead_letters, event, produce_keyed
from tests.support import eventually

platform = platform_of(metadata)
TIP_RECEIVED = "intake.tip.received"

pytestmark = pytest.mark.integration


@pytest.fixture
async def effects(db: AsyncEngine) -> AsyncIterator[str]:
    """A table the handlers write to as the services' runtime role: one row per effect."""
    table = f"casework.test_effects_{uuid.uuid4().hex[:8]}"
    async with db.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE {table} (event_id text NOT NULL, subject text NOT NULL,"
                " at timestamptz NOT NULL DEFAULT clock_timestamp())"
            )
        )
        await conn.execute(text(f"GRANT SELECT, INSERT ON {table} TO ctip_app"))
    yield table
    async with db.begin() as conn:
        await conn.execute(text(f"DROP TABLE {table}"))


async def write_effect(session: AsyncSession, table: str, e: CloudEvent) -> None:
    await session.execute(
        text(f"INSERT INTO {table} (event_id, subject) VALUES (:id, :subject)"),
        {"id": e.id, "subject": e.subject},
    )


async def kept(db: AsyncEngine, table: str) -> list[str]:
    """The event ids whose effect was committed, in the order they were written."""
    async with db.connect() as conn:
        rows = await conn.execute(text(f"SELECT event_id FROM {table} ORDER BY at"))
        return [r.event_id for r in rows]


async def in_inbox(db: AsyncEngine, events: Sequence[CloudEvent]) -> set[str]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT event_id FROM casework.inbox WHERE event_id = ANY(:ids)"),
            {"ids": [e.id for e in events]},
        )
        return {r.event_id for r in rows}


def record(
    e: CloudEvent, key: str, offset: int, partition: int = 0
) -> ConsumerRecord[bytes, bytes]:
    """The record of ``e`` as a poll returns it."""
    value = e.to_json_bytes()
    return ConsumerRecord(
        topic="t.intake.tip.v1",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=[],
    )


def records(*keyed: tuple[str, CloudEvent]) -> list[ConsumerRecord[bytes, bytes]]:
    return [record(e, key, offset) for offset, (key, e) in enumerate(keyed)]


def consumer_of(
    database: Database,
    settings: CaseworkSettings,
    handler: Handler,
    kind: type[EventConsumer] = EventConsumer,
) -> Any:
    return kind(
        database,
        platform.inbox,
        settings,
        {TIP_RECEIVED: handler},
        lambda session: session,
        group_id=f"test-{uuid.uuid4().hex[:6]}",
    )


class BatchSpy(EventConsumer):
    """The consumer, noting the event ids of each poll it handles."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.polls: list[list[str]] = []

    async def handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
        self.polls.append([CloudEvent.from_json_bytes(r.value or b"").id for r in records])
        return await super().handle(records)


async def test_a_failing_event_is_retried_and_dead_lettered_alone_and_the_rest_of_its_batch_kept(
    settings_for: Callable[..., Any], database: Database, db: AsyncEngine, effects: str
) -> None:
    settings = settings_for(CaseworkSettings, topic_prefix=f"t{uuid.uuid4().hex[:8]}.")
    topic = settings.topic("intake.tip.v1")
    events = [event(str(uuid.uuid4())) for _ in range(12)]
    bad = events[5]
    attempts: dict[str, int] = {}

    async def handler(session: AsyncSession, e: CloudEvent, payload: Any) -> None:
        attempts[e.id] = attempts.get(e.id, 0) + 1
        await write_effect(session, effects, e)  # written, then rolled back with the failure
        if e.id == bad.id:
            raise ValueError("this tip cannot be handled")

    # Published before the consumer starts, so that its first polls bring many at once.
    await produce_keyed(settings, topic, [(str(e.subject), e) for e in events])
    consumer = consumer_of(database, settings, handler, BatchSpy)
    task = asyncio.create_task(consumer.run())
    try:
        good = [e.id for e in events if e is not bad]
        await eventually(lambda: _all_kept(db, effects, good))
        letters = await dead_letters(settings, topic)
    finally:
        consumer.stop()
        await task
    (batch,) = [poll for poll in consumer.polls if bad.id in poll]
    assert len(batch) > 1, "the failing event should have shared its poll with others"
    assert sorted(await kept(db, effects)) == sorted(good)  # none lost, none twice
    assert attempts[bad.id] == settings.consumer_max_attempts
    # Its poll ran once without savepoints (rolled back at the failure), then once with them.
    assert all(attempts[i] <= 2 for i in good)
    assert [i for i, _ in letters] == [bad.id]
    assert letters[0][1]["dlt-attempts"] == str(settings.consumer_max_attempts)
    assert "cannot be handled" in letters[0][1]["dlt-error-message"]
    assert await in_inbox(db, events) == set(good)


async def test_duplicates_in_a_batch_and_across_batches_have_one_effect(
    settings_for: Callable[..., Any], database: Database, db: AsyncEngine, effects: str
) -> None:
    settings = settings_for(CaseworkSettings)
    calls: list[str] = []

    async def handler(session: AsyncSession, e: CloudEvent, payload: Any) -> None:
        calls.append(e.id)
        await write_effect(session, effects, e)

    consumer = consumer_of(database, settings, handler)
    one, two, three = (event(str(uuid.uuid4())) for _ in range(3))

    first = await consumer.handle(records(("a", one), ("a", one), ("b", two)))
    second = await consumer.handle(records(("a", one), ("b", two), ("c", three), ("c", three)))

    assert first == ["handled", "duplicate", "handled"]
    assert second == ["duplicate", "duplicate", "handled", "duplicate"]
    assert calls == [one.id, two.id, three.id]
    assert sorted(await kept(db, effects)) == sorted([one.id, two.id, three.id])


async def test_an_aggregates_later_events_wait_for_its_failed_one_and_keep_their_order(
    settings_for: Callable[..., Any], database: Database, db: AsyncEngine, effects: str
) -> None:
    settings = settings_for(CaseworkSettings)
    calls: list[str] = []
    a1, a2, b1, a3, b2 = (event(str(uuid.uuid4())) for _ in range(5))
    failures = {a1.id: 2}  # fails twice, then succeeds on its third attempt

    async def handler(session: AsyncSession, e: CloudEvent, payload: Any) -> None:
        calls.append(e.id)
        if failures.get(e.id, 0) > 0:
            failures[e.id] -= 1
            raise RuntimeError("transient bug")
        await write_effect(session, effects, e)

    consumer = consumer_of(database, settings, handler)
    outcomes = await consumer.handle(records(("A", a1), ("A", a2), ("B", b1), ("A", a3), ("B", b2)))

    assert outcomes == ["handled"] * 5
    # B's events are kept by the batch; A's wait for a1, then follow it in their order.
    assert calls == [a1.id, b1.id, b2.id, a1.id, a1.id, a2.id, a3.id]
    assert await kept(db, effects) == [b1.id, b2.id, a1.id, a2.id, a3.id]


async def test_a_database_outage_mid_batch_rolls_the_batch_back_and_runs_it_again_whole(
    settings_for: Callable[..., Any], database: Database, db: AsyncEngine, effects: str
) -> None:
    settings = settings_for(CaseworkSettings)
    calls: list[str] = []
    events = [event(str(uuid.uuid4())) for _ in range(5)]
    victim = events[2]

    async def handler(session: AsyncSession, e: CloudEvent, payload: Any) -> None:
        calls.append(e.id)
        await write_effect(session, effects, e)
        if e.id == victim.id and calls.count(e.id) == 1:
            # The server ends this transaction's connection, as a restart or a crash would.
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    consumer = consumer_of(database, settings, handler)
    outcomes = await consumer.handle(records(*((f"k{n}", e) for n, e in enumerate(events))))

    assert outcomes == ["handled"] * 5
    ids = [e.id for e in events]
    assert calls == ids[:3] + ids  # the first three once in the lost try, then all again
    assert sorted(await kept(db, effects)) == sorted(ids)  # each effect once, nothing lost
    assert await in_inbox(db, events) == set(ids)


async def _all_kept(db: AsyncEngine, table: str, ids: list[str]) -> bool:
    return set(ids) <= set(await kept(db, table))

"""Pieces of the event benchmarks that are not the measurements themselves."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database
from libs.common.events import CloudEvent
from libs.common.inbox import EventConsumer
from libs.common.kafka import new_producer
from libs.common.platform import platform_of
from libs.common.relay import OutboxRelay
from libs.common.settings import ServiceSettings
from services.casework.models import metadata as casework_metadata
from services.casework.settings import CaseworkSettings
from services.intake.models import metadata as intake_metadata

TIP_RECEIVED = "intake.tip.received"
ID_CHUNK = 5000
RAW_READ_TIMEOUT = 900.0

outbox = platform_of(intake_metadata).outbox
inbox = platform_of(casework_metadata).inbox
T = TypeVar("T")


class BenchError(RuntimeError):
    """The bench cannot run (or finish) safely; the message says what to do."""


def tip_payload(tip_id: uuid.UUID) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "tip_id": str(tip_id),
        "channel": "web",
        "status": "received",
        "incident_ward_code": "00004",
        "exploitation_types": ["labour"],
        "received_at": now.isoformat(),
        "resolution_due_at": (now + timedelta(days=20)).isoformat(),
    }


def chunks(items: Sequence[T], size: int = ID_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def wait_until(
    probe: Callable[[], Awaitable[bool]], *, seconds: float, interval: float, what: str
) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not await probe():  # noqa: ASYNC110 - a database count has no event to await
                await asyncio.sleep(interval)
    except TimeoutError:
        raise BenchError(f"timed out after {seconds:.0f} s waiting for {what}") from None


class StampingConsumer(EventConsumer):
    """Casework's inbox consumer that notes when each event's offset was committed.

    The loop in :class:`EventConsumer` handles a poll's records in one transaction, then
    commits the poll's offsets once, so the ids handled since the previous commit are exactly
    the ones it covers. ``fetched_at`` (the poll reached the consumer loop) splits the latency
    into the relay's and Kafka's share and the consumer's own.
    """

    def __init__(self, db: Database, settings: CaseworkSettings, group_id: str) -> None:
        super().__init__(
            db, inbox, settings, {TIP_RECEIVED: self._note}, _no_context, group_id=group_id
        )
        self.pending: list[str] = []
        self.fetched_at: dict[str, float] = {}
        self.handled_at: dict[str, float] = {}
        self.committed_at: dict[str, float] = {}
        self.polls: list[int] = []

    async def handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
        now = time.perf_counter()
        self.polls.append(len(records))
        for record in records:
            event_id = event_id_of(record.headers)
            if event_id is not None:
                self.fetched_at.setdefault(event_id, now)
        outcomes = await super().handle(records)
        now = time.perf_counter()  # the inbox transaction has committed
        for event_id in self.pending:
            self.handled_at.setdefault(event_id, now)
        return outcomes

    async def _note(self, ctx: Any, event: CloudEvent, payload: Any) -> None:
        self.pending.append(event.id)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        await super()._commit(offsets)
        now = time.perf_counter()
        for event_id in self.pending:
            self.committed_at.setdefault(event_id, now)
        self.pending.clear()


def _no_context(session: AsyncSession) -> AsyncSession:
    """The bench's handler only notes the event: the session is all the context it needs."""
    return session


def event_id_of(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    """The event id from the copy in the Kafka headers (``libs.common.events.kafka_headers``)."""
    for name, value in headers or ():
        if name == "ctip-id":
            return value.decode()
    return None


class _AckStampingProducer:
    """Stands in for the relay's producer: stamps each event when the broker acknowledged it."""

    def __init__(
        self, producer: AIOKafkaProducer, sent_at: dict[str, float], acked_at: dict[str, float]
    ) -> None:
        self._producer = producer
        self._sent_at = sent_at
        self._acked_at = acked_at

    async def send(self, topic: str, **kwargs: Any) -> asyncio.Future[Any]:
        event_id = event_id_of(kwargs.get("headers"))
        if event_id is not None:
            self._sent_at.setdefault(event_id, time.perf_counter())
        future: asyncio.Future[Any] = await self._producer.send(topic, **kwargs)
        if event_id is not None:
            future.add_done_callback(
                lambda _: self._acked_at.setdefault(event_id, time.perf_counter())
            )
        return future


class StampingRelay(OutboxRelay):
    """The outbox relay, noting when it handed each event to its producer (``sent_at``: the
    row was claimed and serialised) and when Kafka acknowledged it (``acked_at``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_at: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}

    async def _producer_ready(self) -> AIOKafkaProducer:
        producer = await super()._producer_ready()
        return _AckStampingProducer(producer, self.sent_at, self.acked_at)


async def raw_read(
    settings: ServiceSettings,
    topic: str,
    count: int,
    *,
    group_id: str,
    commit: bool = False,
) -> float:
    """A plain aiokafka consumer group reading (and parsing) ``count`` records of ``topic``, as
    the inbox consumer's baseline: seconds from the first fetch to the last record, or to the
    last offset commit (one per poll) with ``commit``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        seen, first = 0, None
        async with asyncio.timeout(RAW_READ_TIMEOUT):
            while seen < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    if first is None:
                        first = time.perf_counter()
                    for record in records:
                        json.loads(record.value or b"{}")
                        seen += 1
                if batch and commit:
                    await consumer.commit()
        assert first is not None
        return time.perf_counter() - first
    finally:
        await consumer.stop()


async def stamped(consumer: StampingConsumer, ids: Iterable[str]) -> bool:
    return all(i in consumer.committed_at for i in ids)


def stage_figures(events: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {"seconds": round(seconds, 4), "events_per_second": round(events / seconds, 1), **extra}


async def raw_producer_seconds(
    settings: ServiceSettings,
    messages: Sequence[tuple[str, bytes, bytes, list[tuple[str, bytes]]]],
    seconds: float = 300.0,
) -> float:
    """Kafka's own ceiling: (topic, key, value, headers) records, serialised beforehand, sent by
    a producer configured as the relay's (``new_producer``) and acknowledged; returns the
    seconds from the first send to the last acknowledgement."""
    producer = new_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(messages[0][0], value=b"{}", key=b"warm-up")
        start = time.perf_counter()
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers)
            for topic, key, value, headers in messages
        ]
        await asyncio.wait_for(asyncio.gather(*futures), seconds)
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()

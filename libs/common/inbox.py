"""Idempotent consumer: the inbox table and the consume loop with retries and a DLT, so a
redelivered event has no second effect (docs/architecture.md, "The inbox")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database
from libs.common.errors import is_database_outage
from libs.common.events import CloudEvent, dlt_topic, topic_for
from libs.common.kafka import ensure_topics, new_consumer, new_producer
from libs.common.observability import (
    CONSUMED,
    CONSUMER_LAG,
    DLT_SENT,
    correlation_id,
    describe_error,
)
from libs.common.settings import ServiceSettings
from libs.contracts import payload_model

log = logging.getLogger("ctip.inbox")

# ``(ctx, event, payload)``: the context is whatever the service's ``make_context`` builds from the
# transaction's session (``libs.common.context.context_factory``); the payload is the contract's
# model. Typed loosely here so that this module does not depend on the web layer.
Handler = Callable[[Any, CloudEvent, Any], Awaitable[None]]
ContextFactory = Callable[[AsyncSession], Any]


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("source", String(200), primary_key=True),
        Column("event_id", String(200), primary_key=True),
        Column("type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", String(30), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class PoisonMessage(Exception):
    """The record can never be handled (not a CloudEvent, or its payload breaks the contract)."""


class EventConsumer:
    def __init__(
        self,
        db: Database,
        inbox: Table,
        settings: ServiceSettings,
        handlers: Mapping[str, Handler],
        make_context: ContextFactory,
        *,
        group_id: str | None = None,
    ) -> None:
        self.db = db
        self.inbox = inbox
        self.settings = settings
        self.handlers = handlers
        self.make_context = make_context
        # Prefixed like the topics, so that runs side by side never share a consumer group.
        self.group_id = group_id or settings.topic(settings.service_name)
        self.topics = sorted({settings.topic(topic_for(t)) for t in handlers})
        self.max_attempts = settings.consumer_max_attempts
        self.retry_base = settings.consumer_retry_base_seconds
        self._stop = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[TopicPartition, int] = {}

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Consume until stopped, restarting from the committed offsets after any failure."""
        backoff = 0.5
        while not self._stop.is_set():
            try:
                await self._consume()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s restarting: %s", self.group_id, describe_error(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await self._close()

    async def _consume(self) -> None:
        await ensure_topics(self.settings, [*self.topics, *(dlt_topic(t) for t in self.topics)])
        self._consumer = new_consumer(self.settings, self.topics, self.group_id)
        self._producer = new_producer(self.settings)
        await self._consumer.start()
        await self._producer.start()
        log.info("consumer %s started on %s", self.group_id, self.topics)
        while not self._stop.is_set():
            batch = await self._consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                done: int | None = None
                for record in records:
                    if self._stop.is_set():
                        break
                    await self.process(record)
                    done = record.offset + 1
                if done is not None:
                    await self._commit(tp, done)
                    self._positions[tp] = done
            await self._learn_positions()
            self._record_lag()

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: offset})
        except CommitFailedError as exc:
            # A rebalance took the partition away; the new owner re-reads, the inbox dedupes.
            log.warning("commit failed for %s: %s", tp, describe_error(exc))

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Handle one record; returns the outcome (handled, duplicate, skipped, dead_lettered)."""
        try:
            event, payload = self._decode(record)
        except PoisonMessage as exc:
            await self._dead_letter(record, exc, attempts=1)
            return "dead_lettered"
        handler = self.handlers.get(event.short_type)
        if handler is None:
            CONSUMED.labels(self.settings.service_name, record.topic, "skipped").inc()
            return "skipped"
        token = correlation_id.set(event.correlationid)
        try:
            attempt = 0
            while True:
                try:
                    outcome = await self._handle_once(record, event, payload, handler)
                    CONSUMED.labels(self.settings.service_name, record.topic, outcome).inc()
                    return outcome
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_database_outage(exc):
                        log.warning(
                            "database unavailable, retrying %s: %s", event.id, describe_error(exc)
                        )
                        await asyncio.sleep(min(self.retry_base * 10, 5.0))
                        if self._stop.is_set():
                            raise
                        continue
                    attempt += 1
                    if attempt >= self.max_attempts:
                        await self._dead_letter(record, exc, attempts=attempt)
                        return "dead_lettered"
                    log.warning(
                        "handler failed (attempt %d) for %s: %s",
                        attempt,
                        event.id,
                        describe_error(exc),
                    )
                    await asyncio.sleep(self.retry_base * 2 ** (attempt - 1))
        finally:
            correlation_id.reset(token)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> tuple[CloudEvent, Any]:
        try:
            if record.value is None:
                raise ValueError("empty record")
            event = CloudEvent.from_json_bytes(record.value)
        except (ValueError, ValidationError) as exc:
            raise PoisonMessage(f"not a CloudEvent: {describe_error(exc)}") from exc
        model: type[BaseModel] | None = payload_model(event.short_type)
        if model is None:
            return event, event.data
        try:
            return event, model.model_validate(event.data)
        except ValidationError as exc:
            raise PoisonMessage(
                f"payload breaks the {event.short_type} contract: {describe_error(exc)}"
            ) from exc

    async def _handle_once(
        self,
        record: ConsumerRecord[bytes, bytes],
        event: CloudEvent,
        payload: Any,
        handler: Handler,
    ) -> str:
        async with self.db.sessions() as session, session.begin():
            inserted = await session.execute(
                insert(self.inbox)
                .values(
                    source=event.source,
                    event_id=event.id,
                    type=event.type,
                    topic=record.topic,
                    partition=record.partition,
                    offset=str(record.offset),
                )
                .on_conflict_do_nothing()
                .returning(self.inbox.c.event_id)
            )
            if inserted.first() is None:
                return "duplicate"
            await handler(self.make_context(session), event, payload)
        return "handled"

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], exc: BaseException, *, attempts: int
    ) -> None:
        assert self._producer is not None, "the DLT producer starts with the consumer"
        headers = [
            *(record.headers or ()),
            ("dlt-error-class", type(exc).__name__.encode()),
            # Types and locations only: a payload's values (names, phones) never go in a header.
            ("dlt-error-message", describe_error(exc)[:1000].encode()),
            ("dlt-consumer-group", self.group_id.encode()),
            ("dlt-attempts", str(attempts).encode()),
            ("dlt-original-topic", record.topic.encode()),
            ("dlt-original-partition", str(record.partition).encode()),
            ("dlt-original-offset", str(record.offset).encode()),
        ]
        try:
            await self._producer.send_and_wait(
                dlt_topic(record.topic), value=record.value, key=record.key, headers=headers
            )
        except KafkaError:
            log.error("could not dead-letter %s@%d; will retry", record.topic, record.offset)
            raise
        DLT_SENT.labels(self.settings.service_name, record.topic).inc()
        log.error(
            "dead-lettered %s@%d after %d attempt(s): %s",
            record.topic,
            record.offset,
            attempts,
            describe_error(exc),
        )

    async def _learn_positions(self) -> None:
        """Partitions not handled yet start from their committed offset, so the lag gauge shows
        a consumer stuck before its first record, not an absent series."""
        consumer = self._consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            if tp not in self._positions:
                self._positions[tp] = await consumer.committed(tp) or 0

    def _record_lag(self) -> None:
        """Lag = partition end (highwater) minus the next offset this consumer will handle."""
        consumer = self._consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            done = self._positions.get(tp)
            if high is None or done is None:
                continue
            CONSUMER_LAG.labels(self.settings.service_name, tp.topic, str(tp.partition)).set(
                max(high - done, 0)
            )

    async def _close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()
        self._consumer = self._producer = None

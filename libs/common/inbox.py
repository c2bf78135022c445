"""Idempotent consumer: the inbox table and the consume loop with retries and a DLT, so a
redelivered event has no second effect (docs/architecture.md, "The inbox")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, func, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Database
from libs.common.errors import is_database_outage, is_transaction_conflict
from libs.common.events import CloudEvent, dlt_topic, topic_for
from libs.common.inbox_batches import (
    Entry,
    Handler,
    HandlerFailed,
    Held,
    Holdback,
    Identity,
    first_occurrences,
)
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

__all__ = ["EventConsumer", "Handler", "PoisonMessage", "inbox_table"]
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
        self._insert_new = (
            insert(inbox).on_conflict_do_nothing().returning(inbox.c.source, inbox.c.event_id)
        )

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
            polled = await self._consumer.getmany(timeout_ms=500)
            records = [record for batch in polled.values() for record in batch]
            if records:
                await self.handle(records)
                offsets = {tp: batch[-1].offset + 1 for tp, batch in polled.items() if batch}
                await self._commit(offsets)
                self._positions.update(offsets)
            await self._learn_positions()
            self._record_lag()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """One commit for the whole poll, after its transaction: a crash before it redelivers
        the poll, and the inbox turns what was kept into duplicates."""
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            # A rebalance took a partition away; the new owner re-reads, the inbox dedupes.
            log.warning("commit failed for %s: %s", sorted(offsets), describe_error(exc))

    async def handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
        """Handle one poll's records; returns each one's outcome, in order (handled, duplicate,
        skipped, dead_lettered).

        The records that reach a handler share one transaction (``_handle_together``); one whose
        handler fails, and the later ones of its aggregate, are then handled alone
        (``_handle_alone``), with their own attempts and, if those run out, the DLT.
        """
        outcomes: dict[int, str] = {}
        entries: list[Entry] = []
        for position, record in enumerate(records):
            try:
                event, payload = self._decode(record)
            except PoisonMessage as exc:
                await self._dead_letter(record, exc, attempts=1)
                outcomes[position] = "dead_lettered"
                continue
            handler = self.handlers.get(event.short_type)
            if handler is None:
                outcomes[position] = "skipped"
                continue
            entries.append(Entry(position, record, event, payload, handler))
        held: list[Held] = [Held(entry) for entry in entries]
        if len(entries) > 1:
            held, together = await self._handle_together(entries)
            outcomes.update(together)
        for one in held:
            outcomes[one.entry.position] = await self._handle_alone(one)
        for position, outcome in outcomes.items():
            if outcome != "dead_lettered":
                CONSUMED.labels(self.settings.service_name, records[position].topic, outcome).inc()
        return [outcomes[position] for position in range(len(records))]

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

    async def _handle_together(self, entries: list[Entry]) -> tuple[list[Held], dict[int, str]]:
        """The batch's transaction: a first pass without savepoints (two round trips an event,
        two thirds of the batch's CPU); if a handler fails, it is rolled back and the batch runs
        again with one per handler, the failed event held back (its first attempt). Run again
        whole if the database is down (without limit) or after a deadlock or a serialization
        failure (up to the attempts of one event); any other failure of the batch as a whole
        (its commit, say) hands every entry to ``_handle_alone``."""
        conflicts = 0
        failed: dict[Identity, BaseException] | None = None
        while True:
            try:
                return await self._batch_transaction(entries, failed)
            except asyncio.CancelledError:
                raise
            except HandlerFailed as failure:
                entry, exc = failure.entry, failure.error
                log.warning(
                    "handler failed (attempt 1) for %s: %s", entry.event.id, describe_error(exc)
                )
                failed = {entry.identity: exc}
            except Exception as exc:
                if is_database_outage(exc):
                    await self._wait_out_outage(f"a batch of {len(entries)}", exc)
                    continue
                if is_transaction_conflict(exc) and conflicts + 1 < self.max_attempts:
                    conflicts += 1
                    log.warning("batch of %d retried: %s", len(entries), describe_error(exc))
                    await asyncio.sleep(self.retry_base * 2 ** (conflicts - 1))
                    continue
                log.warning(
                    "batch of %d failed, handling each event alone: %s",
                    len(entries),
                    describe_error(exc),
                )
                return [Held(entry) for entry in entries], {}

    async def _batch_transaction(
        self, entries: list[Entry], failed: dict[Identity, BaseException] | None
    ) -> tuple[list[Held], dict[int, str]]:
        """One inbox insert for the batch's events, the handlers (each in a savepoint of its own
        once ``failed`` names an event that failed), the inbox rows of the entries held back
        deleted again, one commit."""
        outcomes: dict[int, str] = {}
        holdback = Holdback()
        async with self.db.sessions() as session, session.begin():
            new = await self._insert_inbox(session, first_occurrences(entries))
            handled: set[Identity] = set()
            for entry in entries:
                if holdback.blocks(entry):
                    holdback.hold(entry)
                    continue
                if entry.identity in handled or entry.identity not in new:
                    outcomes[entry.position] = "duplicate"
                    continue
                if failed is not None and entry.identity in failed:
                    holdback.hold(entry, attempts=1, error=failed[entry.identity])
                    continue
                handled.add(entry.identity)
                try:
                    await self._run_handler(session, entry, savepoint=failed is not None)
                except Exception as exc:
                    if is_database_outage(exc) or is_transaction_conflict(exc):
                        raise  # the whole batch is rolled back and run again
                    if failed is None:
                        raise HandlerFailed(entry, exc) from exc
                    log.warning(
                        "handler failed (attempt 1) for %s: %s", entry.event.id, describe_error(exc)
                    )
                    holdback.hold(entry, attempts=1, error=exc)
                    continue
                outcomes[entry.position] = "handled"
            undo = holdback.identities() & new
            if undo:
                columns = tuple_(self.inbox.c.source, self.inbox.c.event_id)
                await session.execute(delete(self.inbox).where(columns.in_(sorted(undo))))
        return holdback.held, outcomes

    async def _insert_inbox(self, session: AsyncSession, entries: list[Entry]) -> set[Identity]:
        """One statement for the batch; returns the events it inserted, i.e. the new ones. With
        a list of parameters, the statement is compiled once (``.values([...])`` of the rows
        would be compiled afresh each batch, costing more than the rest of its work)."""
        inserted = await session.execute(self._insert_new, [entry.inbox_row() for entry in entries])
        return {(source, event_id) for source, event_id in inserted}

    async def _run_handler(self, session: AsyncSession, entry: Entry, *, savepoint: bool) -> None:
        """In a savepoint, a failing handler rolls back alone. The identity map is emptied
        first, so that no handler sees (or flushes) the objects of the one before."""
        session.expunge_all()
        token = correlation_id.set(entry.event.correlationid)
        try:
            if savepoint:
                async with session.begin_nested():
                    await entry.handler(self.make_context(session), entry.event, entry.payload)
            else:
                await entry.handler(self.make_context(session), entry.event, entry.payload)
                await session.flush()
        finally:
            correlation_id.reset(token)

    async def _handle_alone(self, held: Held) -> str:
        """One event, a transaction per attempt; after ``max_attempts`` failures, the DLT. An
        outage is not the event's fault: it is retried without counting."""
        entry, attempts, error = held.entry, held.attempts, held.error
        token = correlation_id.set(entry.event.correlationid)
        try:
            while True:
                if error is not None:
                    if attempts >= self.max_attempts:
                        await self._dead_letter(entry.record, error, attempts=attempts)
                        return "dead_lettered"
                    await asyncio.sleep(self.retry_base * 2 ** (attempts - 1))
                try:
                    return await self._handle_once(entry)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_database_outage(exc):
                        await self._wait_out_outage(entry.event.id, exc)
                        continue
                    attempts, error = attempts + 1, exc
                    log.warning(
                        "handler failed (attempt %d) for %s: %s",
                        attempts,
                        entry.event.id,
                        describe_error(exc),
                    )
        finally:
            correlation_id.reset(token)

    async def _wait_out_outage(self, what: str, exc: Exception) -> None:
        """Before ``what`` is tried again; a consumer being stopped gives up instead (nothing
        of it was committed, so the next owner of the partitions reads it again)."""
        log.warning("database unavailable, retrying %s: %s", what, describe_error(exc))
        await asyncio.sleep(min(self.retry_base * 10, 5.0))
        if self._stop.is_set():
            raise exc

    async def _handle_once(self, entry: Entry) -> str:
        async with self.db.sessions() as session, session.begin():
            new = await self._insert_inbox(session, [entry])
            if not new:
                return "duplicate"
            await entry.handler(self.make_context(session), entry.event, entry.payload)
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

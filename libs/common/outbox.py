"""Transactional outbox and its relay to Kafka: an event exists if and only if its change
committed (docs/architecture.md, "The outbox")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import EncryptedJSON
from libs.common.db import Database, asyncpg_dsn
from libs.common.events import (
    CloudEvent,
    document_bytes,
    document_headers,
    event_type,
    topic_for,
)
from libs.common.ids import new_id
from libs.common.kafka import new_producer
from libs.common.observability import (
    OUTBOX_LAG,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
    correlation_id,
    describe_error,
)
from libs.common.outbox_lag import outbox_lag
from libs.common.settings import ServiceSettings
from libs.contracts import payload_model

log = logging.getLogger("ctip.outbox")


def outbox_table(metadata: MetaData) -> Table:
    table = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", PG_UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("type", String(200), nullable=False),
        # Encrypted: events carry the minimum personal data their consumers need.
        Column("event", EncryptedJSON(f"{metadata.schema}.outbox.event"), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )
    Index(
        "ix_outbox_unpublished",
        table.c.seq,
        postgresql_where=table.c.published_at.is_(None),
    )
    Index("ix_outbox_published_at", table.c.published_at)
    return table


def notify_trigger_ddl(schema: str) -> list[str]:
    """A statement-level trigger that wakes the relay when outbox rows are inserted.

    PostgreSQL delivers a transaction's NOTIFYs at commit and folds identical ones into one, so a
    writer pays no round trip for it and a transaction adding many events sends one wake-up.
    Each service's migration runs these statements (``downgrade`` runs
    ``drop_notify_trigger_ddl``).
    """
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{outbox_channel(schema)}', '');
                RETURN NULL;
            END
            $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


def drop_notify_trigger_ddl(schema: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox",
        f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()",
    ]


def outbox_channel(schema: str) -> str:
    return f"ctip_outbox_{schema}"


class Outbox:
    """The outbox of one service: ``add`` an event inside the caller's transaction."""

    INSERT_COLUMNS = ("id", "topic", "key", "type", "event")

    def __init__(self, metadata: MetaData, service: str) -> None:
        self.service = service
        self.schema = metadata.schema or service
        self.table = outbox_table(metadata)
        self.channel = outbox_channel(self.schema)

    async def add(
        self,
        session: AsyncSession,
        short_type: str,
        subject: UUID | str,
        data: BaseModel | dict[str, Any],
    ) -> CloudEvent:
        """Validate the payload against its contract and write the event row (no commit)."""
        event, row = self.event_row(short_type, subject, data)
        await session.execute(self.table.insert().values(**row))
        # The relay is woken by the table's NOTIFY trigger (``notify_trigger_ddl``), at commit.
        return event

    def event_row(
        self, short_type: str, subject: UUID | str, data: BaseModel | dict[str, Any]
    ) -> tuple[CloudEvent, dict[str, Any]]:
        """The event and its outbox row, for callers that write the row themselves
        (``INSERT_COLUMNS`` of ``self.table``; see ``libs.common.db.InsertTogether``)."""
        model = payload_model(short_type)
        if isinstance(data, BaseModel) and (model is None or isinstance(data, model)):
            payload = data.model_dump(mode="json")
        else:
            raw = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)
            payload = raw if model is None else model.model_validate(raw).model_dump(mode="json")
        event_id = new_id()
        event = CloudEvent(
            id=str(event_id),
            source=f"/ctip/{self.service}",
            type=event_type(short_type),
            subject=str(subject),
            correlationid=correlation_id.get(),
            data=payload,
        )
        return event, {
            "id": event_id,
            "topic": topic_for(short_type),
            "key": str(subject),
            "type": event.type,
            "event": event.model_dump(mode="json", exclude_none=True),
        }


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        settings: ServiceSettings,
        *,
        use_notify: bool | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.settings = settings
        self.use_notify = settings.relay_use_notify if use_notify is None else use_notify
        self.poll_seconds = settings.relay_poll_seconds if poll_seconds is None else poll_seconds
        self.batch_size = settings.relay_batch_size
        self.linger_seconds = settings.relay_linger_seconds
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._listen_conn: asyncpg.Connection | None = None
        self._lock_conn: asyncpg.Connection | None = None
        self._last_prune = 0.0
        self._last_metrics = 0.0
        self.lock_key = zlib.crc32(f"ctip-relay:{outbox.schema}".encode())
        # One statement per batch whatever its size: the claimed seqs travel as one array.
        table = outbox.table
        seqs = any_(bindparam("seqs", type_=ARRAY(BigInteger)))
        self._mark_published = (
            update(table)
            .where(table.c.seq == seqs)
            .values(published_at=func.now(), attempts=table.c.attempts + 1)
        )
        self._mark_failed = (
            update(table)
            .where(table.c.seq == seqs)
            .values(attempts=table.c.attempts + 1, last_error=bindparam("error"))
        )

    async def run(self) -> None:
        """Publish until stopped; every failure is logged and retried with backoff."""
        backoff = 0.5
        while not self._stop.is_set():
            try:
                await self._run_as_leader()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "relay error, retrying: %s",
                    describe_error(exc),
                    extra={"relay": self.outbox.schema},
                )
                await self._close_producer()
                await self._close_connections()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(backoff * 2, 10.0)
        await self._close_producer()
        await self._close_connections()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def _run_as_leader(self) -> None:
        dsn = asyncpg_dsn(self.settings.database_url)
        self._lock_conn = await asyncpg.connect(dsn)
        while not await self._lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2.0)
            if self._stop.is_set():
                return
        if self.use_notify:
            self._listen_conn = await asyncpg.connect(dsn)
            await self._listen_conn.add_listener(self.outbox.channel, self._on_notify)
        while not self._stop.is_set():
            # Cleared before the round: a NOTIFY arriving during it wakes the next one at once.
            self._wake.clear()
            published = await self.publish_round()
            await self._maybe_housekeep()
            if published >= self.batch_size:
                continue  # a backlog: the next batch at once
            if published and self.linger_seconds:
                # A stream: let a few more rows come so that the next round, with its claim,
                # acknowledgements, update and commit, carries several (the first row after a
                # quiet spell never waits: its NOTIFY starts a round at once).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.linger_seconds)
                continue
            if published:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _producer_ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(self.settings)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def publish_round(self) -> int:
        """Claim, send and mark one batch; returns how many rows were published."""
        table = self.outbox.table
        claimed: list[int] = []
        try:
            async with self.db.sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(table.c.seq, table.c.topic, table.c.key, table.c.event)
                        .where(table.c.published_at.is_(None))
                        .order_by(table.c.seq)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                if not rows:
                    return 0
                claimed = [r.seq for r in rows]
                producer = await self._producer_ready()
                topic = self.settings.topic
                # The stored document is the event as validated when it was written: sent as
                # it is, without building the model again.
                futures = [
                    await producer.send(
                        topic(row.topic),
                        value=document_bytes(row.event),
                        key=row.key.encode(),
                        headers=document_headers(row.event),
                    )
                    for row in rows
                ]
                await asyncio.gather(*futures)
                await session.execute(self._mark_published, {"seqs": claimed})
        except Exception as exc:
            # The rollback has returned every claimed row to the queue; note why, then retry.
            if claimed:
                await self._record_failure(claimed, exc)
            raise
        OUTBOX_PUBLISHED.labels(self.outbox.service).inc(len(claimed))
        return len(claimed)

    async def _record_failure(self, seqs: list[int], exc: Exception) -> None:
        with contextlib.suppress(Exception):
            async with self.db.sessions() as session, session.begin():
                await session.execute(
                    self._mark_failed, {"seqs": seqs, "error": describe_error(exc)[:500]}
                )

    async def _update_lag_metrics(self, session: AsyncSession) -> None:
        """From bounded walks of the relay's index (``libs.common.outbox_lag``): the cost of a
        report does not grow with the backlog the relay is draining."""
        lag = await outbox_lag(session, self.outbox.table)
        OUTBOX_PENDING.labels(self.outbox.service).set(lag.pending)
        OUTBOX_LAG.labels(self.outbox.service).set(lag.age_seconds())

    async def _maybe_housekeep(self) -> None:
        """Lag metrics every few seconds (not every round: the count grows with the backlog),
        pruning of published rows every five minutes."""
        now = time.monotonic()
        if now - self._last_metrics >= 5:
            self._last_metrics = now
            async with self.db.sessions() as session:
                await self._update_lag_metrics(session)
        if now - self._last_prune < 300:
            return
        self._last_prune = now
        cutoff = datetime.now(UTC) - timedelta(hours=self.settings.outbox_retention_hours)
        table = self.outbox.table
        async with self.db.sessions() as session, session.begin():
            await session.execute(delete(table).where(table.c.published_at < cutoff))

    async def _close_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
            self._producer = None

    async def _close_connections(self) -> None:
        for conn in (self._listen_conn, self._lock_conn):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
        self._listen_conn = self._lock_conn = None

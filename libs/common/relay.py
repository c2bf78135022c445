"""The outbox relay: publishes each service's outbox rows to Kafka, in order, at least once
(docs/architecture.md, "The outbox")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaProducer
from pydantic_core import from_json
from sqlalchemy import BigInteger, Text, any_, bindparam, delete, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import EncryptedJSON, cipher
from libs.common.db import Database, asyncpg_dsn
from libs.common.events import document_bytes, document_headers
from libs.common.kafka import new_producer
from libs.common.observability import OUTBOX_LAG, OUTBOX_PENDING, OUTBOX_PUBLISHED, describe_error
from libs.common.outbox import Outbox
from libs.common.outbox_lag import outbox_lag
from libs.common.settings import ServiceSettings

log = logging.getLogger("ctip.outbox")


@dataclass
class _Batch:
    """Claimed rows, locked by their open transaction until they are marked or rolled back,
    and the producer's acknowledgements of their records."""

    session: AsyncSession
    seqs: list[int]
    acks: list[asyncio.Future[Any]]


async def _close(session: AsyncSession) -> None:
    """Close (and so roll back) a failed batch's session without hiding why it failed."""
    with contextlib.suppress(Exception):
        await session.close()


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
        self._event_context = cast(EncryptedJSON, table.c.event.type).context
        seqs = any_(bindparam("seqs", type_=ARRAY(BigInteger)))
        # The event as stored (sealed): decrypted and parsed here, by jiter rather than json.
        self._claim = (
            select(
                table.c.seq,
                table.c.topic,
                table.c.key,
                type_coerce(table.c.event, Text).label("sealed"),
            )
            .where(table.c.published_at.is_(None))
            .order_by(table.c.seq)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
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
                continue  # a backlog was drained: what came meanwhile, at once
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
        """Publish batch after batch until one comes back short; returns how many rows were
        published.

        Pipelined: batch N+1 is claimed and handed to the producer while batch N waits for its
        acknowledgements and its ``UPDATE``, so that the broker's and the database's round trips
        overlap the next batch's work. Kafka keeps the order of sends per partition, and
        batches are sent in ``seq`` order, so per-aggregate order holds. A row is marked only
        after Kafka acknowledged it, batches strictly in order: when batch N fails, batch N+1 is
        rolled back unmarked too (whatever Kafka acknowledged of it is sent again, after N; the
        inbox drops the duplicates).
        """
        published = 0
        in_flight: asyncio.Task[int] | None = None
        try:
            while True:
                batch = None if self._stop.is_set() else await self._claim_and_send()
                if in_flight is not None:
                    finishing, in_flight = in_flight, None
                    try:
                        published += await finishing
                    except BaseException:
                        if batch is not None:
                            await self._abandon(batch)
                        raise
                if batch is None:
                    return published
                if len(batch.seqs) < self.batch_size:
                    return published + await self._finish(batch)
                in_flight = asyncio.create_task(self._finish(batch))
                await self._maybe_housekeep()  # lag figures while a backlog drains
        except BaseException as exc:
            if in_flight is not None:  # the next claim failed: let the batch sent finish
                if isinstance(exc, asyncio.CancelledError):
                    in_flight.cancel()
                with contextlib.suppress(BaseException):
                    await in_flight
            raise

    async def _claim_and_send(self) -> _Batch | None:
        """Lock the next rows (``SKIP LOCKED`` passes over those of a batch in flight) and hand
        each to the producer, its stored document as it is (validated when it was written)."""
        session = self.db.sessions()
        seqs: list[int] = []
        try:
            await session.begin()
            rows = (await session.execute(self._claim)).all()
            if not rows:
                await session.close()
                return None
            seqs = [row.seq for row in rows]
            producer = await self._producer_ready()
            topic, unseal, context = self.settings.topic, cipher().decrypt, self._event_context
            acks = []
            for row in rows:
                document = from_json(unseal(row.sealed, context))
                acks.append(
                    await producer.send(
                        topic(row.topic),
                        value=document_bytes(document),
                        key=row.key.encode(),
                        headers=document_headers(document),
                    )
                )
        except BaseException as exc:
            await _close(session)  # rolled back: the rows are back in the queue
            if seqs and isinstance(exc, Exception):
                await self._record_failure(seqs, exc)
            raise
        return _Batch(session, seqs, acks)

    async def _finish(self, batch: _Batch) -> int:
        """Wait for every acknowledgement of the batch, then mark it in its transaction."""
        try:
            outcomes = await asyncio.gather(*batch.acks, return_exceptions=True)
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None:
                raise failure
            await batch.session.execute(self._mark_published, {"seqs": batch.seqs})
            await batch.session.commit()
        except BaseException as exc:
            await _close(batch.session)
            if isinstance(exc, Exception):
                await self._record_failure(batch.seqs, exc)
            raise
        await batch.session.close()
        OUTBOX_PUBLISHED.labels(self.outbox.service).inc(len(batch.seqs))
        return len(batch.seqs)

    async def _abandon(self, batch: _Batch) -> None:
        """A batch behind a failed one: its records settled, then rolled back unmarked."""
        await asyncio.gather(*batch.acks, return_exceptions=True)
        await _close(batch.session)

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

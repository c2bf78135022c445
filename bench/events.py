"""Event pipeline benchmark: outbox -> relay -> Kafka -> inbox consumer, against a raw producer.

``uv run python -m bench.events [--events 2000] [--rate 200] [--throughput-events 20000]
[--relay-linger SECONDS]``

1. Latency: events written one per transaction at a fixed rate through intake's outbox; from
   the moment the writer's commit returns to the moment casework's consumer has committed the
   Kafka offset covering the event. Once with the relay woken by LISTEN/NOTIFY, once with a
   relay that only polls every second.
2. Throughput: a backlog of outbox rows drained by the relay, against a raw idempotent
   producer sending the same CloudEvents; the ratio is the price of the outbox. Then casework's
   inbox consumer reads the published backlog, for the other end of the pipeline, against a raw
   aiokafka consumer group reading the same records.

Everything runs in one process and one event loop, as the relay and consumers do inside a
service. The database is ``CTIP_BENCH_DATABASE_URL`` (default: the dev database); the Kafka
topics carry a prefix unique to the run. The rows the bench wrote are deleted afterwards, and
its topics too unless ``--keep-topics``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import delete, func, select

from bench.report import latency_summary, machine_info, render, write_json
from bench.support import (
    TIP_RECEIVED,
    BenchError,
    StampingConsumer,
    StampingRelay,
    chunks,
    delete_topics,
    inbox,
    outbox,
    raw_producer_seconds,
    raw_read,
    stage_figures,
    stamped,
    tip_payload,
    wait_until,
)
from libs.common.crypto import FieldCipher, configure_cipher
from libs.common.db import Database, asyncpg_dsn
from libs.common.events import CloudEvent, dlt_topic, kafka_headers, topic_for
from libs.common.inbox import EventConsumer
from libs.common.kafka import ensure_topics
from libs.common.migrations import upgrade
from libs.common.relay import OutboxRelay
from services.casework.settings import CaseworkSettings
from services.intake.settings import IntakeSettings

DEFAULT_DATABASE_URL = "postgresql+asyncpg://ctip:ctip@127.0.0.1:5432/ctip"
INTAKE_SOURCE = "/ctip/intake"
INSERT_CHUNK = 1000
WARM_UP_TIMEOUT = 60.0
DRAIN_TIMEOUT = 60.0
THROUGHPUT_TIMEOUT = 300.0
STOP_TIMEOUT = 30.0

log = logging.getLogger("bench.events")


class Bench:
    """One run: its settings and topics, its database pools, and every row it wrote."""

    def __init__(
        self, database_url: str, keep_topics: bool, relay_linger: float | None = None
    ) -> None:
        self.prefix = f"bench{uuid.uuid4().hex[:10]}."
        common: dict[str, Any] = {
            "database_url": database_url,
            "topic_prefix": self.prefix,
            "environment": "test",
            "log_level": "WARNING",
        }
        if relay_linger is not None:
            common["relay_linger_seconds"] = relay_linger
        self.intake = IntakeSettings(**common)
        self.casework = CaseworkSettings(**common)
        # Outbox events are encrypted at rest, as the services do at start.
        configure_cipher(FieldCipher.from_spec(self.intake.field_keys.get_secret_value()))
        # The backlog gets topics of its own, so its consumer reads nothing but the backlog.
        backlog = {**common, "topic_prefix": f"{self.prefix}backlog."}
        self.intake_backlog = IntakeSettings(**backlog)
        self.casework_backlog = CaseworkSettings(**backlog)
        self.keep_topics = keep_topics
        self.intake_db = Database(database_url, application_name="ctip-bench-intake")
        self.casework_db = Database(database_url, application_name="ctip-bench-casework")
        self.probe_db = Database(database_url, pool_size=2, application_name="ctip-bench")
        self.outbox_ids: list[uuid.UUID] = []
        self.inbox_ids: list[str] = []
        self.relay_lock_key = OutboxRelay(self.intake_db, outbox, self.intake).lock_key
        self.tip_topic = self.intake.topic(topic_for(TIP_RECEIVED))
        self.backlog_topic = self.intake_backlog.topic(topic_for(TIP_RECEIVED))
        self.raw_topic = self.intake.topic("bench.raw.v1")

    async def check_database_is_quiet(self) -> str:
        """Refuse to run where a relay would publish someone else's events to the bench topics."""
        conn = await asyncpg.connect(asyncpg_dsn(self.intake.database_url))
        try:
            version = str(await conn.fetchval("SHOW server_version"))
            pending = await conn.fetchval(
                "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL"
            )
            if pending:
                raise BenchError(
                    f"intake.outbox holds {pending} unpublished row(s) that are not the bench's: "
                    "the bench relay would publish them to its own topics. Let the service's "
                    "relay drain them, or set CTIP_BENCH_DATABASE_URL to another database."
                )
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.relay_lock_key):
                raise BenchError(
                    "another intake relay holds the relay lock on this database (is `make run` "
                    "up?): stop it or set CTIP_BENCH_DATABASE_URL to another database."
                )
            await conn.fetchval("SELECT pg_advisory_unlock($1)", self.relay_lock_key)
        finally:
            await conn.close()
        return version

    async def create_topics(self) -> None:
        """Up front, so no client races the consumer's own ``ensure_topics`` to create them."""
        tips = [self.tip_topic, self.backlog_topic]
        await ensure_topics(self.intake, [*tips, *map(dlt_topic, tips), self.raw_topic])

    async def write_event(self) -> tuple[str, float]:
        """One event, one transaction; returns its id and the time the commit returned."""
        subject = uuid.uuid4()
        async with self.intake_db.sessions() as session, session.begin():
            event = await outbox.add(session, TIP_RECEIVED, subject, tip_payload(subject))
        committed = time.perf_counter()
        self.outbox_ids.append(uuid.UUID(event.id))
        self.inbox_ids.append(event.id)
        return event.id, committed

    async def stop(self, runner: OutboxRelay | EventConsumer, task: asyncio.Task[None]) -> None:
        runner.stop()
        try:
            await asyncio.wait_for(task, STOP_TIMEOUT)
        except TimeoutError:
            log.warning(
                "%s did not stop within %.0f s; cancelled", type(runner).__name__, STOP_TIMEOUT
            )

    # -- 1. latency ------------------------------------------------------------------------

    async def latency(self, events: int, rate: float) -> dict[str, Any]:
        consumer = StampingConsumer(
            self.casework_db, self.casework, group_id=f"{self.prefix}casework-latency"
        )
        consumer_task = asyncio.create_task(consumer.run())
        try:
            return {
                "notify": await self._latency_run(consumer, events, rate, use_notify=True),
                "poll 1s": await self._latency_run(consumer, events, rate, use_notify=False),
            }
        finally:
            await self.stop(consumer, consumer_task)

    async def _latency_run(
        self, consumer: StampingConsumer, events: int, rate: float, *, use_notify: bool
    ) -> dict[str, Any]:
        relay = StampingRelay(
            self.intake_db, outbox, self.intake, use_notify=use_notify, poll_seconds=1.0
        )
        relay_task = asyncio.create_task(relay.run())
        try:
            # The first event waits for the group to join and every client to connect.
            warm_up_id, _ = await self.write_event()
            await wait_until(
                lambda: stamped(consumer, [warm_up_id]),
                seconds=WARM_UP_TIMEOUT,
                interval=0.05,
                what="the warm-up event to reach the consumer",
            )
            committed: dict[str, float] = {}
            cpu_start, start = time.process_time(), time.perf_counter()
            for n in range(events):
                delay = start + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                event_id, t0 = await self.write_event()
                committed[event_id] = t0
            write_seconds = time.perf_counter() - start
            cpu_seconds = time.process_time() - cpu_start
            with contextlib.suppress(BenchError):
                await wait_until(
                    lambda: stamped(consumer, committed),
                    seconds=DRAIN_TIMEOUT,
                    interval=0.02,
                    what="the consumer to commit every event",
                )
        finally:
            await self.stop(relay, relay_task)
        sent, acked = relay.sent_at, relay.acked_at
        fetched, handled, done_at = consumer.fetched_at, consumer.handled_at, consumer.committed_at
        stamps = (sent, acked, fetched, handled, done_at)
        done = [i for i in committed if all(i in stamp for stamp in stamps)]
        latencies = [done_at[i] - committed[i] for i in done]
        missing = len(committed) - len(done)
        if missing:
            log.warning(
                "%d event(s) never reached the consumer within %.0f s", missing, DRAIN_TIMEOUT
            )
        return {
            "use_notify": use_notify,
            "poll_seconds": 1.0,
            "events": events,
            "missing": missing,
            "relay_linger_seconds": relay.linger_seconds,
            "achieved_rate": events / write_seconds if write_seconds else 0.0,
            "process_cpu_percent": round(100 * cpu_seconds / write_seconds, 1),
            "summary": latency_summary(latencies),
            "stages": {
                name: latency_summary([end[i] - start[i] for i in done])
                for name, start, end in (
                    ("commit -> acked by Kafka", committed, acked),
                    ("  commit -> sent by the relay", committed, sent),
                    ("  sent -> acked by Kafka", sent, acked),
                    ("acked -> fetched by consumer", acked, fetched),
                    ("fetched -> offset committed", fetched, done_at),
                    ("  fetched -> inbox committed", fetched, handled),
                    ("  inbox committed -> offset committed", handled, done_at),
                )
            },
        }

    # -- 2. throughput ---------------------------------------------------------------------

    async def throughput(self, events: int) -> dict[str, Any]:
        ids, insert_seconds = await self._insert_backlog(events)
        lo, hi = await self._seq_range(ids)
        relay = OutboxRelay(self.intake_db, outbox, self.intake_backlog, use_notify=True)
        producer = await relay._producer_ready()  # connected before the clock starts, like raw
        await producer.partitions_for(self.backlog_topic)
        start = time.perf_counter()
        relay_task = asyncio.create_task(relay.run())
        try:
            await wait_until(
                lambda: self._none_pending(lo, hi),
                seconds=THROUGHPUT_TIMEOUT,
                interval=0.02,
                what=f"the relay to publish {events} rows",
            )
            relay_seconds = time.perf_counter() - start
        finally:
            await self.stop(relay, relay_task)
        raw_seconds = await self._raw_producer(ids)
        consumer_seconds, polls = await self._consume_backlog(ids)
        raw_consumer_seconds = await raw_read(
            self.casework_backlog,
            self.backlog_topic,
            events,
            group_id=f"{self.prefix}raw-consumer",
            commit=True,
        )
        relay_rate, raw_rate = events / relay_seconds, events / raw_seconds
        return {
            "events": events,
            "insert": stage_figures(events, insert_seconds, per_transaction=INSERT_CHUNK),
            "relay": {**stage_figures(events, relay_seconds), "batch_size": relay.batch_size},
            "raw": stage_figures(events, raw_seconds),
            "ratio_relay_to_raw": relay_rate / raw_rate,
            "consumer": {
                **stage_figures(events, consumer_seconds),
                "ratio_to_raw": raw_consumer_seconds / consumer_seconds,
                "records_per_poll": round(sum(polls) / len(polls), 1) if polls else 0.0,
            },
            "raw_consumer": stage_figures(events, raw_consumer_seconds),
        }

    async def _consume_backlog(self, ids: list[uuid.UUID]) -> tuple[float, list[int]]:
        """Casework's inbox consumer on the published backlog: first fetch to last commit, and
        the number of records of each poll."""
        consumer = StampingConsumer(
            self.casework_db, self.casework_backlog, group_id=f"{self.prefix}casework-backlog"
        )
        event_ids = [str(i) for i in ids]
        self.inbox_ids.extend(event_ids)
        task = asyncio.create_task(consumer.run())
        try:
            await wait_until(
                lambda: stamped(consumer, event_ids),
                seconds=THROUGHPUT_TIMEOUT,
                interval=0.1,
                what=f"the consumer to handle {len(ids)} events",
            )
        finally:
            await self.stop(consumer, task)
        seconds = max(consumer.committed_at.values()) - min(consumer.fetched_at.values())
        return seconds, consumer.polls

    async def _insert_backlog(self, events: int) -> tuple[list[uuid.UUID], float]:
        ids: list[uuid.UUID] = []
        start = time.perf_counter()
        for first in range(0, events, INSERT_CHUNK):
            async with self.intake_db.sessions() as session, session.begin():
                for _ in range(min(INSERT_CHUNK, events - first)):
                    subject = uuid.uuid4()
                    event = await outbox.add(session, TIP_RECEIVED, subject, tip_payload(subject))
                    ids.append(uuid.UUID(event.id))
            self.outbox_ids.extend(ids[first:])
        return ids, time.perf_counter() - start

    async def _seq_range(self, ids: list[uuid.UUID]) -> tuple[int, int]:
        table = outbox.table
        lo, hi = None, None
        async with self.probe_db.sessions() as session:
            for chunk in chunks(ids):
                low, high = (
                    await session.execute(
                        select(func.min(table.c.seq), func.max(table.c.seq)).where(
                            table.c.id.in_(chunk)
                        )
                    )
                ).one()
                lo = low if lo is None else min(lo, low)
                hi = high if hi is None else max(hi, high)
        assert lo is not None and hi is not None
        return int(lo), int(hi)

    async def _none_pending(self, lo: int, hi: int) -> bool:
        """Is any row of ours still unpublished? The first one found through the relay's partial
        index answers: a probe every 20 ms that counted the whole backlog would load the
        database the relay is measured on."""
        table = outbox.table
        async with self.probe_db.sessions() as session:
            first = (
                await session.execute(
                    select(table.c.seq)
                    .where(table.c.published_at.is_(None), table.c.seq.between(lo, hi))
                    .limit(1)
                )
            ).first()
        return first is None

    async def _raw_producer(self, ids: list[uuid.UUID]) -> float:
        """The same CloudEvents, keys and headers, serialised beforehand: Kafka's own ceiling."""
        table = outbox.table
        messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        async with self.probe_db.sessions() as session:
            for chunk in chunks(ids):
                rows = await session.execute(
                    select(table.c.key, table.c.event)
                    .where(table.c.id.in_(chunk))
                    .order_by(table.c.seq)
                )
                for key, raw in rows:
                    event = CloudEvent.model_validate(raw)
                    messages.append((key.encode(), event.to_json_bytes(), kafka_headers(event)))
        return await raw_producer_seconds(
            self.intake, [(self.raw_topic, k, v, h) for k, v, h in messages], THROUGHPUT_TIMEOUT
        )

    # -- cleanup ---------------------------------------------------------------------------

    async def clean_up(self) -> None:
        """Best effort, each step bounded: a failed run must not hang here or hide its error."""
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                async with self.probe_db.sessions() as session, session.begin():
                    for ids in chunks(self.outbox_ids):
                        await session.execute(
                            delete(outbox.table).where(outbox.table.c.id.in_(ids))
                        )
                    for event_ids in chunks(self.inbox_ids):
                        await session.execute(
                            delete(inbox).where(
                                inbox.c.source == INTAKE_SOURCE, inbox.c.event_id.in_(event_ids)
                            )
                        )
        except Exception as exc:
            log.warning("could not delete the bench's outbox and inbox rows: %r", exc)
        if not self.keep_topics:
            try:
                await asyncio.wait_for(
                    delete_topics(self.intake.kafka_bootstrap, self.prefix), STOP_TIMEOUT
                )
            except Exception as exc:
                log.warning("could not delete the topics %s*: %r", self.prefix, exc)
        for db in (self.intake_db, self.casework_db, self.probe_db):
            await db.dispose()


async def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    bench = Bench(database_url, keep_topics=args.keep_topics, relay_linger=args.relay_linger)
    results: dict[str, Any] = {"topic_prefix": bench.prefix}
    try:
        results["postgresql_version"] = await bench.check_database_is_quiet()
        await bench.create_topics()
        print(f"latency: {args.events} events at {args.rate:g}/s, NOTIFY then 1 s polling ...")
        results["latency"] = await bench.latency(args.events, args.rate)
        print(
            f"throughput: {args.throughput_events} outbox rows, relay then raw producer, "
            "inbox consumer then raw consumer ..."
        )
        results["throughput"] = await bench.throughput(args.throughput_events)
    finally:
        await bench.clean_up()
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.events", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=2000, help="events per latency run")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second written")
    parser.add_argument(
        "--throughput-events", type=int, default=20000, help="outbox rows for the throughput run"
    )
    parser.add_argument(
        "--relay-linger",
        type=float,
        default=None,
        help="seconds the relay waits after a partial batch (default: the setting, 0.01)",
    )
    parser.add_argument(
        "--keep-topics", action="store_true", help="leave the run's Kafka topics in place"
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.rate <= 0 or args.throughput_events < 1:
        parser.error("--events, --rate and --throughput-events must be positive")
    if args.relay_linger is not None and not 0 <= args.relay_linger <= 1:
        parser.error("--relay-linger must be between 0 and 1 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    database_url = os.environ.get("CTIP_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    clock = time.perf_counter()
    try:
        # Alembic runs its own event loop, so the schemas are migrated before ours starts.
        for service in ("intake", "casework"):
            upgrade(service, database_url)
        results = asyncio.run(run(args, database_url))
    except BenchError as exc:
        print(f"bench failed: {exc}")
        return 1
    except (OSError, KafkaConnectionError) as exc:
        print(f"bench failed: {exc!r}\nis the local stack up? `deploy/local/stack.sh status`")
        return 1
    result = {
        "benchmark": "events",
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - clock, 1),
        "machine": machine_info(results.pop("postgresql_version"), load_before),
        "parameters": {
            "events": args.events,
            "rate": args.rate,
            "throughput_events": args.throughput_events,
            "relay_linger": args.relay_linger,
            "insert_chunk": INSERT_CHUNK,
            "database": database_url.rsplit("@", 1)[-1],
            "topic_prefix": results.pop("topic_prefix"),
        },
        **results,
    }
    print()
    print(render(result))
    print(f"\nJSON: {write_json(result, started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

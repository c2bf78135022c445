"""Draining a backlog: the outbox relay after a Kafka outage, and the lag query it reports.

``uv run python -m bench.drain [--sizes 25000,50000,100000] [--repeat 15] [--batch-size N]
[--profile PATH]``

For each size N, in a private database (``template0``, intake migrated, dropped at the end) and
on Kafka topics of the run's own prefix (deleted at the end):

1. The outage: N events are written through intake's outbox (``Outbox.event_row``, 1,000 rows a
   transaction) while no relay runs, as they pile up while the broker is unreachable.
2. The lag query at that backlog, ``--repeat`` times each, with ``EXPLAIN (ANALYZE, BUFFERS)``:
   the relay's report as it was (``count(*)`` and ``min(created_at)`` over every unpublished
   row) against ``libs.common.outbox_lag`` (the head of the relay's partial index, a count
   capped at 10,000, the ``seq`` span).
3. Kafka is back: intake's ``OutboxRelay`` starts (its producer connected beforehand) and the
   clock runs until no row is unpublished. Linear means t(N) / t(smallest) = N / smallest.
4. The baseline: a raw idempotent ``AIOKafkaProducer`` (``libs.common.kafka.new_producer``, as the
   relay's) sending the same N records, serialised beforehand; ``ratio_relay_to_raw`` as in
   ``bench.events``.

Between sizes the outbox is emptied and vacuumed, so each size starts from the same state.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import func, select, text

from bench.common import (
    compiled_sql,
    explain_analyze,
    header,
    plan_summary,
    run_in_private_database,
)
from bench.report import _table as table
from bench.support import (
    TIP_RECEIVED,
    delete_topics,
    outbox,
    raw_producer_seconds,
    stage_figures,
    tip_payload,
    wait_until,
)
from libs.common.crypto import FieldCipher, configure_cipher
from libs.common.db import Database
from libs.common.events import document_bytes, document_headers, topic_for
from libs.common.kafka import ensure_topics
from libs.common.outbox_lag import lag_query, outbox_lag
from libs.common.relay import OutboxRelay
from services.intake.settings import IntakeSettings

DEFAULT_SIZES = (25_000, 50_000, 100_000)
INSERT_CHUNK = 1000
DRAIN_TIMEOUT = 900.0


def previous_lag_query() -> Any:
    """The relay's report before ``libs.common.outbox_lag``: a walk of the whole backlog."""
    table = outbox.table
    return select(func.count(), func.min(table.c.created_at)).where(table.c.published_at.is_(None))


async def fill(db: Database, events: int) -> float:
    """``events`` outbox rows as intake writes them, 1,000 a transaction; returns the seconds."""
    start = time.perf_counter()
    for first in range(0, events, INSERT_CHUNK):
        rows = []
        for _ in range(min(INSERT_CHUNK, events - first)):
            subject = uuid.uuid4()
            rows.append(outbox.event_row(TIP_RECEIVED, subject, tip_payload(subject))[1])
        async with db.sessions() as session, session.begin():
            await session.execute(outbox.table.insert(), rows)
    return time.perf_counter() - start


async def time_query(conn: asyncpg.Connection, statement: Any, repeat: int) -> dict[str, Any]:
    """Median and spread of ``repeat`` runs over asyncpg (prepared once), and the plan."""
    sql, params = compiled_sql(statement)
    prepared = await conn.prepare(sql)
    await prepared.fetch(*params)  # warm: the plan and the pages
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await prepared.fetch(*params)
        times.append(1000 * (time.perf_counter() - start))
    plan = await explain_analyze(conn, sql, params)
    return {
        "median_ms": round(statistics.median(times), 3),
        "min_ms": round(min(times), 3),
        "max_ms": round(max(times), 3),
        "plan_summary": plan_summary(plan),
        "plan": plan,
    }


async def outbox_messages(db: Database) -> list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
    """Every unpublished row as the relay would send it: (topic, key, value, headers)."""
    table = outbox.table
    async with db.sessions() as session:
        rows = await session.execute(
            select(table.c.topic, table.c.key, table.c.event)
            .where(table.c.published_at.is_(None))
            .order_by(table.c.seq)
        )
        return [
            (topic, key.encode(), document_bytes(event), document_headers(event))
            for topic, key, event in rows
        ]


async def drained(db: Database) -> bool:
    async with db.sessions() as session:
        return (await outbox_lag(session, outbox.table)).head_created_at is None


async def drain(
    db: Database, settings: IntakeSettings, events: int, profile: cProfile.Profile | None
) -> dict[str, Any]:
    relay = OutboxRelay(db, outbox, settings, use_notify=True)
    producer = await relay._producer_ready()  # Kafka is back: connected before the clock starts
    await producer.partitions_for(settings.topic(topic_for(TIP_RECEIVED)))
    cpu_start, start = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    task = asyncio.create_task(relay.run())
    try:
        await wait_until(
            lambda: drained(db),
            seconds=DRAIN_TIMEOUT,
            interval=0.01,
            what=f"the relay to publish {events} rows",
        )
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    finally:
        if profile is not None:
            profile.disable()
        relay.stop()
        await task
    return {
        **stage_figures(events, seconds),
        "batch_size": relay.batch_size,
        "process_cpu_seconds": round(cpu, 3),
    }


def profile_summary(profile: cProfile.Profile, path: str, lines: int = 30) -> str:
    """The profile written to ``path`` (``python -m pstats``, snakeviz) and its top entries."""
    profile.dump_stats(path)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    return out.getvalue()


async def one_size(
    db: Database,
    dsn: str,
    settings: IntakeSettings,
    events: int,
    repeat: int,
    profile: cProfile.Profile | None = None,
) -> dict[str, Any]:
    print(f"{events:,} events: outage (no relay) ...")
    fill_seconds = await fill(db, events)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE intake.outbox")
        lag = {
            "before": await time_query(conn, previous_lag_query(), repeat),
            "after": await time_query(conn, lag_query(outbox.table), repeat),
        }
    finally:
        await conn.close()
    async with db.sessions() as session:
        reported = await outbox_lag(session, outbox.table)
    messages = await outbox_messages(db)
    print(f"{events:,} events: Kafka back, relay draining ...")
    relay = await drain(db, settings, events, profile)
    print(f"{events:,} events: raw producer, the same records ...")
    raw_seconds = await raw_producer_seconds(
        settings, [(settings.topic(f"bench.raw.{t}"), k, v, h) for t, k, v, h in messages]
    )
    raw = stage_figures(events, raw_seconds)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE intake.outbox")
        await conn.execute("VACUUM ANALYZE intake.outbox")
    finally:
        await conn.close()
    return {
        "events": events,
        "fill": stage_figures(events, fill_seconds, per_transaction=INSERT_CHUNK),
        "lag_query": lag,
        "lag_reported": {
            "counted": reported.counted,
            "capped": reported.capped,
            "seq_span": reported.seq_span,
            "pending": reported.pending,
        },
        "relay": relay,
        "raw": raw,
        "ratio_relay_to_raw": round(relay["events_per_second"] / raw["events_per_second"], 3),
    }


async def run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    overrides = {"relay_batch_size": args.batch_size} if args.batch_size else {}
    settings = IntakeSettings(
        database_url=url,
        topic_prefix=prefix,
        environment="test",
        log_level="WARNING",
        **overrides,
    )
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    db = Database(url, application_name="ctip-bench-drain")
    results: dict[str, Any] = {"topic_prefix": prefix}
    try:
        async with db.sessions() as session:
            version = (await session.execute(text("SHOW server_version"))).scalar_one()
        results["postgresql_version"] = str(version)
        tip_topic = topic_for(TIP_RECEIVED)
        await ensure_topics(
            settings, [settings.topic(tip_topic), settings.topic(f"bench.raw.{tip_topic}")]
        )
        sizes = [await one_size(db, dsn, settings, n, args.repeat) for n in args.sizes[:-1]]
        # The profiler, if asked for, runs during the largest drain only.
        profile = cProfile.Profile() if args.profile else None
        sizes.append(await one_size(db, dsn, settings, args.sizes[-1], args.repeat, profile))
        if profile is not None:
            print(profile_summary(profile, args.profile))
            results["profile"] = args.profile
        smallest = sizes[0]
        results["sizes"] = sizes
        results["linearity"] = {
            "sizes": [s["events"] for s in sizes],
            "seconds": [s["relay"]["seconds"] for s in sizes],
            "ratio_to_smallest": [
                round(s["relay"]["seconds"] / smallest["relay"]["seconds"], 2) for s in sizes
            ],
            "linear_ratio": [round(s["events"] / smallest["events"], 2) for s in sizes],
        }
    finally:
        await db.dispose()
        await delete_topics(settings.kafka_bootstrap, prefix)
    return results


def render(result: dict[str, Any]) -> str:
    out = header("ctip outbox drain benchmark", result)
    rows = []
    for s in result.get("sizes", []):
        lag = s["lag_query"]
        rows.append(
            [
                f"{s['events']:,}",
                f"{s['relay']['seconds']:.2f}",
                f"{s['relay']['events_per_second']:,.0f}",
                f"{s['raw']['events_per_second']:,.0f}",
                f"{s['ratio_relay_to_raw']:.2f}",
                f"{lag['before']['median_ms']:.2f}",
                f"{lag['after']['median_ms']:.2f}",
                f"{s['lag_reported']['pending']:,}"
                + (" (span)" if s["lag_reported"]["capped"] else ""),
            ]
        )
    out += [
        "Backlog drained after the outage (relay: seconds until none unpublished)",
        table(
            [
                "backlog",
                "drain s",
                "relay/s",
                "raw/s",
                "relay/raw",
                "lag before ms",
                "lag after ms",
                "pending reported",
            ],
            rows,
        ),
    ]
    lin = result.get("linearity")
    if lin:
        out += [
            "",
            "t(N) / t(smallest): "
            + ", ".join(
                f"{n:,}: {r} (linear {e})"
                for n, r, e in zip(
                    lin["sizes"], lin["ratio_to_smallest"], lin["linear_ratio"], strict=True
                )
            ),
        ]
        for s in result["sizes"]:
            lag = s["lag_query"]
            out.append(
                f"lag query plans at {s['events']:,}: before {lag['before']['plan_summary']}"
                f"; after {lag['after']['plan_summary']}"
            )
    out.append(f"\nbench took {result['duration_seconds']:.1f} s")
    return "\n".join(out)


def _pending(reported: dict[str, Any]) -> str:
    if reported["capped"]:
        return f"{reported['pending']:,} (span; >= {reported['counted']:,} counted)"
    return f"{reported['pending']:,}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.drain", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes",
        type=lambda v: [int(n) for n in v.split(",")],
        default=list(DEFAULT_SIZES),
        help="backlog sizes, smallest first (comma-separated)",
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each lag query")
    parser.add_argument("--batch-size", type=int, default=0, help="relay batch (default: settings)")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        default="",
        help="cProfile the process during the largest drain; stats written to PATH",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if not args.sizes or min(args.sizes) < 1 or args.repeat < 1 or args.batch_size < 0:
        parser.error("--sizes and --repeat must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {
        "sizes": args.sizes,
        "repeat": args.repeat,
        "batch_size": args.batch_size or "settings",
        "insert_chunk": INSERT_CHUNK,
    }
    return run_in_private_database("drain", ["intake"], args, run, parameters, render)


if __name__ == "__main__":
    raise SystemExit(main())

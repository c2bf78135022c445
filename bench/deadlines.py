"""Legal clocks at scale, and the notifications they become (issue 18).

``uv run python -m bench.deadlines [--tips 1000000] [--days 60] [--step-minutes 30]
[--windows 20] [--events 5000] [--concurrency 8] [--skip-watcher] [--skip-notifications]``

a) The watcher. ``--tips`` tips' two clocks (resolution, and the last day to ask for an
   extension five days before it) are COPYed into ``intake.deadline_watches``, as they stand at
   a moment T0 for a worker that kept up (what was passed was signalled): resolution deadlines
   spread evenly over ``--days`` days after T0. Then ``now`` moves ``--step-minutes`` at a time,
   ``--windows`` times; at each one intake's own worker (``deadline_worker``: ``DeadlineWatch.scan``
   with the outbox emit, one transaction, batch 500) runs until a run finds less than a full batch,
   each run timed. Baseline at the same moments: the plain ``SELECT ... WHERE fire_at <= $1 ORDER
   BY fire_at LIMIT 500`` over asyncpg, nothing locked or written. For comparison, what a scan
   without the partial index would cost: ``count(*) WHERE due_at - interval '5 days' <= $1`` over
   the heap. The scan's statement and that count, with ``EXPLAIN (ANALYZE, BUFFERS)``, in the JSON.
b) Notifications. ``--events`` deadline signals of tips in 60 wards (two intake officers each, one
   supervisor per province, a third of the tips assigned) are published on ``intake.deadline.v1``
   as intake's relay publishes them. notifications' consumer (``EventConsumer`` with its
   ``HANDLERS``, the ladder and a seeded directory) turns them into inbox rows: notifications/s,
   against a raw ``AIOKafkaConsumer`` reading the same records. Then notifications' channels
   worker e-mails every notification (``email_window_seconds=0``: one message each) to a local
   aiosmtpd server with STARTTLS and AUTH, in a process of its own: deliveries/s, against raw
   aiosmtplib sending as many messages the same way (a connection each, as many at once), and
   over one kept connection.

Everything runs in a private database (``template0``, intake and notifications migrated, dropped
at the end) and on Kafka topics of the run's own prefix, deleted at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import (
    CapturingSession,
    bulk_load,
    compiled_sql,
    fmt_ms,
    header,
    plan_summary,
    run_in_private_database,
)
from bench.deadline_delivery import notifications_stage, render_notifications, wards
from bench.report import _table as table
from bench.report import latency_summary
from bench.support import delete_topics
from libs.common.context import Context
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.db import Database
from libs.common.deadlines import DeadlineWatch, next_fire_at, signal_due, thresholds_from_days
from libs.common.jurisdiction import province_of
from libs.common.periodic import deadline_worker
from libs.common.platform import platform_of
from services.intake.models import metadata as intake_metadata
from services.intake.settings import IntakeSettings

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
CHUNK = 100_000
BATCH = 500  # what intake's worker takes per run (libs.common.periodic.deadline_worker)
BASELINE_REPEATS = 3
FULL_SCAN_REPEATS = 2
BASELINE = """SELECT record_type, record_id, deadline_kind, due_at, armed_at,
       last_threshold_seconds, fire_at, ward_code, province_code, assignee
FROM intake.deadline_watches WHERE fire_at <= $1 ORDER BY fire_at LIMIT 500"""
FULL_SCAN = "SELECT count(*) FROM intake.deadline_watches WHERE due_at - interval '5 days' <= $1"
RESOLUTION_DAYS = 20  # a tip's months are longer; the armed_at only dates the clock


def watch_rows(
    tips: int, days: float, thresholds: Sequence[timedelta], rng: random.Random
) -> Iterator[list[tuple[Any, ...]]]:
    """Both clocks of each tip as a worker that kept up left them at T0: the nearest threshold
    passed is the last signalled, a passed deadline was said missed (no ``fire_at``)."""
    places = wards()
    span = days * 86_400
    chunk: list[tuple[Any, ...]] = []
    for _ in range(tips):
        tip = uuid.UUID(int=rng.getrandbits(128))
        ward = rng.choice(places)
        assignee = f"io-{ward}-1" if rng.random() < 1 / 3 else None
        resolution = T0 + timedelta(seconds=rng.uniform(0, span))
        armed = resolution - timedelta(days=RESOLUTION_DAYS)
        for kind, due in (
            ("resolution", resolution),
            ("extension_request", resolution - timedelta(days=5)),
        ):
            last: timedelta | None = None
            while (signal := signal_due(T0, due, thresholds, last)) is not None:
                last = signal.threshold
            seconds = None if last is None else int(last.total_seconds())
            fire = next_fire_at(due, thresholds, last)
            chunk.append(
                ("tip", tip, kind, due, armed, seconds, fire, ward, province_of(ward), assignee)
            )
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def load(conn: asyncpg.Connection, args: argparse.Namespace) -> dict[str, Any]:
    thresholds = thresholds_from_days([5, 1])
    started = time.perf_counter()
    timings = await bulk_load(
        conn,
        "intake",
        "deadline_watches",
        DeadlineWatch.INSERT_COLUMNS,
        watch_rows(args.tips, args.days, thresholds, random.Random(args.seed)),
    )
    analyze = time.perf_counter()
    await conn.execute("VACUUM (ANALYZE) intake.deadline_watches")
    timings["analyze_seconds"] = round(time.perf_counter() - analyze, 1)
    timings["total_seconds"] = round(time.perf_counter() - started, 1)
    shape = await conn.fetchrow(
        """SELECT count(*) AS watches,
                  count(*) FILTER (WHERE fire_at IS NOT NULL) AS armed,
                  pg_size_pretty(pg_relation_size('intake.deadline_watches')) AS heap,
                  pg_size_pretty(pg_relation_size('intake.ix_deadline_watches_fire_at'))
                      AS fire_at_index,
                  pg_size_pretty(pg_relation_size('intake.pk_deadline_watches')) AS primary_key
           FROM intake.deadline_watches"""
    )
    return {"timings": timings, "shape": dict(shape)}


class Clock:
    """The worker's context, at the moment the bench sets."""

    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self.platform = platform_of(intake_metadata)
        self.index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
        self.now = T0

    def context(self, session: Any) -> Context[Any]:
        return Context(
            session=session,
            principal=None,
            settings=self.settings,
            platform=self.platform,
            index=self.index,
            now=self.now,
        )


async def explain_analyze_rolled_back(
    conn: asyncpg.Connection, sql: str, params: Sequence[Any]
) -> list[str]:
    """``EXPLAIN (ANALYZE, BUFFERS)``, its row locks and writes undone."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
    finally:
        await transaction.rollback()
    return [row[0] for row in rows]


async def scan_statement(clock: Clock, now: datetime) -> tuple[str, list[Any]]:
    """The SELECT ``DeadlineWatch.scan`` sends, captured (nothing is due in a capture)."""
    watch = clock.platform.deadlines
    assert watch is not None
    capture = CapturingSession()

    async def emit(*_: Any) -> None:
        raise AssertionError("a captured scan finds nothing")

    await watch.scan(
        capture,  # type: ignore[arg-type]
        now=now,
        thresholds=thresholds_from_days(clock.settings.deadline_thresholds_days),
        emit=emit,
        batch=BATCH,
    )
    return compiled_sql(capture.statements[0])


async def watcher(args: argparse.Namespace, dsn: str, url: str, prefix: str) -> dict[str, Any]:
    settings = IntakeSettings(
        database_url=url, topic_prefix=prefix, environment="test", log_level="WARNING"
    )
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    clock = Clock(settings)
    db = Database(url, pool_size=2, application_name="ctip-bench-deadlines")
    worker = deadline_worker("intake", settings.deadline_thresholds_days, 30, batch=BATCH)(
        db, clock.context
    )
    conn = await asyncpg.connect(dsn)
    try:
        print(f"watcher: loading {args.tips:,} tips' clocks ({2 * args.tips:,} watches) ...")
        loaded = await load(conn, args)
        step = timedelta(minutes=args.step_minutes)
        nows = [T0 + step * (w + 1) for w in range(args.windows)]
        sql, params = await scan_statement(clock, nows[0])
        explain = {
            "scan": {
                "sql": sql,
                "plan": await explain_analyze_rolled_back(conn, sql, params),
            },
            "full_count": {
                "sql": FULL_SCAN,
                "plan": await explain_analyze_rolled_back(conn, FULL_SCAN, [nows[0]]),
            },
        }
        baseline = await conn.prepare(BASELINE)
        full_scan = await conn.prepare(FULL_SCAN)
        full_scan_seconds: list[float] = []
        for now in (nows[0], nows[len(nows) // 2], nows[-1]):
            for _ in range(FULL_SCAN_REPEATS):
                started = time.perf_counter()
                await full_scan.fetchval(now)
                full_scan_seconds.append(time.perf_counter() - started)
        print(f"watcher: {args.windows} moments {args.step_minutes:g} min apart ...")
        runs: list[dict[str, Any]] = []
        baseline_seconds: list[float] = []
        baseline_rows: list[int] = []
        windows: list[dict[str, Any]] = []
        cpu = time.process_time()
        for now in nows:
            due = int(
                await conn.fetchval(
                    "SELECT count(*) FROM intake.deadline_watches WHERE fire_at <= $1", now
                )
            )
            for _ in range(BASELINE_REPEATS):
                started = time.perf_counter()
                found = await baseline.fetch(now)
                baseline_seconds.append(time.perf_counter() - started)
                baseline_rows.append(len(found))
            clock.now = now
            signalled = 0
            while True:
                started = time.perf_counter()
                n = await worker.once()
                runs.append({"seconds": time.perf_counter() - started, "signals": n})
                signalled += n
                if n < BATCH:
                    break
            windows.append({"now": now.isoformat(), "due": due, "signalled": signalled})
        cpu_seconds = time.process_time() - cpu
        kinds = await conn.fetch(
            "SELECT type, count(*) AS n FROM intake.outbox GROUP BY type ORDER BY type"
        )
    finally:
        await conn.close()
        await db.dispose()
    scan_seconds = sum(r["seconds"] for r in runs)
    signals = sum(r["signals"] for r in runs)
    full = [r for r in runs if r["signals"] == BATCH]
    return {
        "load": loaded,
        "windows": windows,
        "due_per_window": _spread([w["due"] for w in windows]),
        "runs": {
            "count": len(runs),
            "all": latency_summary([r["seconds"] for r in runs]),
            "full_batch": latency_summary([r["seconds"] for r in full]),
            "per_signal": latency_summary(
                [r["seconds"] / r["signals"] for r in runs if r["signals"]]
            ),
            "signals": signals,
            "signals_per_second": round(signals / scan_seconds, 1) if scan_seconds else None,
            "bench_process_cpu_percent": round(100 * cpu_seconds / scan_seconds, 1),
        },
        "baseline_select": {
            "all": latency_summary(baseline_seconds),
            "rows": _spread(baseline_rows),
            "per_row_us": _spread(
                [
                    round(1e6 * s / n, 2)
                    for s, n in zip(baseline_seconds, baseline_rows, strict=True)
                    if n
                ]
            ),
        },
        "full_scan_count": latency_summary(full_scan_seconds),
        "outbox_events": {str(r["type"]): int(r["n"]) for r in kinds},
        "explain": explain,
        "scan_uses_fire_at_index": any(
            "ix_deadline_watches_fire_at" in line for line in explain["scan"]["plan"]
        ),
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


async def run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    results: dict[str, Any] = {"topic_prefix": prefix}
    conn = await asyncpg.connect(dsn)
    try:
        results["postgresql_version"] = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    try:
        if not args.skip_watcher:
            results["watcher"] = await watcher(args, dsn, url, prefix)
        if not args.skip_notifications:
            results["notifications"] = await notifications_stage(args, dsn, url, prefix)
    finally:
        await delete_topics(IntakeSettings().kafka_bootstrap, prefix)
    return results


def render(result: dict[str, Any]) -> str:
    out = header("ctip deadlines benchmark", result)
    w = result.get("watcher")
    if w:
        load, shape = w["load"]["timings"], w["load"]["shape"]
        runs, base = w["runs"], w["baseline_select"]
        scan_plan = w["explain"]["scan"]["plan"]
        full_plan = w["explain"]["full_count"]["plan"]
        out += [
            f"watches: {shape['watches']:,} ({shape['armed']:,} with a signal to come); heap "
            f"{shape['heap']}, fire_at partial index {shape['fire_at_index']}, primary key "
            f"{shape['primary_key']}",
            f"loaded in {load['total_seconds']} s (generate {load['generate_seconds']}, COPY "
            f"{load['copy_seconds']}, indexes {load['index_rebuild_seconds']}, VACUUM ANALYZE "
            f"{load['analyze_seconds']})",
            f"due per moment: min {w['due_per_window']['min']}, median "
            f"{w['due_per_window']['median']}, max {w['due_per_window']['max']}; "
            f"{runs['signals']:,} signals in {runs['count']} runs",
            "",
            "One watcher run at successive moments (ms)",
            table(
                ["what", "count", "p50", "p95", "p99", "max"],
                [
                    ["scan + outbox, one transaction (all runs)", *_row(runs["all"])],
                    ["scan + outbox, runs of a full batch (500)", *_row(runs["full_batch"])],
                    ["scan + outbox, per signal", *_row(runs["per_signal"])],
                    ["baseline: plain SELECT ... LIMIT 500 (asyncpg)", *_row(base["all"])],
                    ["full heap count(*) on due_at (no index)", *_row(w["full_scan_count"])],
                ],
            ),
            f"baseline rows per query: median {base['rows'].get('median')}, "
            f"{base['per_row_us'].get('median')} µs per row",
            f"signals/s while scanning: {runs['signals_per_second']}; the bench process at "
            f"{runs['bench_process_cpu_percent']}% of a core",
            f"scan plan: {plan_summary(scan_plan)}; partial index used: "
            f"{'yes' if w['scan_uses_fire_at_index'] else 'NO'}",
            f"full count plan: {plan_summary(full_plan)}",
            "",
        ]
    n = result.get("notifications")
    if n:
        out += render_notifications(n)
    out.append(f"bench took {result['duration_seconds']:.1f} s")
    return "\n".join(out)


def _row(summary: dict[str, Any]) -> list[str]:
    return [
        str(summary.get("count", 0)),
        *(fmt_ms(summary, k) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
    ]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.deadlines", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--tips", type=int, default=1_000_000, help="open tips (2 clocks each)")
    parser.add_argument("--days", type=float, default=60.0, help="resolution deadlines spread")
    parser.add_argument("--step-minutes", type=float, default=30.0, help="between two moments")
    parser.add_argument("--windows", type=int, default=20, help="moments scanned")
    parser.add_argument("--events", type=int, default=5000, help="deadline signals published")
    parser.add_argument("--concurrency", type=int, default=8, help="e-mails in flight at once")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--skip-watcher", action="store_true")
    parser.add_argument("--skip-notifications", action="store_true")
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if min(args.tips, args.windows, args.events, args.concurrency) < 1 or args.days <= 0:
        parser.error("sizes must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {
        "tips": args.tips,
        "watches": 2 * args.tips,
        "days": args.days,
        "step_minutes": args.step_minutes,
        "windows": args.windows,
        "batch": BATCH,
        "events": args.events,
        "concurrency": args.concurrency,
        "seed": args.seed,
        "t0": T0.isoformat(),
    }
    return run_in_private_database(
        "deadlines", ["intake", "notifications"], args, run, parameters, render
    )


if __name__ == "__main__":
    raise SystemExit(main())

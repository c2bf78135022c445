"""Intake API benchmark: filing tips under sustained load, and the overdue list over 1M tips.

``uv run python -m bench.intake [--duration 30] [--concurrency 32] [--tips 1000000]``

1. POST /v1/tips: the intake app in a real uvicorn process (one worker, relay and consumers on),
   driven for a fixed time by a closed-loop load generator in another process; against a
   minimal FastAPI app, also one uvicorn worker, whose endpoint does one plain asyncpg INSERT
   of comparable columns. The ratio ours/baseline is the price of validation, encryption,
   blind indexes, receipt and outbox.
2. GET /v1/tips?overdue=true over 1,000,000 tips bulk-loaded with COPY: latency through HTTP
   for four callers, against the same SQL statement sent directly with asyncpg, with the
   statement's ``EXPLAIN ANALYZE``.

Everything runs in a database of its own (``ctip_bench_intake_<hex>``, created on the cluster of
``CTIP_BENCH_DATABASE_URL`` from ``template0`` and dropped at the end) and Kafka topics with a
prefix of its own (deleted at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pstats
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from bench import filing_costs
from bench.common import (
    PROFILE_ENV,
    CapturingSession,
    LoadSpec,
    Uvicorn,
    Worker,
    bulk_load,
    compiled_sql,
    explain_analyze,
    fmt_ms,
    generate_load,
    header,
    plan_summary,
    profile_on_signals,
    run_in_private_database,
    service_env,
    status_counts,
    timed,
    uuid7_at,
    zipf_weights,
)
from bench.report import _table as table
from bench.report import latency_summary
from bench.support import BenchError, delete_topics
from libs.common.auth import Principal, issue_dev_token
from libs.common.context import Context
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.jurisdiction import _provinces, province_of, wards_of
from libs.common.platform import platform_of
from services.intake import repository, tips
from services.intake.filing_rows import NewTip, columns
from services.intake.models import metadata
from services.intake.schemas import TipCreate
from services.intake.settings import IntakeSettings

INTAKE_APP = "services.intake.app:create_app"
BASELINE_APP = "bench.intake:baseline_app"
SAME_WORK_APP = "bench.intake:same_work_app"
PROFILED_INTAKE_APP = "bench.intake:profiled_intake_app"
BASELINE_DSN_ENV = "CTIP_BENCH_BASELINE_DSN"
BODY_VARIANTS = 2000
PAGE_SIZE = 50  # the API's default page
DRAIN_TIMEOUT = 120.0
HOME_PROVINCE = "01"

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("bench.intake")

# -- request bodies -------------------------------------------------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Thị", "Văn", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc"]
GIVEN = ["Hoa", "Lan", "Mai", "Nam", "Hùng", "Dũng", "Linh", "Trang", "Tuấn", "Hương", "Sơn"]
STORY = (
    "Người báo tin cho biết một người quen hứa hẹn việc làm lương cao ở nước ngoài, thu giấy tờ "
    "tùy thân và yêu cầu đặt cọc; sau khi xuất cảnh, gia đình mất liên lạc với nạn nhân. "
)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _phone(rng: random.Random) -> str:
    return f"09{rng.randrange(10**8):08d}"


def tip_bodies(n: int, seed: int = 1) -> list[bytes]:
    """Valid tips: two persons (a victim and a suspect) and a reporter, varied identifiers."""
    rng = random.Random(seed)
    wards = wards_of(HOME_PROVINCE)
    today = datetime.now(UTC).date()
    bodies = []
    for _ in range(n):
        body = {
            "channel": rng.choice(["hotline", "web", "mobile", "police"]),
            "description": STORY + f"Nạn nhân rời nhà khoảng {rng.randrange(2, 60)} ngày trước.",
            "incident_ward_code": rng.choice(wards),
            "occurred_on": (today - timedelta(days=rng.randrange(1, 90))).isoformat(),
            "exploitation_types": rng.sample(["forced_labour", "sexual_exploitation", "other"], 1),
            "destination_country": rng.choice(["CN", "KH", "LA", "MY"]),
            "persons": [
                {
                    "role": "victim",
                    "full_name": _name(rng),
                    "age": rng.randrange(14, 30),
                    "sex": "female",
                    "phone": _phone(rng),
                    "hometown_ward_code": rng.choice(wards),
                },
                {
                    "role": "suspect",
                    "full_name": _name(rng),
                    "date_of_birth": date(
                        rng.randrange(1970, 2000), 1 + rng.randrange(12), 1 + rng.randrange(28)
                    ).isoformat(),
                    "sex": "male",
                    "phone": _phone(rng),
                    "id_number": f"001{rng.randrange(10**9):09d}",
                },
            ],
            "reporter": {
                "name": _name(rng),
                "phone": _phone(rng),
                "email": f"reporter{rng.randrange(10**6)}@example.vn",
            },
        }
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


# -- the baseline app ----------------------------------------------------------------------------

BASELINE_DDL = [
    "CREATE SCHEMA IF NOT EXISTS bench_baseline",
    """CREATE TABLE IF NOT EXISTS bench_baseline.tips (
        id uuid PRIMARY KEY,
        channel varchar(20) NOT NULL,
        status varchar(20) NOT NULL,
        description text NOT NULL,
        incident_ward_code varchar(5),
        province_code varchar(2),
        occurred_on date,
        exploitation_types varchar(40)[] NOT NULL,
        destination_country varchar(2),
        persons jsonb NOT NULL,
        reporter jsonb,
        filed_by varchar(200),
        received_at timestamptz NOT NULL,
        resolution_due_at timestamptz NOT NULL
    )""",
]
BASELINE_INSERT = """INSERT INTO bench_baseline.tips (id, channel, status, description,
    incident_ward_code, province_code, occurred_on, exploitation_types, destination_country,
    persons, reporter, filed_by, received_at, resolution_due_at)
    VALUES ($1, $2, 'received', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"""


def baseline_app() -> FastAPI:
    """What accepting a tip costs at the least: parse JSON, one INSERT from a pool, reply.

    The pool is as large as the intake app's (10 connections, 10 more on overflow).
    """
    dsn = os.environ[BASELINE_DSN_ENV]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/tips", status_code=201)
    async def create_tip(request: Request, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        now = datetime.now(UTC)
        tip_id = uuid.uuid4()
        ward = body.get("incident_ward_code")
        occurred = body.get("occurred_on")
        await request.app.state.pool.execute(
            BASELINE_INSERT,
            tip_id,
            body["channel"],
            body["description"],
            ward,
            province_of(ward) if ward else None,
            date.fromisoformat(occurred) if occurred else None,
            body.get("exploitation_types", []),
            body.get("destination_country"),
            json.dumps(body.get("persons", [])),
            json.dumps(body.get("reporter")),
            None,
            now,
            now + timedelta(days=20),
        )
        return JSONResponse(
            {"id": str(tip_id), "status": "received", "received_at": now.isoformat()},
            status_code=201,
        )

    return app


class _PoolConnection:
    """What ``InsertTogether.execute`` needs of a session's connection, on a bare asyncpg pool:
    the statement runs on its own (one statement is one transaction in autocommit)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def exec_driver_sql(self, sql: str, parameters: Sequence[Any]) -> None:
        await self.pool.execute(sql, *parameters)


class _PoolSession:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._connection = _PoolConnection(pool)

    async def connection(self) -> _PoolConnection:
        return self._connection


def same_work_app() -> FastAPI:
    """The filing's own work without ctip's framework: the same ``TipCreate`` validation and the
    same ``tips.file_tip`` (encryption, blind indexes, receipt, outbox event, one statement),
    on a bare asyncpg pool, with no token check, middleware, SQLAlchemy session, transaction
    block, idempotency or rate limit. Between the baseline and ctip: what the work costs by
    itself, and what the framework adds to it."""
    dsn = os.environ[BASELINE_DSN_ENV]
    settings = IntakeSettings()
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    platform = platform_of(metadata)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/tips", status_code=201)
    async def create_tip(request: Request, body: TipCreate) -> JSONResponse:
        session = _PoolSession(request.app.state.pool)
        ctx = Context(
            session=session,  # type: ignore[arg-type]
            principal=None,
            settings=settings,
            platform=platform,
            index=index,
            anonymous_sub="anonymous",
        )
        created = await tips.file_tip(ctx, body)
        return JSONResponse(created.model_dump(mode="json"), status_code=201)

    return app


# -- 1. POST /v1/tips throughput -----------------------------------------------------------------


async def _count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _wait_drained(dsn: str) -> tuple[int, float]:
    """Unpublished outbox rows when the load stopped, and how long the relay took to clear them."""
    sql = "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL"
    pending = await _count(dsn, sql)
    started = time.perf_counter()
    while await _count(dsn, sql):
        if time.perf_counter() - started > DRAIN_TIMEOUT:
            raise BenchError(f"the relay did not drain the outbox within {DRAIN_TIMEOUT:.0f} s")
        await asyncio.sleep(0.2)
    return pending, time.perf_counter() - started


async def throughput(args: argparse.Namespace, dsn: str, url: str, prefix: str) -> dict[str, Any]:
    settings = IntakeSettings(database_url=url, topic_prefix=prefix)
    token = issue_dev_token(
        settings, roles=["intake_officer"], jurisdiction=[HOME_PROVINCE], sub="bench-officer"
    )
    bodies = tip_bodies(BODY_VARIANTS)
    conn = await asyncpg.connect(dsn)
    try:
        for ddl in BASELINE_DDL:
            await conn.execute(ddl)
    finally:
        await conn.close()

    def spec(server: Uvicorn, duration: float) -> LoadSpec:
        return LoadSpec(
            url=f"{server.base_url}/v1/tips",
            bodies=bodies,
            headers={"authorization": f"Bearer {token}"},
            concurrency=args.concurrency,
            warm_up_seconds=args.warm_up,
            duration_seconds=duration,
            server_pid=server.pid,
        )

    results: dict[str, Any] = {}
    print(f"  baseline: {args.warm_up:g} s warm-up + {args.duration:g} s ...", flush=True)
    async with Uvicorn(BASELINE_APP, service_env(url, prefix, **{BASELINE_DSN_ENV: dsn})) as server:
        results["baseline"] = await generate_load(spec(server, args.duration))
    results["baseline"]["rows_stored"] = await _count(
        dsn, "SELECT count(*) FROM bench_baseline.tips"
    )

    print(f"  same work, no framework: {args.warm_up:g} s + {args.duration:g} s ...", flush=True)
    env = service_env(url, prefix, **{BASELINE_DSN_ENV: dsn})
    async with Uvicorn(SAME_WORK_APP, env) as server:
        results["same_work"] = await generate_load(spec(server, args.duration))
    results["same_work"]["rows_stored"] = await _count(dsn, "SELECT count(*) FROM intake.tips")
    # Its rows go, so that ctip's relay does not publish them during ctip's run.
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "TRUNCATE intake.tips, intake.tip_persons, intake.person_index, intake.receipts, "
            "intake.outbox CASCADE"
        )
    finally:
        await conn.close()

    print(f"  ctip intake: {args.warm_up:g} s warm-up + {args.duration:g} s ...", flush=True)
    if args.relay_in_api:
        async with Uvicorn(INTAKE_APP, service_env(url, prefix)) as server:
            ours = await generate_load(spec(server, args.duration))
            pending, drain = await _wait_drained(dsn)
    else:
        # As deployed (compose, Kubernetes): the API with --api-only, the relay in a worker.
        api_only = service_env(url, prefix, CTIP_RUN_RELAY="false", CTIP_RUN_CONSUMERS="false")
        async with Worker("intake", service_env(url, prefix)) as worker:
            async with Uvicorn(INTAKE_APP, api_only) as server:
                load = replace(spec(server, args.duration), other_pids={"worker": worker.pid})
                ours = await generate_load(load)
                pending, drain = await _wait_drained(dsn)
    ours["relay"] = "in the API process" if args.relay_in_api else "in a ctip worker process"
    ours["rows_stored"] = await _count(dsn, "SELECT count(*) FROM intake.tips")
    ours["outbox_pending_when_load_stopped"] = pending
    ours["outbox_drain_seconds"] = round(drain, 2)
    results["ctip"] = ours
    base_rate = results["baseline"]["requests_per_second"]
    results["ratio_ours_to_baseline"] = (
        round(ours["requests_per_second"] / base_rate, 3) if base_rate else None
    )
    same_rate = results["same_work"]["requests_per_second"]
    results["ratio_same_work_to_baseline"] = round(same_rate / base_rate, 3) if base_rate else None
    results["ratio_ours_to_same_work"] = (
        round(ours["requests_per_second"] / same_rate, 3) if same_rate else None
    )
    # What the ratios would be if each server's CPU were its only limit (the steadier figure on
    # a shared machine): the inverse ratio of server CPU per request.
    cpu = {k: results[k]["server_cpu_ms_per_request"] for k in ("baseline", "same_work", "ctip")}
    if all(cpu.values()):
        results["cpu_ratio_ours_to_baseline"] = round(cpu["baseline"] / cpu["ctip"], 3)
        results["cpu_ratio_ours_to_same_work"] = round(cpu["same_work"] / cpu["ctip"], 3)

    print("  the filing's work, piece by piece (bench.filing_costs) ...", flush=True)
    results["work_costs"] = await filing_costs.measure(url, bodies)

    if args.profile:
        print(f"  ctip intake under cProfile: {args.warm_up:g} s + {args.profile_seconds:g} s ...")
        results["profile"] = await _profile(spec, url, prefix, args.profile_seconds)
    return results


async def _profile(spec: Any, url: str, prefix: str, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ctip-bench-profile-") as tmp:
        path = Path(tmp) / "intake.prof"
        env = service_env(url, prefix, **{PROFILE_ENV: str(path)})
        async with Uvicorn(PROFILED_INTAKE_APP, env) as server:
            load = await generate_load(replace(spec(server, seconds), profile=True))
            for _ in range(50):
                if path.exists():
                    break
                await asyncio.sleep(0.1)
            else:
                raise BenchError(f"the profiler wrote nothing:\n{server.log_tail()}")
        return {"load_under_profiler": load, **profile_figures(path, load["ok"])}


def profiled_intake_app() -> FastAPI:
    """The intake app, profiled during the load's measured window (see ``profile_on_signals``)."""
    from services.intake.app import create_app

    return profile_on_signals(create_app())


def profile_figures(path: Path, requests: int, top: int = 25) -> dict[str, Any]:
    """Own time (``tottime``) per function and per package, in ms per request.

    cProfile slows pure-Python code more than C, so read these as shares, not as absolutes.
    The profile spans the whole process life (start-up, warm-up, shutdown too).
    """
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_package: dict[str, float] = defaultdict(float)
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in raw.items():
        by_package[_package(filename, name)] += tottime
        rows.append((tottime, cumtime, calls, f"{_short(filename)}:{line}({name})"))
    rows.sort(reverse=True)
    per = 1000 / max(requests, 1)
    return {
        "profiled_seconds_total": round(total, 2),
        "by_package": [
            {"package": k, "ms_per_request": round(v * per, 3), "share": round(v / total, 3)}
            for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
        ],
        "by_function": [
            {
                "function": where,
                "calls": calls,
                "tottime_ms_per_request": round(tt * per, 3),
                "cumtime_ms_per_request": round(ct * per, 3),
            }
            for tt, ct, calls, where in rows[:top]
        ],
    }


def _package(filename: str, name: str) -> str:
    if filename.endswith("asyncio/runners.py"):
        return "event loop: waiting for I/O, uvloop's C (attributed to asyncio.run)"
    if filename == "~":
        return f"builtin {name.split(' of ')[0].strip('<>').replace('method ', '')}"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for part in ("/libs/", "/services/", "/bench/"):
        if part in filename:
            return part.strip("/") + "/" + filename.split(part, 1)[1].split("/", 1)[0]
    return "stdlib " + Path(filename).stem


def _short(filename: str) -> str:
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- 2. GET /v1/tips?overdue=true over a million tips ---------------------------------------------

# What a filing writes (models.NewTip), then what triage and verification add.
TRIAGE_COLUMNS = (
    "trafficking_related",
    "priority",
    "assigned_to",
    "classification_notes",
    "classified_at",
    "classified_by",
    "verification_outcome",
    "verified_at",
    "verified_by",
    "resolved_at",
)
TIP_COLUMNS = (*columns(NewTip), *TRIAGE_COLUMNS)
CHANNELS = ["hotline", "web", "mobile", "walk_in", "police", "partner", "other"]
CHANNEL_WEIGHTS = [35, 25, 10, 10, 15, 4, 1]
TYPE_SETS = [
    ["forced_labour"],
    ["sexual_exploitation"],
    ["forced_marriage"],
    ["other"],
    ["forced_labour", "forced_criminality"],
    ["sexual_exploitation", "forced_marriage"],
]
COUNTRIES = [None, None, None, "CN", "KH", "LA", "MY", "TH", "KR", "JP"]


class TipGenerator:
    """A million synthetic tips, in received order, with a lifecycle that fits their age.

    * received over the last ``years``, evenly; due 20 days later (10% complex: 2 months; 4%
      of those extended by the procuracy: 2 more months);
    * not yet due: 85% still open (received or triaged), the rest resolved early;
    * past due: ``overdue_share`` still open (the backlog the list shows), the rest resolved,
      90% of them in time;
    * ``home_share`` in province 01, its 126 wards Zipf-weighted (busy city wards, quiet rural
      ones); the others over the remaining 33 provinces' wards; 10% of the tips still
      ``received`` are unlocated (no ward), the triage queue intake officers also see;
    * personal fields hold one ciphertext each, encrypted once with the service's key and
      context: this query decrypts them (it loads whole rows), so they must be real.
    """

    def __init__(self, args: argparse.Namespace, settings: IntakeSettings) -> None:
        self.n = args.tips
        self.years = args.years
        self.overdue_share = args.overdue_share
        self.home_share = args.home_share
        self.now = datetime.now(UTC)
        self.rng = random.Random(args.seed)
        cipher = FieldCipher.from_spec(settings.field_keys.get_secret_value())
        self.description = cipher.encrypt(
            (STORY * 4)[: args.description_chars], "intake.tips.description"
        )
        self.reporter = tuple(
            cipher.encrypt(value, f"intake.tips.reporter_{field}")
            for field, value in (
                ("name", "Trần Thị Mai"),
                ("phone", "+84912345678"),
                ("email", "mai@example.vn"),
            )
        )
        self.notes = cipher.encrypt(
            "Đã phân loại, cần xác minh thêm.", "intake.tips.classification_notes"
        )
        self.home_wards = wards_of(HOME_PROVINCE)
        self.home_weights = zipf_weights(len(self.home_wards), 0.8)
        self.other_wards = [w for p in _provinces() if p != HOME_PROVINCE for w in wards_of(p)]

    def chunks(self, size: int) -> Iterator[list[tuple[Any, ...]]]:
        span = self.years * 365 * 86400
        start = self.now.timestamp() - span
        for first in range(0, self.n, size):
            count = min(size, self.n - first)
            # Evenly spread, in order: row i is received at start + span * i / n (+ jitter).
            yield [
                self._tip(start + span * (first + i + self.rng.random()) / self.n)
                for i in range(count)
            ]

    def _tip(self, received_ts: float) -> tuple[Any, ...]:
        rng, now = self.rng, self.now
        received = datetime.fromtimestamp(received_ts, UTC)
        complex_case = rng.random() < 0.10
        extended = complex_case and rng.random() < 0.04
        due_days = 61 if complex_case else 20
        due = received + timedelta(days=due_days + (61 if extended else 0))
        extensions = ["complex_case"] + (["procuracy"] if extended else []) if complex_case else []
        if due > now:
            is_open = rng.random() < 0.85
        else:
            is_open = rng.random() < self.overdue_share
        age_days = (now - received).total_seconds() / 86400
        if is_open:
            status = "received" if (age_days < 2 or rng.random() < 0.3) else "triaged"
            resolved = None
        else:
            status = "verified" if rng.random() < 0.3 else "closed"
            on_time = rng.random() < 0.9
            limit = (min(due, now) - received).total_seconds()
            offset = (
                rng.uniform(0.2, 1.0) * limit if on_time else limit + rng.uniform(0, 30 * 86400)
            )
            resolved = min(received + timedelta(seconds=offset), now)
        if status == "received" and rng.random() < 0.10:
            ward = None
        elif rng.random() < self.home_share:
            ward = rng.choices(self.home_wards, cum_weights=self.home_weights)[0]
        else:
            ward = rng.choice(self.other_wards)
        classified = (
            None if status == "received" else received + timedelta(hours=rng.uniform(1, 96))
        )
        if classified is not None and resolved is not None and classified > resolved:
            classified = received + (resolved - received) / 2
        anonymous = rng.random() < 0.4
        outcome = None
        if status == "verified":
            outcome = "substantiated"
        elif status == "closed":
            outcome = rng.choice(["unsubstantiated", "unsubstantiated", "referred", "duplicate"])
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        updated = resolved or classified or received
        tip = NewTip(
            id=uuid7_at(int(received_ts * 1000), rng),
            channel=channel,
            status=status,
            description=self.description,
            incident_ward_code=ward,
            province_code=province_of(ward) if ward else None,
            occurred_on=(received - timedelta(days=rng.randrange(0, 60))).date()
            if rng.random() < 0.7
            else None,
            exploitation_types=rng.choice(TYPE_SETS),
            destination_country=rng.choice(COUNTRIES),
            anonymous=anonymous,
            reporter_name=None if anonymous else self.reporter[0],
            reporter_phone=None if anonymous else self.reporter[1],
            reporter_email=None if anonymous or rng.random() < 0.5 else self.reporter[2],
            filed_by="police-officer" if channel == "police" else None,
            extensions=extensions,
            received_at=received,
            resolution_due_at=due,
            updated_at=updated,
            version=1 + (classified is not None) + (resolved is not None) + len(extensions),
        )
        triage = (
            None if classified is None else rng.choice(["yes", "yes", "unclear", "no"]),
            None
            if classified is None
            else rng.choice(["urgent", "high", "normal", "normal", "low"]),
            None if classified is None else f"officer-{rng.randrange(400)}",
            None if classified is None or rng.random() < 0.5 else self.notes,
            classified,
            None if classified is None else f"officer-{rng.randrange(400)}",
            outcome,
            resolved,
            None if resolved is None else f"officer-{rng.randrange(400)}",
            resolved,
        )
        return (*(getattr(tip, c) for c in columns(NewTip)), *triage)


async def load_tips(args: argparse.Namespace, dsn: str, settings: IntakeSettings) -> dict[str, Any]:
    generator = TipGenerator(args, settings)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE intake.tips CASCADE")
        started = time.perf_counter()
        timings = await bulk_load(conn, "intake", "tips", TIP_COLUMNS, generator.chunks(50_000))
        analyze_started = time.perf_counter()
        # VACUUM too: the visibility map a long-lived table has, and no autovacuum mid-run.
        await conn.execute("VACUUM (ANALYZE) intake.tips")
        timings["analyze_seconds"] = round(time.perf_counter() - analyze_started, 1)
        timings["total_seconds"] = round(time.perf_counter() - started, 1)
        shape = await conn.fetchrow(
            """SELECT count(*) AS tips,
                      count(*) FILTER (WHERE status IN ('received', 'triaged')) AS open,
                      count(*) FILTER (WHERE status IN ('received', 'triaged')
                                       AND resolution_due_at < now()) AS overdue,
                      count(*) FILTER (WHERE province_code = $1) AS home_province,
                      count(*) FILTER (WHERE province_code = $1
                                       AND status IN ('received', 'triaged')
                                       AND resolution_due_at < now()) AS home_overdue,
                      count(*) FILTER (WHERE incident_ward_code IS NULL) AS unlocated,
                      pg_size_pretty(pg_total_relation_size('intake.tips')) AS size
               FROM intake.tips""",
            HOME_PROVINCE,
        )
        busiest = await conn.fetchrow(
            """SELECT incident_ward_code AS ward, count(*) AS tips,
                      count(*) FILTER (WHERE status IN ('received', 'triaged')
                                       AND resolution_due_at < now()) AS overdue
               FROM intake.tips WHERE province_code = $1
               GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
            HOME_PROVINCE,
        )
    finally:
        await conn.close()
    return {"load": timings, "shape": dict(shape), "busiest_home_ward": dict(busiest)}


def scenarios(ward: str) -> list[tuple[str, Principal, dict[str, str]]]:
    everywhere = tuple(sorted(_provinces()))
    home = Principal("bench-officer-01", frozenset({"intake_officer"}), (HOME_PROVINCE,))
    single = Principal("bench-officer-ward", frozenset({"intake_officer"}), (ward,))
    national = Principal("bench-supervisor", frozenset({"supervisor"}), everywhere)
    return [
        ("overdue | intake officer, province 01", home, {"overdue": "true"}),
        (
            f"overdue&ward_code={ward} | officer, province 01",
            home,
            {"overdue": "true", "ward_code": ward},
        ),
        (f"overdue | intake officer, ward {ward}", single, {"overdue": "true"}),
        ("overdue | supervisor, all 34 provinces", national, {"overdue": "true"}),
    ]


async def overdue_list(
    args: argparse.Namespace, dsn: str, url: str, prefix: str, ward: str, label: str
) -> dict[str, Any]:
    """Each caller: HTTP through uvicorn, then the same statement over asyncpg, then EXPLAIN."""
    settings = IntakeSettings(database_url=url, topic_prefix=prefix)
    results: dict[str, Any] = {}
    conn = await asyncpg.connect(dsn)
    try:
        async with Uvicorn(INTAKE_APP, service_env(url, prefix)) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
                for name, principal, params in scenarios(ward):
                    print(f"  [{label}] {name}: {args.requests} requests ...", flush=True)
                    token = issue_dev_token(
                        settings,
                        roles=principal.roles,
                        jurisdiction=principal.jurisdiction,
                        sub=principal.sub,
                    )
                    headers = {"authorization": f"Bearer {token}"}

                    def get(
                        params: dict[str, str] = params, headers: dict[str, str] = headers
                    ) -> Any:
                        return client.get("/v1/tips", params=params, headers=headers)

                    await timed([get] * args.warm_up_requests)
                    latencies, responses = await timed([get] * args.requests)
                    sql, values = await _list_statement(principal, params)
                    fetch = partial(conn.fetch, sql, *values)
                    sql_latencies, _ = await timed(
                        [fetch] * (args.warm_up_requests + args.requests)
                    )
                    plan = await explain_analyze(conn, sql, values)
                    items = [len(r.json()["items"]) for r in responses if r.status_code == 200]
                    results[name] = {
                        "params": params,
                        "jurisdiction": list(principal.jurisdiction),
                        "http": latency_summary(latencies),
                        "statuses": status_counts(responses),
                        "items_per_page": round(sum(items) / len(items), 1) if items else 0,
                        "sql": latency_summary(sql_latencies[args.warm_up_requests :]),
                        "statement": sql,
                        "explain_analyze": plan,
                    }
    finally:
        await conn.close()
    return results


async def _list_statement(principal: Principal, params: dict[str, str]) -> tuple[str, list[Any]]:
    """The statement ``GET /v1/tips`` sends for these parameters, built by the repository."""
    capture = CapturingSession()
    await repository.list_tips(
        capture,  # type: ignore[arg-type]
        scope=repository.tip_scope(principal),
        status=None,
        ward_code=params.get("ward_code"),
        priority=None,
        overdue=params.get("overdue") == "true",
        due_soon=None,
        now=datetime.now(UTC),
        after=None,
        limit=PAGE_SIZE,
    )
    (statement,) = capture.statements
    return compiled_sql(statement)


async def try_indexes(dsn: str, indexes: Sequence[str]) -> dict[str, float]:
    conn = await asyncpg.connect(dsn)
    built: dict[str, float] = {}
    try:
        for ddl in indexes:
            started = time.perf_counter()
            await conn.execute(ddl)
            built[ddl] = round(time.perf_counter() - started, 1)
        await conn.execute("ANALYZE intake.tips")
    finally:
        await conn.close()
    return built


# -- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    settings = IntakeSettings(database_url=url, topic_prefix=prefix)
    results: dict[str, Any] = {"topic_prefix": prefix}
    conn = await asyncpg.connect(dsn)
    results["postgresql_version"] = str(await conn.fetchval("SHOW server_version"))
    await conn.close()
    try:
        if not args.skip_post:
            print("1. POST /v1/tips: baseline, then ctip intake")
            results["post_tips"] = await throughput(args, dsn, url, prefix)
        if not args.skip_list:
            print(f"2. GET /v1/tips?overdue=true: loading {args.tips:,} tips ...", flush=True)
            data = await load_tips(args, dsn, settings)
            results["overdue_list"] = data
            ward = data["busiest_home_ward"]["ward"]
            data["as_migrated"] = await overdue_list(args, dsn, url, prefix, ward, "as migrated")
            if args.candidate_index:
                data["candidate_indexes"] = await try_indexes(dsn, args.candidate_index)
                data["with_candidate_indexes"] = await overdue_list(
                    args, dsn, url, prefix, ward, "candidate indexes"
                )
    finally:
        try:
            await asyncio.wait_for(delete_topics(settings.kafka_bootstrap, prefix), 30)
        except Exception as exc:
            log.warning("could not delete the topics %s*: %r", prefix, exc)
    return results


def render(result: dict[str, Any]) -> str:
    p = result["parameters"]
    out = header("ctip intake benchmark", result)
    post = result.get("post_tips")
    if post:
        rows = []
        labels = {
            "baseline": "baseline (1 INSERT)",
            "same_work": "same work, no framework",
            "ctip": "ctip intake",
        }
        for name, label in labels.items():
            if name not in post:
                continue
            r = post[name]
            s = r["latency"]
            rows.append(
                [
                    label,
                    f"{r['ok']}/{r['requests']}",
                    f"{r['requests_per_second']:.0f}",
                    *(fmt_ms(s, k) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                    f"{r['server_cpu_percent']:.0f}",
                    f"{r['server_cpu_ms_per_request'] or 0:.2f}",
                    f"{r['load_generator_cpu_percent']:.0f}",
                    f"{r['machine_busy_percent']:.0f}",
                ]
            )
        out += [
            f"1. POST /v1/tips, {p['concurrency']} connections, {p['duration_s']:g} s after "
            f"{p['warm_up_s']:g} s warm-up (latency ms; cpu% 100 = one core)",
            table(
                [
                    "app",
                    "ok/sent",
                    "req/s",
                    "p50",
                    "p95",
                    "p99",
                    "max",
                    "srv cpu%",
                    "srv cpu ms/req",
                    "loadgen cpu%",
                    "machine busy%",
                ],
                rows,
            ),
            f"ours/baseline = {post['ratio_ours_to_baseline']} (goal >= 0.35); same work/baseline "
            f"= {post.get('ratio_same_work_to_baseline')}; ours/same work = "
            f"{post.get('ratio_ours_to_same_work')} (goal >= 0.70); by server CPU per request: "
            "ours/baseline = "
            f"{post.get('cpu_ratio_ours_to_baseline')}, ours/same work = "
            f"{post.get('cpu_ratio_ours_to_same_work')}; "
            f"statuses: ctip {post['ctip']['statuses']}, baseline {post['baseline']['statuses']}; "
            "outbox pending when the load stopped: "
            f"{post['ctip']['outbox_pending_when_load_stopped']}, "
            f"drained in {post['ctip']['outbox_drain_seconds']} s",
            f"ctip's relay ran {post['ctip'].get('relay', 'in the API process')}; worker cpu "
            f"ms/req: {post['ctip'].get('other_cpu_ms_per_request', {}).get('worker', 'n/a')}",
            "",
        ]
        costs = post.get("work_costs")
        if costs:
            out += [
                f"   what a filing's work costs ({costs['unit']}, {costs['filings']} filings)",
                table(["piece", "µs"], [[k, f"{v:.1f}"] for k, v in costs["costs_us"].items()]),
                "",
            ]
        prof = post.get("profile")
        if prof:
            out += [
                "   where ctip's time goes (cProfile over the measured window, own time, ms per "
                "request; the profiler inflates Python code more than C)",
                table(
                    ["package", "ms/req", "share"],
                    [
                        [r["package"], f"{r['ms_per_request']:.3f}", f"{r['share']:.1%}"]
                        for r in prof["by_package"][:15]
                    ],
                ),
                "",
                table(
                    ["function", "calls", "own ms/req", "cum ms/req"],
                    [
                        [
                            r["function"][-70:],
                            str(r["calls"]),
                            f"{r['tottime_ms_per_request']:.3f}",
                            f"{r['cumtime_ms_per_request']:.3f}",
                        ]
                        for r in prof["by_function"][:15]
                    ],
                ),
                "",
            ]
    listing = result.get("overdue_list")
    if listing:
        shape, load = listing["shape"], listing["load"]
        out += [
            f"2. GET /v1/tips?overdue=true over {shape['tips']:,} tips ({shape['size']}): "
            f"{shape['open']:,} open, {shape['overdue']:,} overdue ({shape['home_overdue']:,} in "
            f"province 01), {shape['unlocated']:,} unlocated; busiest ward "
            f"{listing['busiest_home_ward']}",
            f"   loaded in {load['total_seconds']} s (generate {load['generate_seconds']}, COPY "
            f"{load['copy_seconds']}, indexes {load['index_rebuild_seconds']}, VACUUM ANALYZE "
            f"{load['analyze_seconds']})",
        ]
        for key, title in (
            ("as_migrated", "as migrated"),
            ("with_candidate_indexes", "with candidate indexes"),
        ):
            if key not in listing:
                continue
            if key == "with_candidate_indexes":
                out.append(f"   candidate indexes: {list(listing['candidate_indexes'])}")
            rows = []
            for name, r in listing[key].items():
                rows.append(
                    [
                        name,
                        f"{r['statuses']}",
                        f"{r['items_per_page']:.0f}",
                        *(fmt_ms(r["http"], k) for k in ("p50_ms", "p95_ms", "p99_ms")),
                        *(fmt_ms(r["sql"], k) for k in ("p50_ms", "p95_ms", "p99_ms")),
                    ]
                )
            out += [
                f"   {title} (ms; goal: HTTP p95 < 50)",
                table(
                    [
                        "caller",
                        "statuses",
                        "items",
                        "http p50",
                        "p95",
                        "p99",
                        "sql p50",
                        "p95",
                        "p99",
                    ],
                    rows,
                ),
                *(
                    f"   plan [{name}]: {plan_summary(r['explain_analyze'])}"
                    for name, r in listing[key].items()
                ),
                "",
            ]
    out.append(f"bench took {result['duration_seconds']:.1f} s")
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake", description=__doc__.split("\n")[0]
    )
    post = parser.add_argument_group("1. POST /v1/tips")
    post.add_argument("--duration", type=float, default=30.0, help="measured seconds per app")
    post.add_argument("--warm-up", type=float, default=5.0, help="unmeasured seconds before")
    post.add_argument("--concurrency", type=int, default=32, help="connections kept busy")
    post.add_argument("--profile", action="store_true", help="then run ctip under cProfile")
    post.add_argument("--profile-seconds", type=float, default=15.0)
    post.add_argument("--skip-post", action="store_true")
    post.add_argument(
        "--relay-in-api",
        action="store_true",
        help="run intake's relay inside the API process (the local default) instead of in a "
        "`ctip worker` process as compose and Kubernetes deploy it",
    )
    listing = parser.add_argument_group("2. GET /v1/tips?overdue=true")
    listing.add_argument("--tips", type=int, default=1_000_000, help="tips bulk-loaded")
    listing.add_argument("--years", type=int, default=2, help="tips received over this many years")
    listing.add_argument(
        "--overdue-share", type=float, default=0.04, help="past-due tips left open"
    )
    listing.add_argument("--home-share", type=float, default=0.25, help="tips in province 01")
    listing.add_argument("--description-chars", type=int, default=400)
    listing.add_argument("--requests", type=int, default=300, help="measured requests per caller")
    listing.add_argument("--warm-up-requests", type=int, default=20)
    listing.add_argument(
        "--candidate-index",
        action="append",
        default=[],
        metavar="DDL",
        help="CREATE INDEX ... to build in the bench database, then measure again (repeatable)",
    )
    listing.add_argument("--skip-list", action="store_true")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.concurrency < 1 or args.tips < 1 or args.requests < 1:
        parser.error("--duration, --concurrency, --tips and --requests must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {
        "duration_s": args.duration,
        "warm_up_s": args.warm_up,
        "concurrency": args.concurrency,
        "tips": args.tips,
        "overdue_share": args.overdue_share,
        "home_share": args.home_share,
        "requests": args.requests,
        "seed": args.seed,
    }
    return run_in_private_database("intake", ["intake"], args, run, parameters, render)


if __name__ == "__main__":
    raise SystemExit(main())

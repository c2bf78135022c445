"""NGO delivery batch benchmark: ``POST /v1/programs/{id}/deliveries:batch`` against raw inserts.

``uv run python -m bench.victim_support [--people 1000] [--rounds 5] [--concurrency 8]``

A private database (created from ``template0``, migrated, dropped at the end) and the real
victim_support service in a uvicorn process of its own (relay on, consumers off). Through its API:
a program, ``--people`` persons received, identified, consenting to share with the NGO and
enrolled. Then the batch of ``--people`` good deliveries, ``--rounds`` times with fresh
``external_id``s, and a resend of the last batch (all duplicates), timed end to end from the
client. Baseline, in the same run: the same rows written with asyncpg ``copy_records_to_table``
and ``executemany`` into a scratch copy of ``victim_support.supports``. Finally one more batch is
run in-process under a statement counter and cProfile, to show where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import event

from bench.report import RESULTS_DIR, _table, latency_summary, machine_info
from bench.support import BenchError, delete_topics
from libs.common.auth import Principal, issue_dev_token
from libs.common.db import Database, asyncpg_dsn
from libs.common.migrations import upgrade
from libs.common.settings import ServiceSettings, kafka_bootstrap, pg_url
from testkit import victim_support as bodies

DEFAULT_DATABASE_URL = pg_url("ctip")  # the local stack, on CTIP_PG_PORT
ROOT = Path(__file__).resolve().parents[1]
NGO_ORG = "bench-ngo"
WARD = "00004"  # Hà Nội (province 01)
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 300.0
# An encrypted victim_support.victim.supported event is about this long (base64 of AES-GCM).
EVENT_SIZED = "v1.k1." + "A" * 922  # 928 characters, as measured

log = logging.getLogger("bench.victim_support")


# -- shared by the victim_support and interagency benches (bench/interagency.py imports these) --


@contextlib.contextmanager
def private_database(admin_url: str, services: Sequence[str], prefix: str) -> Iterator[str]:
    """A database of this run's own, as the integration tests make one: ``template0``, the
    trusted extensions, the given services migrated to head; dropped (FORCE) at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        asyncio.run(
            _admin(
                url,
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE EXTENSION IF NOT EXISTS unaccent",
            )
        )
        for service in services:  # Alembic runs its own event loop: outside ours
            upgrade(service, url)
        yield url
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """``uvicorn services.<name>.app:create_app --factory`` as ``deploy/local/run.sh`` starts it,
    configured through its environment (``CTIP_*``)."""

    name: str
    env: dict[str, str]
    port: int = 0
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = self.port or free_port()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{self.name}.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            cwd=ROOT,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.url) as client:
            while True:
                if self.process.returncode is not None:
                    raise BenchError(f"{self.name} exited with {self.process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise BenchError(f"{self.name} did not answer /healthz in {START_TIMEOUT} s")
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def service_env(database_url: str, topic_prefix: str, **extra: str) -> dict[str, str]:
    return {
        "CTIP_DATABASE_URL": database_url,
        "CTIP_TOPIC_PREFIX": topic_prefix,
        "CTIP_ENVIRONMENT": "test",
        "CTIP_LOG_LEVEL": "WARNING",
        "CTIP_RUN_CONSUMERS": "false",
        **extra,
    }


def token_headers(role: str, *jurisdiction: str, org: str | None = None) -> dict[str, str]:
    settings = ServiceSettings(environment="test")
    token = issue_dev_token(
        settings, roles=[role], jurisdiction=jurisdiction, org=org, sub=f"bench-{role}"
    )
    return {"Authorization": f"Bearer {token}"}


async def bounded(concurrency: int, coroutines: Sequence[Any]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(coroutine: Any) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


def write_result(name: str, result: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


# -- setup through the API -------------------------------------------------------------------------


class People:
    """A program and its consenting, identified, enrolled persons, all made through the API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.worker = token_headers("social_worker", "01")
        self.ngo = token_headers("ngo", org=NGO_ORG)
        self.program_id = ""
        self.victim_ids: list[str] = []

    async def create_program(self) -> None:
        today = date.today()
        body = {
            "name": "Bench reintegration program",
            "org": NGO_ORG,
            "funder": "Synthetic funder",
            "support_types": ["essential_needs", "medical", "vocational_training"],
            "period": {
                "start": (today - timedelta(days=60)).isoformat(),
                "end": (today + timedelta(days=300)).isoformat(),
            },
        }
        created = expect(await self.client.post("/v1/programs", json=body, headers=self.ngo), 201)
        self.program_id = created["id"]

    async def person(self, n: int) -> str:
        received = expect(
            await self.client.post(
                "/v1/victims",
                json=bodies.reception(
                    WARD,
                    {
                        "full_name": f"Nguyễn Thị Bench {n:05d}",
                        "date_of_birth": date(1990 + n % 20, 1 + n % 12, 1 + n % 28).isoformat(),
                        "sex": "female",
                    },
                    received_hours_ago=48,
                    needs=["essential_needs", "medical"],
                ),
                headers=self.worker,
            ),
            201,
        )
        victim_id = received["id"]
        identified = expect(
            await self.client.post(
                f"/v1/victims/{victim_id}/identification",
                json=bodies.identification(f"QD-{n:05d}", agency="Synthetic border guard command"),
                headers={**self.worker, "If-Match": f'"{received["version"]}"'},
            ),
            200,
        )
        expect(
            await self.client.post(
                f"/v1/victims/{victim_id}/consents",
                json=bodies.share_with_ngo(NGO_ORG),
                headers={**self.worker, "If-Match": f'"{identified["version"]}"'},
            ),
            201,
        )
        expect(
            await self.client.post(
                f"/v1/programs/{self.program_id}/enrollments",
                json={"victim_id": victim_id, "external_id": f"enr-{n:05d}"},
                headers=self.ngo,
            ),
            201,
        )
        return str(victim_id)

    async def create(self, count: int, concurrency: int) -> float:
        start = time.perf_counter()
        await self.create_program()
        self.victim_ids = await bounded(concurrency, [self.person(n) for n in range(count)])
        return time.perf_counter() - start


def batch_items(victim_ids: Sequence[str], tag: str) -> list[dict[str, Any]]:
    return [
        bodies.delivery(f"{tag}-{n:05d}", victim_id, amount_vnd=500_000 + n)
        for n, victim_id in enumerate(victim_ids)
    ]


async def post_batch(
    client: httpx.AsyncClient, people: People, items: list[dict[str, Any]]
) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    response = await client.post(
        f"/v1/programs/{people.program_id}/deliveries:batch",
        json={"items": items},
        headers=people.ngo,
    )
    body = expect(response, 207)
    return time.perf_counter() - start, body


# -- baseline: the same rows, raw ------------------------------------------------------------------


async def baseline(
    database_url: str, program_id: str, victim_ids: Sequence[str], rounds: int
) -> dict[str, Any]:
    """``LIKE ... INCLUDING ALL`` copies columns, defaults, indexes and the unique constraint,
    not the foreign keys: the service's table also checks two of those per row."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    columns = [
        "id",
        "victim_id",
        "type",
        "amount_vnd",
        "provided_on",
        "provider_org",
        "program_id",
        "external_id",
        "created_by",
        "created_at",
    ]
    timings: dict[str, list[float]] = {"copy": [], "executemany": [], "copy_every_table": []}
    try:
        await conn.execute("CREATE SCHEMA IF NOT EXISTS bench_scratch")
        for table in ("supports", "victim_events", "outbox"):
            await conn.execute(
                f"CREATE TABLE bench_scratch.{table} (LIKE victim_support.{table} INCLUDING ALL)"
            )
        insert = (
            f"INSERT INTO bench_scratch.supports ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
        )
        for r in range(rounds):
            for how in timings:
                now = datetime.now(UTC)
                records = [
                    (
                        uuid.uuid4(),
                        uuid.UUID(v),
                        "essential_needs",
                        500_000 + n,
                        date.today(),
                        NGO_ORG,
                        uuid.UUID(program_id),
                        f"{how}-{r}-{n:05d}",
                        "bench-ngo",
                        now,
                    )
                    for n, v in enumerate(victim_ids)
                ]
                start = time.perf_counter()
                async with conn.transaction():
                    if how == "executemany":
                        await conn.executemany(insert, records)
                    else:
                        await conn.copy_records_to_table(
                            "supports",
                            schema_name="bench_scratch",
                            records=records,
                            columns=columns,
                        )
                    if how == "copy_every_table":
                        await _copy_steps_and_events(conn, records)
                timings[how].append(time.perf_counter() - start)
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS bench_scratch CASCADE")
        await conn.close()
    return {how: seconds_figures(values, len(victim_ids)) for how, values in timings.items()}


async def _copy_steps_and_events(conn: asyncpg.Connection, supports: list[tuple[Any, ...]]) -> None:
    """What a batch writes beside the supports, COPYed: a timeline entry and an outbox event per
    delivery (the event as long as an encrypted ``victim.supported`` one; the people's UPDATE is
    left out). The floor for the rows the contract asks, without foreign keys or judging."""
    now = datetime.now(UTC)
    steps = [
        (
            uuid.uuid4(),
            "support",
            "supported",
            "supported",
            now,
            "bench-ngo",
            row[1],
            json.dumps({"type": row[2], "amount_vnd": row[3], "program_id": str(row[6])}),
        )
        for row in supports
    ]
    await conn.copy_records_to_table(
        "victim_events",
        schema_name="bench_scratch",
        records=steps,
        columns=["id", "action", "from_status", "to_status", "at", "by", "victim_id", "details"],
    )
    events = [
        (
            uuid.uuid4(),
            "victim_support.victim.v1",
            str(row[1]),
            "vn.ctip.victim_support.victim.supported.v1",
            EVENT_SIZED,
        )
        for row in supports
    ]
    await conn.copy_records_to_table(
        "outbox",
        schema_name="bench_scratch",
        records=events,
        columns=["id", "topic", "key", "type", "event"],
    )


def seconds_figures(values: list[float], rows: int) -> dict[str, Any]:
    ordered = sorted(values)
    mean = sum(values) / len(values)
    return {
        "runs": len(values),
        "mean_s": round(mean, 4),
        "p50_s": round(ordered[(len(ordered) - 1) // 2], 4),
        "max_s": round(ordered[-1], 4),
        "rows_per_second": round(rows / mean, 1),
    }


# -- where the batch's time goes -------------------------------------------------------------------


class StatementCounter:
    """Counts the statements a session sends and the time spent waiting for them."""

    def __init__(self, db: Database) -> None:
        self.kinds: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # waiting, per kind
        self.db_seconds = 0.0
        self._started: list[tuple[float, str]] = []
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        head = words[0].upper() if words else "?"
        target = ""
        for marker in ("INTO", "UPDATE", "FROM"):
            if marker in (w.upper() for w in words[:8]):
                i = [w.upper() for w in words].index(marker)
                target = words[i + 1] if marker != "UPDATE" else words[1]
                break
        kind = f"{head} {target}".strip()
        self.kinds[kind] += 1
        self._started.append((time.perf_counter(), kind))

    def _after(self, *args: Any) -> None:
        started, kind = self._started.pop()
        self.seconds[kind] += time.perf_counter() - started
        self.db_seconds += time.perf_counter() - started


async def profile_batch(
    database_url: str, program_id: str, victim_ids: Sequence[str]
) -> dict[str, Any]:
    """The handler's use case (``delivery_batch.batch``) in-process, rolled back: statements per
    item, time waiting on PostgreSQL per statement (the best of three runs after a warm-up), and
    the Python functions that take the rest (one more run under cProfile)."""
    from libs.common.context import Context
    from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
    from libs.common.platform import platform_of
    from services.victim_support import delivery_batch
    from services.victim_support.models import metadata
    from services.victim_support.program_schemas import DeliveryBatchIn
    from services.victim_support.settings import VictimSupportSettings

    settings = VictimSupportSettings(database_url=database_url, environment="test")
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    db = Database(database_url, pool_size=2, application_name="ctip-bench-profile")
    counter = StatementCounter(db)
    principal = Principal(sub="bench-ngo", roles=frozenset({"ngo"}), org=NGO_ORG)
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    platform = platform_of(metadata)

    async def once(profiler: cProfile.Profile | None) -> dict[str, Any]:
        batch = DeliveryBatchIn(items=batch_items(victim_ids, f"profile-{uuid.uuid4().hex[:6]}"))
        async with db.sessions() as session:
            await session.begin()
            counter.kinds.clear()
            counter.seconds.clear()
            counter.db_seconds = 0.0
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            ctx = Context(
                session=session,
                principal=principal,
                settings=settings,
                platform=platform,
                index=index,
            )
            result = await delivery_batch.batch(ctx, uuid.UUID(program_id), batch)
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - start
            await session.rollback()
        if result.created != len(victim_ids):
            raise BenchError(f"profile: {result.created} created of {len(victim_ids)}")
        statements = sum(counter.kinds.values())
        return {
            "seconds": round(seconds, 3),
            "statements": statements,
            "statements_per_item": round(statements / len(victim_ids), 3),
            "waiting_on_postgres_s": round(counter.db_seconds, 3),
            "statement_kinds": dict(counter.kinds.most_common(12)),
            "statement_ms": {k: round(v * 1000, 1) for k, v in counter.seconds.most_common(12)},
        }

    profiler = cProfile.Profile()
    try:
        await once(None)  # statements prepared, caches warm
        plain = [await once(None) for _ in range(3)]
        profiled = await once(profiler)
    finally:
        await db.dispose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats("/(services|libs)/", 12)
    best = min(plain, key=lambda p: p["seconds"])
    return {
        **best,
        "in_process_runs_s": [p["seconds"] for p in plain],
        "profiled_seconds": profiled["seconds"],
        "cprofile_project_by_cumtime": _profile_lines(out.getvalue()),
    }


def _profile_lines(text: str) -> list[str]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("ncalls"):
            return [x.rstrip() for x in lines[i : i + 13] if x.strip()]
    return lines[-13:]


# -- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    service = ServiceProcess("victim_support", service_env(database_url, prefix))
    results: dict[str, Any] = {"topic_prefix": prefix}
    try:
        await service.start()
        async with httpx.AsyncClient(base_url=service.url, timeout=HTTP_TIMEOUT) as client:
            people = People(client)
            print(f"setup: a program and {args.people} persons through the API ...")
            setup_seconds = await people.create(args.people, args.concurrency)
            results["setup"] = {
                "people": args.people,
                "api_calls": 1 + 4 * args.people,
                "seconds": round(setup_seconds, 1),
            }
            print(f"batch: {args.rounds} rounds of {args.people} deliveries ...")
            seconds: list[float] = []
            items: list[dict[str, Any]] = []
            for r in range(args.rounds):
                items = batch_items(people.victim_ids, f"round{r}")
                took, body = await post_batch(client, people, items)
                if body["created"] != len(items):
                    raise BenchError(f"round {r}: {body['created']} created of {len(items)}")
                seconds.append(took)
            resend, body = await post_batch(client, people, items)
            if body["duplicate"] != len(items):
                raise BenchError(f"resend: {body['duplicate']} duplicates of {len(items)}")
            results["batch"] = seconds_figures(seconds, args.people)
            results["batch"]["latency"] = latency_summary(seconds)
            results["resend"] = seconds_figures([resend], args.people)
        print("baseline: COPY and executemany into a scratch copy of the supports table ...")
        results["baseline"] = await baseline(
            database_url, people.program_id, people.victim_ids, args.rounds
        )
        batch_mean = results["batch"]["mean_s"]
        results["ratios"] = {
            how: round(batch_mean / figures["mean_s"], 1)
            for how, figures in results["baseline"].items()
        }
        print("profile: one more batch in-process, rolled back ...")
        results["profile"] = await profile_batch(database_url, people.program_id, people.victim_ids)
    finally:
        await service.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(delete_topics(kafka_bootstrap(), prefix), 30)
    return results


def render(result: dict[str, Any]) -> str:
    m, p = result["machine"], result["parameters"]
    b, base, prof = result["batch"], result["baseline"], result["profile"]
    rows = [
        ["deliveries:batch (API, end to end)", *_fig(b)],
        ["deliveries:batch resend (all duplicates)", *_fig(result["resend"])],
        ["asyncpg copy_records_to_table", *_fig(base["copy"])],
        ["asyncpg executemany", *_fig(base["executemany"])],
        ["COPY supports + timeline + outbox rows", *_fig(base["copy_every_table"])],
    ]
    waited = prof.get("statement_ms", {})
    kinds = [[k, str(n), f"{waited.get(k, 0):.1f}"] for k, n in prof["statement_kinds"].items()]
    return "\n".join(
        [
            f"ctip NGO delivery batch benchmark, {result['started_at']}",
            f"machine: {m['nproc']} cores ({m['cpu']}), load before {m['load_average_before']}, "
            f"after {m['load_average_after']}; PostgreSQL {m['postgresql']}",
            "parameters: " + ", ".join(f"{k}={v}" for k, v in p.items()),
            f"setup: {result['setup']['api_calls']} API calls in {result['setup']['seconds']} s",
            "",
            f"{p['people']} deliveries per batch",
            _table(["writer", "runs", "mean s", "p50 s", "max s", "rows/s"], rows),
            "batch / copy = {copy}x, batch / executemany = {executemany}x, "
            "batch / COPY of every table = {copy_every_table}x".format(**result["ratios"]),
            "",
            f"one batch in-process (rolled back, best of {prof['in_process_runs_s']}): "
            f"{prof['seconds']} s, {prof['statements']} statements "
            f"({prof['statements_per_item']} per item), "
            f"{prof['waiting_on_postgres_s']} s waiting on PostgreSQL",
            _table(["statement", "count", "ms waiting"], kinds),
            "",
            f"cProfile ({prof['profiled_seconds']} s under it), project functions by cumtime:",
            *prof["cprofile_project_by_cumtime"],
            "",
            f"bench took {result['duration_seconds']:.1f} s",
        ]
    )


def _fig(f: dict[str, Any]) -> list[str]:
    return [
        str(f["runs"]),
        f"{f['mean_s']:.3f}",
        f"{f['p50_s']:.3f}",
        f"{f['max_s']:.3f}",
        f"{f['rows_per_second']:.0f}",
    ]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.victim_support", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--people", type=int, default=1000, help="persons = items per batch")
    parser.add_argument("--rounds", type=int, default=5, help="timed batches")
    parser.add_argument("--concurrency", type=int, default=8, help="API calls at once in setup")
    args = parser.parse_args(argv)
    if not 1 <= args.people <= 1000 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--people is 1..1000 (the API's batch limit); --rounds, --concurrency >= 1")
    return args


async def _server_version(url: str) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    admin_url = os.environ.get("CTIP_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    clock = time.perf_counter()
    try:
        with private_database(admin_url, ["victim_support"], "ctip_bench_vs") as url:
            results = asyncio.run(run(args, url))
            version = asyncio.run(_server_version(url))
    except BenchError as exc:
        print(f"bench failed: {exc}")
        return 1
    except (OSError, KafkaConnectionError) as exc:
        print(f"bench failed: {exc!r}\nis the local stack up? `deploy/local/stack.sh status`")
        return 1
    result = {
        "benchmark": "victim_support",
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - clock, 1),
        "machine": machine_info(version, load_before),
        "parameters": {
            "people": args.people,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "topic_prefix": results.pop("topic_prefix"),
        },
        **results,
    }
    print()
    print(render(result))
    print(f"\nJSON: {write_result('victim_support', result, started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Machinery shared by the HTTP benchmarks (:mod:`bench.intake`, :mod:`bench.casework`).

* a private database per run (created from ``template0``, migrated, dropped at the end), as
  ``tests/integration/conftest.py`` does for a test session;
* bulk loading with ``COPY``, secondary indexes dropped during the load and rebuilt from their
  own definitions afterwards, so the schema measured is the migrated one;
* a real uvicorn process per app, on a free port, with its CPU time read from ``/proc``;
* a closed-loop load generator (raw HTTP/1.1 keep-alive on asyncio) in a process of its own;
* the SQL a repository function runs, captured and replayed with ``EXPLAIN ANALYZE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import Executable

from bench.report import RESULTS_DIR, latency_summary, machine_info
from bench.support import BenchError
from libs.common.db import asyncpg_dsn
from libs.common.migrations import upgrade

DEFAULT_DATABASE_URL = "postgresql+asyncpg://ctip:ctip@127.0.0.1:5432/ctip"
ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 20.0
T = TypeVar("T")


def admin_url() -> str:
    """Where the bench creates its database: ``CTIP_BENCH_DATABASE_URL``'s cluster."""
    return os.environ.get("CTIP_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)


# -- a database of the run's own ----------------------------------------------------------------


class PrivateDatabase:
    """``ctip_bench_<hex>``: created from ``template0``, migrated, dropped with ``FORCE``.

    Its own, so a million bench rows never land in the dev database and a run never touches
    another run's (or a test session's) tables.
    """

    def __init__(self, admin: str, label: str) -> None:
        self.admin = admin
        self.name = f"ctip_bench_{label}_{uuid.uuid4().hex[:8]}"
        self.url = admin.rsplit("/", 1)[0] + f"/{self.name}"
        self.dsn = asyncpg_dsn(self.url)

    def create(self, services: Sequence[str]) -> None:
        """Synchronous: Alembic runs an event loop of its own."""
        asyncio.run(
            _execute(asyncpg_dsn(self.admin), f'CREATE DATABASE "{self.name}" TEMPLATE template0')
        )
        asyncio.run(
            _execute(
                self.dsn,
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE EXTENSION IF NOT EXISTS unaccent",
            )
        )
        for service in services:
            upgrade(service, self.url)

    def drop(self, attempts: int = 30) -> None:
        """Retried: FORCE cannot end an autovacuum worker, which our role may not signal."""
        statement = f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'
        for attempt in range(attempts):
            try:
                asyncio.run(_execute(asyncpg_dsn(self.admin), statement))
                return
            except asyncpg.InsufficientPrivilegeError:
                if attempt == attempts - 1:
                    raise
                time.sleep(2)


async def _execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def private_database(
    label: str, services: Sequence[str], *, keep: bool = False
) -> Iterator[PrivateDatabase]:
    """``keep``: leave it for inspection (``DROP DATABASE ... WITH (FORCE)`` it yourself)."""
    db = PrivateDatabase(admin_url(), label)
    try:
        db.create(services)
        yield db
    finally:
        if keep:
            print(f"kept database {db.name}: {db.url}")
        else:
            try:
                db.drop()
            except Exception as exc:  # a failed drop must not hide the run's own error
                print(f"warning: could not drop database {db.name}: {exc!r}", file=sys.stderr)


# -- bulk loading -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def indexes_dropped(conn: asyncpg.Connection, qualified: str) -> AsyncIterator[None]:
    """A table's secondary indexes and foreign keys dropped for a load, rebuilt after it.

    The definitions are read back from the catalog (``pg_get_indexdef``,
    ``pg_get_constraintdef``), so what is rebuilt is exactly what the migrations created; the
    primary key stays.
    """
    indexes = await conn.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
           FROM pg_index i
           WHERE i.indrelid = $1::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        qualified,
    )
    foreign_keys = await conn.fetch(
        """SELECT conname, pg_get_constraintdef(oid) AS ddl FROM pg_constraint
           WHERE conrelid = $1::regclass AND contype = 'f'""",
        qualified,
    )
    for fk in foreign_keys:
        await conn.execute(f'ALTER TABLE {qualified} DROP CONSTRAINT "{fk["conname"]}"')
    for index in indexes:
        await conn.execute(f"DROP INDEX {index['name']}")
    yield
    await conn.execute("SET maintenance_work_mem = '256MB'")
    for index in indexes:
        await conn.execute(index["ddl"])
    for fk in foreign_keys:
        await conn.execute(f'ALTER TABLE {qualified} ADD CONSTRAINT "{fk["conname"]}" {fk["ddl"]}')


async def bulk_load(
    conn: asyncpg.Connection,
    schema: str,
    table: str,
    columns: Sequence[str],
    chunks: Iterable[list[tuple[Any, ...]]],
) -> dict[str, float]:
    """COPY the chunks into an empty table, its secondary indexes and foreign keys rebuilt after
    (:func:`indexes_dropped`); the generators emit time-ordered UUIDv7 keys, so the primary key
    is appended to."""
    generate = copy = 0.0
    iterator = iter(chunks)
    loaded = indexes_dropped(conn, f"{schema}.{table}")
    await loaded.__aenter__()
    while True:
        started = time.perf_counter()
        chunk = next(iterator, None)
        generate += time.perf_counter() - started
        if chunk is None:
            break
        started = time.perf_counter()
        await conn.copy_records_to_table(
            table, schema_name=schema, columns=list(columns), records=chunk
        )
        copy += time.perf_counter() - started
    started = time.perf_counter()
    await loaded.__aexit__(None, None, None)
    rebuild = time.perf_counter() - started
    return {
        "generate_seconds": round(generate, 1),
        "copy_seconds": round(copy, 1),
        "index_rebuild_seconds": round(rebuild, 1),
    }


def uuid7_at(epoch_ms: int, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for a given moment, as ``libs.common.ids.new_id`` would have made then."""
    value = (epoch_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return uuid.UUID(int=value)


def zipf_weights(n: int, exponent: float) -> list[float]:
    """Cumulative weights for ``random.choices``: a few busy items, a long tail."""
    cumulative, total = [], 0.0
    for rank in range(n):
        total += 1.0 / (rank + 1) ** exponent
        cumulative.append(total)
    return cumulative


# -- a uvicorn process --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(database_url: str, topic_prefix: str, **extra: str) -> dict[str, str]:
    """The service's settings as the deployment passes them: ``CTIP_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTIP_")}
    env.update(
        CTIP_DATABASE_URL=database_url,
        CTIP_TOPIC_PREFIX=topic_prefix,
        CTIP_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Worker:
    """``ctip worker <service>`` as its own process: the relay, consumers and sender that
    compose and Kubernetes run beside an ``--api-only`` API."""

    START_SECONDS = 3.0

    def __init__(self, service: str, env: dict[str, str]) -> None:
        self.service = service
        self.env = env
        self._log = tempfile.NamedTemporaryFile(
            prefix="ctip-bench-worker-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> Worker:
        code = "import sys; from libs.common.cli import main; sys.exit(main(sys.argv[1:]))"
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - our interpreter; returns at once
            [sys.executable, "-c", code, "worker", self.service],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        await asyncio.sleep(self.START_SECONDS)
        if self.process.poll() is not None:
            raise BenchError(f"the {self.service} worker exited on start:\n{self.log_tail()}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])


class Uvicorn:
    """``uvicorn <app> --factory --workers 1`` as its own process, on a free port.

    Started with this interpreter (the project's venv, what ``uv run uvicorn`` runs), without
    the access log (a line per request would cost both sides of a comparison the same).
    """

    def __init__(self, app: str, env: dict[str, str], *, profile_to: Path | None = None) -> None:
        self.app = app
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(
            prefix="ctip-bench-uvicorn-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    async def __aenter__(self) -> Uvicorn:
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - our interpreter; returns at once
            self.command(), env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"{self.app} exited on start:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        return self
                await asyncio.sleep(0.2)
        self.stop()
        raise BenchError(f"{self.app} did not answer /healthz within {SERVER_START_TIMEOUT:.0f} s")

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


# -- profiling the measured window only ----------------------------------------------------------

PROFILE_ENV = "CTIP_BENCH_PROFILE_TO"
PROFILE_START, PROFILE_STOP = signal.SIGUSR1, signal.SIGUSR2


def profile_on_signals(app: T) -> T:
    """cProfile the server's event loop between SIGUSR1 and SIGUSR2 (the load's measured window),
    then dump the figures to ``$CTIP_BENCH_PROFILE_TO``: start-up and warm-up stay out of them.

    Call it from an app factory: uvicorn runs the factory in the main thread, before its loop.
    """
    path = os.environ[PROFILE_ENV]
    profiler = cProfile.Profile()

    def start(signum: int, frame: Any) -> None:
        profiler.enable()

    def stop(signum: int, frame: Any) -> None:
        profiler.disable()
        profiler.dump_stats(path)

    signal.signal(PROFILE_START, start)
    signal.signal(PROFILE_STOP, stop)
    return app


# -- the load generator -------------------------------------------------------------------------


@dataclass
class LoadSpec:
    """A closed loop: ``concurrency`` workers, each sending its next request when one returns."""

    url: str
    bodies: list[bytes]
    headers: dict[str, str]
    concurrency: int
    warm_up_seconds: float
    duration_seconds: float
    server_pid: int
    timeout_seconds: float = 30.0
    profile: bool = False
    # Other processes whose CPU over the window counts too (a service's worker), by name.
    other_pids: dict[str, int] = field(default_factory=dict)


@dataclass
class _Samples:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Entry point of the load process (spawned): uvloop if present, as the server has."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_load(spec))
    return uvloop.run(_load(spec))


class _KeepAlive:
    """One HTTP/1.1 keep-alive connection sending prepared requests: the load generator's client.

    Not httpx: its ~2 ms of CPU per request made the generator, not the server, the limit (it ran
    at 100% of a core for the baseline) and on 2 cores it took the CPU the server under test
    needed. Like wrk or oha, this sends pre-built bytes and reads the status line, the headers
    and a ``Content-Length`` or chunked body: about a twentieth of the cost.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _raw_requests(spec: LoadSpec) -> tuple[str, int, list[bytes]]:
    url = urlsplit(spec.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    headers = {"content-type": "application/json", **spec.headers}
    head = f"POST {url.path or '/'}{'?' + url.query if url.query else ''} HTTP/1.1\r\n"
    head += f"host: {host}:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        host,
        port,
        [head.encode() + f"content-length: {len(b)}\r\n\r\n".encode() + b for b in spec.bodies],
    )


async def _load(spec: LoadSpec) -> dict[str, Any]:
    host, port, requests = _raw_requests(spec)
    measured = _Samples()
    start = time.perf_counter()
    window_start = start + spec.warm_up_seconds
    window_end = window_start + spec.duration_seconds
    marks: dict[str, Any] = {}

    async def mark_window() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        if spec.profile:
            os.kill(spec.server_pid, PROFILE_START)
        marks["start"] = (process_cpu_seconds(spec.server_pid), system_cpu(), time.process_time())
        marks["others_start"] = {n: process_cpu_seconds(pid) for n, pid in spec.other_pids.items()}
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        marks["end"] = (process_cpu_seconds(spec.server_pid), system_cpu(), time.process_time())
        marks["others_end"] = {n: process_cpu_seconds(pid) for n, pid in spec.other_pids.items()}
        if spec.profile:
            os.kill(spec.server_pid, PROFILE_STOP)

    async def worker(offset: int) -> None:
        connection = _KeepAlive(host, port)
        n = offset
        while (sent := time.perf_counter()) < window_end:
            raw = requests[n % len(requests)]
            n += spec.concurrency
            try:
                async with asyncio.timeout(spec.timeout_seconds):
                    status = str(await connection.request(raw))
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                status = type(exc).__name__
                connection.close()
            done = time.perf_counter()
            if window_start <= sent and done <= window_end:
                measured.latencies.append(done - sent)
                measured.statuses[status] += 1
        connection.close()

    await asyncio.gather(mark_window(), *(worker(i) for i in range(spec.concurrency)))
    (server0, (busy0, total0), own0), (server1, (busy1, total1), own1) = (
        marks["start"],
        marks["end"],
    )
    ok = measured.statuses.get("201", 0) + measured.statuses.get("200", 0)
    seconds = spec.duration_seconds
    return {
        "requests": len(measured.latencies),
        "ok": ok,
        "statuses": dict(measured.statuses),
        "requests_per_second": round(ok / seconds, 1),
        "latency": latency_summary(measured.latencies),
        "server_cpu_percent": round(100 * (server1 - server0) / seconds, 1),
        "server_cpu_ms_per_request": round(1000 * (server1 - server0) / ok, 3) if ok else None,
        "load_generator_cpu_percent": round(100 * (own1 - own0) / seconds, 1),
        "machine_busy_percent": round(100 * (busy1 - busy0) / (total1 - total0), 1),
        "other_cpu_ms_per_request": {
            name: round(1000 * (marks["others_end"][name] - start_cpu) / ok, 3) if ok else None
            for name, start_cpu in marks["others_start"].items()
        },
    }


async def generate_load(spec: LoadSpec) -> dict[str, Any]:
    """Runs :func:`run_load` in a fresh process, so the generator has an interpreter of its own."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return await loop.run_in_executor(pool, run_load, spec)


# -- sequential latency ---------------------------------------------------------------------------


async def timed(calls: Sequence[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    """One after another: the latency of a single user, without queueing behind others."""
    latencies, results = [], []
    for call in calls:
        started = time.perf_counter()
        results.append(await call())
        latencies.append(time.perf_counter() - started)
    return latencies, results


def status_counts(responses: Iterable[httpx.Response]) -> dict[str, int]:
    return dict(Counter(str(r.status_code) for r in responses))


# -- the SQL behind an endpoint ------------------------------------------------------------------


class CapturingSession:
    """Stands in for an ``AsyncSession``: records the statements a repository function builds.

    Returns an empty result, so the function completes without touching a database; what is
    recorded is exactly what the endpoint sends, bound parameters included.
    """

    def __init__(self) -> None:
        self.statements: list[Executable] = []

    async def execute(self, statement: Executable, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(statement)
        return _Empty()


class _Empty:
    def all(self) -> list[Any]:
        return []

    def scalars(self) -> _Empty:
        return self


def compiled_sql(statement: Executable) -> tuple[str, list[Any]]:
    """The statement as asyncpg receives it: ``$n`` placeholders and their values in order."""
    compiled = statement.compile(
        dialect=asyncpg_dialect(), compile_kwargs={"render_postcompile": True}
    )
    names = compiled.positiontup or []
    return compiled.string, [compiled.params[name] for name in names]


async def explain_analyze(conn: asyncpg.Connection, sql: str, params: Sequence[Any]) -> list[str]:
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
    return [row[0] for row in rows]


def plan_summary(plan: list[str]) -> str:
    """The top node and the execution time, for the printed table (the JSON has it all)."""
    top = plan[0].strip() if plan else "?"
    execution = next((line.strip() for line in plan if line.startswith("Execution Time")), "")
    return f"{top.split('  (')[0]} | {execution}"


# -- results -------------------------------------------------------------------------------------


def write_result(name: str, result: dict[str, Any], started: datetime) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def header(title: str, result: dict[str, Any]) -> list[str]:
    m, p = result["machine"], result["parameters"]
    return [
        f"{title}, {result['started_at']}",
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['platform']}",
        f"load average (1/5/15 min) before {m['load_average_before']}, "
        f"after {m['load_average_after']}",
        f"python {m['python']}, PostgreSQL {m['postgresql']}, SQLAlchemy {m['sqlalchemy']}, "
        f"asyncpg {m['asyncpg']}",
        "parameters: " + ", ".join(f"{k}={v}" for k, v in p.items()),
        "",
    ]


def fmt_ms(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return "-" if value is None else f"{value:.1f}"


def run_in_private_database(
    name: str,
    schemas: list[str],
    args: Any,
    run: Callable[[Any, str, str], Awaitable[dict[str, Any]]],
    parameters: dict[str, Any],
    render: Callable[[dict[str, Any]], str],
) -> int:
    """A bench's ``main``: ``run(args, dsn, url)`` in a private database with ``schemas``
    migrated, then the report printed and the JSON written (``run`` returns
    ``postgresql_version`` and ``topic_prefix`` among its results)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    clock = time.perf_counter()
    try:
        with private_database(name, schemas, keep=args.keep_database) as db:
            print(f"database {db.name}" + ("" if args.keep_database else " (dropped at the end)"))
            results = asyncio.run(run(args, db.dsn, db.url))
    except BenchError as exc:
        print(f"bench failed: {exc}")
        return 1
    except (OSError, KafkaConnectionError, asyncpg.PostgresError) as exc:
        print(f"bench failed: {exc!r}\nis the local stack up? `deploy/local/stack.sh status`")
        return 1
    result = {
        "benchmark": name,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - clock, 1),
        "machine": machine_info(results.pop("postgresql_version"), load_before),
        "parameters": {**parameters, "topic_prefix": results.pop("topic_prefix")},
        **results,
    }
    print()
    print(render(result))
    print(f"\nJSON: {write_result(name, result, started)}")
    return 0

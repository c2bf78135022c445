"""Evidence files benchmark: upload and download through intake's routes, against PostgreSQL.

``uv run python -m bench.evidence [--sizes 1,25] [--repeats 20,6] [--skip-tracemalloc]``

1. Throughput and latency: an officer's ``POST /v1/tips/{id}/attachments`` (multipart, an MP4
   of exactly 1 MiB or 25 MiB whose media is random bytes) and ``GET
   /v1/attachments/{id}/content``, one request at a time over one keep-alive connection, through
   intake in a real uvicorn process (relay and consumers off, as ``--api-only`` deploys it).
   Baselines in the same run, from the bench process with asyncpg: the same bytes as one
   ``bytea`` row written with ``COPY`` and with a plain ``INSERT``, read back with one
   ``SELECT``; and between the two, :class:`~libs.common.filestore.PostgresFileStore` called
   in-process (AES-GCM in 1 MiB chunks, one row each; no HTTP, multipart or checks).
2. Memory of the API process: its RSS when idle, and its peak RSS during each request (the
   kernel's high-water mark ``VmHWM``, reset through ``/proc/<pid>/clear_refs`` before the
   request); then, in a second server process started under ``tracemalloc``, the peak of
   Python's allocations during one request of each kind. Also a reporter's upload
   (``POST /v1/receipts/attachments``), whose file is cleaned of its metadata before it is
   stored.

Everything runs in a database of its own (``ctip_bench_evidence_<hex>``), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import signal
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bench.common import (
    Uvicorn,
    header,
    process_cpu_seconds,
    run_in_private_database,
    service_env,
)
from bench.intake import tip_bodies
from bench.report import _table as table
from bench.report import latency_summary
from bench.support import BenchError
from libs.common.auth import issue_dev_token
from libs.common.crypto import FieldCipher
from libs.common.db import Database
from libs.common.files import MAX_FILE_BYTES
from libs.common.filestore import CHUNK_BYTES, FileStore, PostgresFileStore
from libs.common.platform import platform_of
from services.intake.models import metadata
from services.intake.settings import IntakeSettings
from testkit import evidence

INTAKE_APP = "services.intake.app:create_app"
TRACED_APP = "bench.evidence:traced_intake_app"
TRACE_ENV = "CTIP_BENCH_TRACEMALLOC_TO"
TRACE_START, TRACE_STOP = signal.SIGUSR1, signal.SIGUSR2
MIB = 1024 * 1024
FILES_PER_TIP = 20
BOUNDARY = "ctipbench" + "7" * 24
PURPOSE = "benchmark of evidence downloads"


# -- the files -----------------------------------------------------------------------------------


def video(size: int) -> bytes:
    """A phone video of exactly ``size`` bytes: ftyp, moov (with a location atom), then an
    mdat of random bytes, which neither compress nor look like markup."""
    overhead = len(evidence.mp4_with_location(b""))
    return evidence.mp4_with_location(os.urandom(size - overhead))


def multipart(data: bytes, filename: str, fields: dict[str, str] | None = None) -> bytes:
    parts = b""
    for name, value in (fields or {}).items():
        parts += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return parts + head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


# -- a raw HTTP/1.1 client -----------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes
    length: int
    sha256: str | None = None


class Connection:
    """One keep-alive connection sending prepared bytes and reading the reply in 1 MiB reads:
    the client's cost is a small share of the server's (httpx would build the multipart body
    and parse the reply in Python, on the same two cores)."""

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        *,
        keep: bool = False,
        digest: bool = False,
    ) -> Reply:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, limit=2 * MIB
            )
        head = f"{method} {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"content-length: {len(body)}\r\n\r\n" if body else "\r\n"
        self.writer.write(head.encode())
        if body:
            self.writer.write(body)
        await self.writer.drain()
        status_line, _, block = (await self.reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(b":") for line in block.split(b"\r\n"))
            if name
        )
        if b"chunked" in fields.get(b"transfer-encoding", b""):
            raise BenchError(f"{path}: a chunked reply; the bench expects a Content-Length")
        length = int(fields.get(b"content-length", b"0"))
        sha = hashlib.sha256() if digest else None
        kept, left = bytearray(), length
        while left:
            piece = await self.reader.read(min(left, MIB))
            if not piece:
                raise BenchError(f"{path}: the connection closed {left} bytes short")
            left -= len(piece)
            if sha is not None:
                sha.update(piece)
            if keep or status >= 300:
                kept += piece
        if fields.get(b"connection", b"").lower() == b"close":
            self.close()
        return Reply(status, bytes(kept), length, sha.hexdigest() if sha else None)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# -- the API process's memory --------------------------------------------------------------------


def _status_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {name} in /proc/{pid}/status")


def rss_mib(pid: int) -> float:
    return round(_status_kib(pid, "VmRSS") / 1024, 1)


def reset_peak_rss(pid: int) -> None:
    """The high-water mark back to the current RSS (``clear_refs``: 5, Linux 4.0 and later)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mib(pid: int) -> float:
    return round(_status_kib(pid, "VmHWM") / 1024, 1)


def traced_intake_app() -> FastAPI:
    """The intake app under ``tracemalloc``: SIGUSR1 resets the peak, SIGUSR2 writes the figures
    (MiB of Python allocations: when reset, peak since, now) to ``$CTIP_BENCH_TRACEMALLOC_TO``."""
    from services.intake.app import create_app

    path = Path(os.environ[TRACE_ENV])
    tracemalloc.start(1)
    marks: dict[str, float] = {}

    def start(signum: int, frame: Any) -> None:
        tracemalloc.reset_peak()
        marks["at_reset_mib"] = tracemalloc.get_traced_memory()[0] / MIB

    def stop(signum: int, frame: Any) -> None:
        current, peak = tracemalloc.get_traced_memory()
        figures = {**marks, "peak_mib": peak / MIB, "now_mib": current / MIB}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({k: round(v, 2) for k, v in figures.items()}))
        temporary.replace(path)

    signal.signal(TRACE_START, start)
    signal.signal(TRACE_STOP, stop)
    return create_app()


class Tracer:
    """The bench's side of :func:`traced_intake_app`."""

    def __init__(self, server: Uvicorn, path: Path) -> None:
        self.server, self.path = server, path

    async def start(self) -> None:
        self.path.unlink(missing_ok=True)
        os.kill(self.server.pid, TRACE_START)
        await asyncio.sleep(0.1)  # the handler runs when the event loop next wakes

    async def stop(self) -> dict[str, float]:
        os.kill(self.server.pid, TRACE_STOP)
        for _ in range(100):
            if self.path.exists():
                figures: dict[str, float] = json.loads(self.path.read_text())
                return figures
            await asyncio.sleep(0.05)
        raise BenchError(f"tracemalloc wrote nothing:\n{self.server.log_tail()}")


# -- through the API -----------------------------------------------------------------------------


@dataclass
class Api:
    """An officer of province 01 filing tips and adding files, 20 to a tip."""

    server: Uvicorn
    officer: dict[str, str]
    connection: Connection
    tips: list[dict[str, Any]] = field(default_factory=list)
    uploads: int = 0
    bodies: list[bytes] = field(default_factory=lambda: tip_bodies(50))

    async def tip(self) -> dict[str, Any]:
        if not self.tips or self.uploads >= FILES_PER_TIP * len(self.tips):
            body = self.bodies[len(self.tips) % len(self.bodies)]
            headers = {**self.officer, "content-type": "application/json"}
            reply = await self.connection.send("POST", "/v1/tips", headers, body, keep=True)
            if reply.status != 201:
                raise BenchError(f"POST /v1/tips: {reply.status} {reply.body[:500]!r}")
            self.tips.append(json.loads(reply.body))
        return self.tips[-1]

    async def upload(self, body: bytes) -> Reply:
        tip = await self.tip()
        headers = {
            **self.officer,
            "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        }
        path = f"/v1/tips/{tip['id']}/attachments"
        reply = await self.connection.send("POST", path, headers, body, keep=True)
        self.uploads += 1
        return reply

    async def report(self, body: bytes) -> Reply:
        """The reporter's upload (receipt code in the body, no token), on a tip of its own."""
        await self.tip()
        self.uploads = FILES_PER_TIP * len(self.tips)  # the next officer's file opens a new tip
        headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
        return await self.connection.send(
            "POST", "/v1/receipts/attachments", headers, body, keep=True
        )

    async def download(self, attachment_id: str, *, digest: bool = False) -> Reply:
        headers = {**self.officer, "x-purpose": PURPOSE}
        path = f"/v1/attachments/{attachment_id}/content"
        return await self.connection.send("GET", path, headers, digest=digest)


@dataclass
class Sample:
    seconds: float
    server_cpu_seconds: float
    rss_before_mib: float
    peak_rss_mib: float


async def timed_request(pid: int, call: Callable[[], Awaitable[Reply]]) -> tuple[Sample, Reply]:
    """One request with the server's CPU time and its RSS high-water mark around it."""
    before = rss_mib(pid)
    reset_peak_rss(pid)
    cpu = process_cpu_seconds(pid)
    started = time.perf_counter()
    reply = await call()
    seconds = time.perf_counter() - started
    sample = Sample(seconds, process_cpu_seconds(pid) - cpu, before, peak_rss_mib(pid))
    return sample, reply


def figures(size: int, samples: Sequence[Sample], **extra: Any) -> dict[str, Any]:
    seconds = [s.seconds for s in samples]
    latency = latency_summary(seconds)
    result: dict[str, Any] = {
        "bytes": size,
        "latency": latency,
        "mib_per_second_p50": round(size / MIB / (latency["p50_ms"] / 1000), 1),
        "mib_per_second_mean": round(size * len(seconds) / MIB / sum(seconds), 1),
        **extra,
    }
    if samples and samples[0].server_cpu_seconds >= 0:
        cpu = sum(s.server_cpu_seconds for s in samples) / len(samples)
        result["server_cpu_ms_per_request"] = round(1000 * cpu, 1)
        result["server_cpu_ms_per_mib"] = round(1000 * cpu / (size / MIB), 1)
        result["rss_before_mib_max"] = max(s.rss_before_mib for s in samples)
        result["peak_rss_mib_max"] = max(s.peak_rss_mib for s in samples)
        result["peak_over_before_mib_max"] = round(
            max(s.peak_rss_mib - s.rss_before_mib for s in samples), 1
        )
    return result


async def through_api(
    args: argparse.Namespace, url: str, prefix: str, sizes: Sequence[tuple[int, int]]
) -> dict[str, Any]:
    settings = IntakeSettings(database_url=url, topic_prefix=prefix)
    token = issue_dev_token(settings, roles=["intake_officer"], jurisdiction=["01"], sub="bench")
    env = service_env(url, prefix, CTIP_RUN_RELAY="false", CTIP_RUN_CONSUMERS="false")
    results: dict[str, Any] = {}
    async with Uvicorn(INTAKE_APP, env) as server:
        api = Api(server, {"authorization": f"Bearer {token}"}, Connection(server.base_url))
        results["idle_rss_mib"] = rss_mib(server.pid)
        for size, repeats in sizes:
            label = f"{size // MIB} MiB"
            data = video(size)
            body = multipart(data, "VID_0001.mp4")
            sha = hashlib.sha256(data).hexdigest()
            print(f"  {label}: {args.warm_up} + {repeats} uploads, then downloads ...", flush=True)
            ids: list[str] = []
            up: list[Sample] = []
            for n in range(args.warm_up + repeats):
                sample, reply = await timed_request(server.pid, partial(api.upload, body))
                if reply.status != 201:
                    raise BenchError(f"upload of {label}: {reply.status} {reply.body[:500]!r}")
                made = json.loads(reply.body)
                if made["sha256"] != sha or made["size"] != size:
                    raise BenchError(f"upload of {label}: stored {made['size']} {made['sha256']}")
                ids.append(made["id"])
                if n >= args.warm_up:
                    up.append(sample)
            down: list[Sample] = []
            for n, attachment_id in enumerate(ids):
                first = n == 0
                sample, reply = await timed_request(
                    server.pid, partial(api.download, attachment_id, digest=first)
                )
                if reply.status != 200 or reply.length != size or (first and reply.sha256 != sha):
                    raise BenchError(f"download of {label}: {reply.status}, {reply.length} bytes")
                if n >= args.warm_up:
                    down.append(sample)
            results[label] = {
                "upload": figures(size, up, warm_up=args.warm_up),
                "download": figures(size, down, warm_up=args.warm_up),
            }
        results["reporter_upload"] = await reporter(api, server.pid, sizes[-1][0])
        results["rss_after_mib"] = rss_mib(server.pid)
        results["tips_filed"] = len(api.tips)
        api.connection.close()
    return results


def flat_photo(width: int = 10_000, height: int = 8_000) -> bytes:
    """A JPEG of 80 megapixels (the pixel limit) in about 1.2 MiB: one colour compresses well."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(out, "JPEG", quality=90)
    return out.getvalue()


async def reporter(api: Api, pid: int, size: int) -> dict[str, Any]:
    """A reporter's files, cleaned of their metadata before they are stored: a video of
    ``size`` (its location atom neutralised) and an 80-megapixel photo (re-encoded from its
    pixels); each twice, the first as warm-up."""
    results = {}
    for label, name, data in (
        (f"{size // MIB} MiB video", "VID_0002.mp4", video(size)),
        ("80 MP photo", "IMG_0003.jpg", flat_photo()),
    ):
        tip = await api.tip()
        body = multipart(data, name, {"receipt_code": tip["receipt_code"]})
        samples = []
        for _ in range(2):
            sample, reply = await timed_request(pid, partial(api.report, body))
            if reply.status != 201:
                raise BenchError(f"reporter's {label}: {reply.status} {reply.body[:500]!r}")
            samples.append(sample)
        results[label] = figures(len(data), samples[1:], warm_up=1)
    return results


async def under_tracemalloc(url: str, prefix: str, sizes: Sequence[int]) -> dict[str, Any]:
    """One warm-up and one traced request of each kind, in a server started under tracemalloc."""
    settings = IntakeSettings(database_url=url, topic_prefix=prefix)
    token = issue_dev_token(settings, roles=["intake_officer"], jurisdiction=["01"], sub="bench")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ctip-bench-tracemalloc-") as tmp:
        path = Path(tmp) / "figures.json"
        env = service_env(
            url,
            prefix,
            CTIP_RUN_RELAY="false",
            CTIP_RUN_CONSUMERS="false",
            **{TRACE_ENV: str(path)},
        )
        async with Uvicorn(TRACED_APP, env) as server:
            api = Api(server, {"authorization": f"Bearer {token}"}, Connection(server.base_url))
            tracer = Tracer(server, path)
            for size in sizes:
                label = f"{size // MIB} MiB"
                print(f"  {label} under tracemalloc ...", flush=True)
                body = multipart(video(size), "VID_0001.mp4")
                for kind in ("upload", "download"):
                    for _attempt in ("warm-up", "traced"):
                        await tracer.start()
                        if kind == "upload":
                            reply = await api.upload(body)
                            made = json.loads(reply.body)
                        else:
                            reply = await api.download(made["id"])
                        traced = await tracer.stop()
                        if reply.status not in (200, 201):
                            raise BenchError(f"{kind} of {label}: {reply.status}")
                    results[f"{label} {kind}"] = traced
            tip = await api.tip()
            body = multipart(
                video(sizes[-1]), "VID_0002.mp4", {"receipt_code": tip["receipt_code"]}
            )
            for _ in ("warm-up", "traced"):
                await tracer.start()
                reply = await api.report(body)
                traced = await tracer.stop()
            if reply.status != 201:
                raise BenchError(f"reporter's upload under tracemalloc: {reply.status}")
            results[f"{sizes[-1] // MIB} MiB reporter video upload"] = traced
            api.connection.close()
    return results


# -- the baselines -------------------------------------------------------------------------------


async def raw_postgres(dsn: str, sizes: Sequence[tuple[int, int]], warm_up: int) -> dict[str, Any]:
    """The same bytes as one ``bytea`` row: COPY, INSERT, then one SELECT each."""
    conn = await asyncpg.connect(dsn)
    results: dict[str, Any] = {}
    try:
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS bench_baseline;"
            "CREATE TABLE bench_baseline.blobs (id uuid PRIMARY KEY, data bytea NOT NULL)"
        )
        for size, repeats in sizes:
            label = f"{size // MIB} MiB"
            data = video(size)
            copy, insert, select = [], [], []
            for n in range(warm_up + repeats):
                ids = uuid.uuid4(), uuid.uuid4()
                started = time.perf_counter()
                await conn.copy_records_to_table(
                    "blobs", schema_name="bench_baseline", records=[(ids[0], data)]
                )
                copied = time.perf_counter()
                await conn.execute("INSERT INTO bench_baseline.blobs VALUES ($1, $2)", ids[1], data)
                inserted = time.perf_counter()
                back = await conn.fetchval(
                    "SELECT data FROM bench_baseline.blobs WHERE id=$1", ids[1]
                )
                selected = time.perf_counter()
                if len(back) != size:
                    raise BenchError(f"SELECT of {label}: {len(back)} bytes")
                if n >= warm_up:
                    copy.append(Sample(copied - started, -1, 0, 0))
                    insert.append(Sample(inserted - copied, -1, 0, 0))
                    select.append(Sample(selected - inserted, -1, 0, 0))
            results[label] = {
                "copy": figures(size, copy),
                "insert": figures(size, insert),
                "select": figures(size, select),
            }
    finally:
        await conn.close()
    return results


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 64 * 1024):  # as the multipart parser hands them over
        yield data[start : start + 64 * 1024]


async def file_store(url: str, sizes: Sequence[tuple[int, int]], warm_up: int) -> dict[str, Any]:
    """:class:`PostgresFileStore` in-process: what the route adds on top of the store."""
    settings = IntakeSettings(database_url=url)
    installed = platform_of(metadata).files
    assert isinstance(installed, PostgresFileStore)
    store = PostgresFileStore(  # the service's tables, this process's key
        installed.tables, FieldCipher.from_spec(settings.field_keys.get_secret_value())
    )
    db = Database(url, pool_size=2, application_name="ctip-bench-evidence")
    results: dict[str, Any] = {}
    try:
        for size, repeats in sizes:
            data = video(size)
            writes, reads = [], []
            for n in range(warm_up + repeats):
                file_id = uuid.uuid4()
                started = time.perf_counter()
                async with db.sessions() as session, session.begin():
                    await _store(store, session, file_id, data)
                written = time.perf_counter()
                got = 0
                async with db.sessions() as session, session.begin():
                    async for chunk in store.read(session, file_id):
                        got += len(chunk)
                read = time.perf_counter()
                if got != size:
                    raise BenchError(f"FileStore.read: {got} bytes of {size}")
                if n >= warm_up:
                    writes.append(Sample(written - started, -1, 0, 0))
                    reads.append(Sample(read - written, -1, 0, 0))
            results[f"{size // MIB} MiB"] = {
                "write": figures(size, writes),
                "read": figures(size, reads),
            }
        async with db.engine.connect() as conn:
            results["on_disk"] = await _footprint(conn)
    finally:
        await db.dispose()
    return results


async def _store(store: FileStore, session: AsyncSession, file_id: uuid.UUID, data: bytes) -> None:
    await store.write(session, file_id, _pieces(data))


async def _footprint(conn: AsyncConnection) -> dict[str, Any]:
    row = (
        await conn.execute(
            text(
                "SELECT (SELECT coalesce(sum(size), 0) FROM intake.stored_files) AS plain,"
                " pg_total_relation_size('intake.stored_file_chunks') AS chunks"
            )
        )
    ).one()
    return {
        "bytes_stored": int(row.plain),
        "chunk_table_bytes": int(row.chunks),
        "ratio": round(row.chunks / row.plain, 3) if row.plain else None,
    }


# -- the run -------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    sizes = list(zip((s * MIB for s in args.sizes), args.repeats, strict=True))
    conn = await asyncpg.connect(dsn)
    results: dict[str, Any] = {"topic_prefix": prefix}
    results["postgresql_version"] = str(await conn.fetchval("SHOW server_version"))
    await conn.close()
    print("1. through intake's HTTP routes (officer), RSS high-water mark per request")
    results["api"] = await through_api(args, url, prefix, sizes)
    print("2. baselines: COPY / INSERT / SELECT of one bytea row; PostgresFileStore in-process")
    results["postgres"] = await raw_postgres(dsn, sizes, args.warm_up)
    results["file_store"] = await file_store(url, sizes, args.warm_up)
    if not args.skip_tracemalloc:
        print("3. the API process under tracemalloc")
        results["tracemalloc"] = await under_tracemalloc(url, prefix, [s for s, _ in sizes])
    return results


def render(result: dict[str, Any]) -> str:
    out = header("ctip evidence files benchmark", result)
    api, pg, fs = result["api"], result["postgres"], result["file_store"]
    rows = []
    for label in (k for k in api if k.endswith("MiB")):
        for name, r in (
            ("POST /v1/tips/{id}/attachments", api[label]["upload"]),
            ("PostgresFileStore.write in-process", fs[label]["write"]),
            ("COPY one bytea row", pg[label]["copy"]),
            ("INSERT one bytea row", pg[label]["insert"]),
            ("GET /v1/attachments/{id}/content", api[label]["download"]),
            ("PostgresFileStore.read in-process", fs[label]["read"]),
            ("SELECT one bytea row", pg[label]["select"]),
        ):
            s = r["latency"]
            rows.append(
                [
                    f"{label} {name}",
                    str(s["count"]),
                    *(f"{s[k]:.1f}" for k in ("p50_ms", "p95_ms", "max_ms")),
                    f"{r['mib_per_second_p50']:.1f}",
                    f"{r['mib_per_second_mean']:.1f}",
                    f"{r['server_cpu_ms_per_mib']:.1f}" if "server_cpu_ms_per_mib" in r else "",
                ]
            )
    out += [
        "1. one request at a time (ms; MiB/s = size / p50 and total bytes / total time; "
        "srv cpu = the API process's CPU per MiB)",
        table(
            ["what", "n", "p50", "p95", "max", "MiB/s p50", "MiB/s mean", "srv cpu ms/MiB"], rows
        ),
        "",
    ]
    memory = [
        [
            f"{label} {kind}",
            f"{api[label][kind]['rss_before_mib_max']:.1f}",
            f"{api[label][kind]['peak_rss_mib_max']:.1f}",
            f"{api[label][kind]['peak_over_before_mib_max']:.1f}",
        ]
        for label in (k for k in api if k.endswith("MiB"))
        for kind in ("upload", "download")
    ]
    memory += [
        [
            f"reporter's {label}, {r['bytes'] / MIB:.1f} MiB (cleaned)",
            f"{r['rss_before_mib_max']:.1f}",
            f"{r['peak_rss_mib_max']:.1f}",
            f"{r['peak_over_before_mib_max']:.1f}",
        ]
        for label, r in api["reporter_upload"].items()
    ]
    out += [
        f"2. API process RSS (MiB): idle after start {api['idle_rss_mib']}, after the run "
        f"{api['rss_after_mib']}; per request the largest of its runs",
        table(["request", "RSS before", "peak RSS", "peak - before"], memory),
        "",
    ]
    traced = result.get("tracemalloc")
    if traced:
        out += [
            "   under tracemalloc (MiB of Python allocations; one request after a warm-up)",
            table(
                ["request", "at start", "peak", "peak - start"],
                [
                    [
                        name,
                        f"{t['at_reset_mib']:.1f}",
                        f"{t['peak_mib']:.1f}",
                        f"{t['peak_mib'] - t['at_reset_mib']:.1f}",
                    ]
                    for name, t in traced.items()
                ],
            ),
            "",
        ]
    disk = fs["on_disk"]
    out.append(
        f"stored_file_chunks: {disk['chunk_table_bytes'] / MIB:.1f} MiB on disk for "
        f"{disk['bytes_stored'] / MIB:.1f} MiB of files (x{disk['ratio']}); "
        f"{api['tips_filed']} tips filed"
    )
    out.append(f"bench took {result['duration_seconds']:.1f} s")
    return "\n".join(out)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=_ints, default=[1, 25], help="MiB, at most 25")
    parser.add_argument("--repeats", type=_ints, default=[20, 6], help="measured, per size")
    parser.add_argument("--warm-up", type=int, default=2, help="unmeasured requests per size")
    parser.add_argument("--skip-tracemalloc", action="store_true")
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if len(args.sizes) != len(args.repeats) or not args.sizes:
        parser.error("--sizes and --repeats need as many values")
    if any(s < 1 or s * MIB > MAX_FILE_BYTES for s in args.sizes) or min(args.repeats) < 1:
        parser.error("sizes from 1 to 25 MiB, repeats at least 1")
    if args.warm_up < 1:
        parser.error("--warm-up must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {
        "sizes_mib": args.sizes,
        "repeats": args.repeats,
        "warm_up": args.warm_up,
        "chunk_bytes": CHUNK_BYTES,
    }
    return run_in_private_database("evidence", ["intake"], args, run, parameters, render)


if __name__ == "__main__":
    raise SystemExit(main())

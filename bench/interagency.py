"""Interagency benchmarks: missing-person matching at scale, and webhook fan-out with partners down.

``uv run python -m bench.interagency [--missing 1000000] [--queries 300] [--alerts 500]
[--partners 20] [--down 2]``

a) Matching. ``--missing`` open reports are bulk-loaded (COPY) into ``missing_person_refs`` exactly
   as ``missing_persons.missing_person_reported`` stores them (encrypted name and date of birth, the
   name's blocking keys in ``match_keys``), then ANALYZEd. ``--queries`` found persons of a labelled
   set (half of them a loaded person as a partner might type them: diacritics dropped, reordered, a
   typo, an age for a date of birth; half other people, some namesakes) go through
   ``matches.found_facts`` and ``matches.scored_candidates``, the code an inbound ``person_found``
   runs: latency, recall and precision. Baseline: ``rapidfuzz.process.extract`` over every folded
   name in memory (top ``match_candidates``), scored with the same ``matching.score``.
b) Fan-out. ``--partners`` real HTTP receivers (one Starlette app on as many ports) verify every
   signature; ``--down`` of them answer 503 at first. The partners are registered through the
   API, ``--alerts`` missing-person reports go through interagency's event handler (each alert to
   every partner), and the service's own uvicorn process runs the delivery worker on a compressed
   retry schedule and a compressed circuit breaker (``--circuit-open``, ``--circuit-max-open``).
   Deliveries/s to the healthy partners and the time to drain them, and the 503s the down
   partners answered (what they cost); then the partners come back, deliveries that exhausted
   the schedule are replayed with ``POST /v1/deliveries/replay``, and every alert must have
   reached every partner: exactly once by webhook-id, duplicates counted.

Everything runs in a private database (``template0``, migrated, dropped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import uvicorn
from aiokafka.errors import KafkaConnectionError
from rapidfuzz import fuzz, process
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.report import _table, latency_summary, machine_info
from bench.support import BenchError, delete_topics
from bench.victim_support import (
    DEFAULT_DATABASE_URL,
    ServiceProcess,
    expect,
    free_port,
    private_database,
    service_env,
    token_headers,
    write_result,
)
from libs.common.context import context_factory
from libs.common.crypto import BlindIndex, FieldCipher, configure_cipher
from libs.common.db import Database, asyncpg_dsn
from libs.common.jurisdiction import is_province_code
from libs.common.platform import platform_of
from libs.common.text import fold_vietnamese
from libs.contracts.intake import MissingPersonPublished, MissingPersonReported
from services.interagency import match_repository, matches, matching, missing_persons
from services.interagency.alert_data import PersonFoundData
from services.interagency.models import MissingPersonRef, metadata
from services.interagency.settings import InteragencySettings
from testkit.names import (
    FAMILY,
    GIVEN_FEMALE,
    GIVEN_MALE,
    MIDDLE_FEMALE,
    MIDDLE_MALE,
    WARDS,
    reorder,
    strip_marks,
    typo,
)

log = logging.getLogger("bench.interagency")
SEED = 20261128
TODAY = date(2026, 11, 1)
COPY_CHUNK = 100_000
DRAIN_TIMEOUT = 600.0
# More given names than the test set, so that a million people are not 7,000 names.
MORE_FEMALE = [
    "Bích", "Cúc", "Diễm", "Duyên", "Hằng", "Hiền", "Hồng", "Khuê", "Liên", "Ly", "My", "Nguyệt",
    "Nhi", "Oanh", "Quyên", "Quỳnh", "Sen", "Thắm", "Thúy", "Thư", "Trâm", "Uyên", "Vy", "Xuân",
]  # fmt: skip
MORE_MALE = [
    "An", "Bảo", "Chiến", "Công", "Duy", "Định", "Giang", "Hào", "Hoàng", "Huy", "Khang", "Khoa",
    "Lâm", "Luân", "Mạnh", "Nghĩa", "Nhân", "Phong", "Quang", "Tài", "Thiện", "Toàn", "Vinh", "Vũ",
]  # fmt: skip
FEMALE_GIVEN = GIVEN_FEMALE + MORE_FEMALE
MALE_GIVEN = GIVEN_MALE + MORE_MALE


# -- a) matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    id: uuid.UUID
    full_name: str
    sex: str
    date_of_birth: date
    hometown_ward_code: str


def random_person(rng: random.Random) -> tuple[str, str, date, str]:
    """Family, one or two middle names and a given name fitting the sex, as names.py builds
    them, from a wider pool of given names."""
    sex = rng.choice(["female", "male"])
    middles, givens = (
        (MIDDLE_FEMALE, FEMALE_GIVEN) if sex == "female" else (MIDDLE_MALE, MALE_GIVEN)
    )
    middle = " ".join(rng.sample(middles, 2 if rng.random() < 0.5 else 1))
    name = f"{rng.choice(FAMILY)} {middle} {rng.choice(givens)}"
    born = date(rng.randint(1975, 2012), rng.randint(1, 12), rng.randint(1, 28))
    return name, sex, born, rng.choice(WARDS)


def population(count: int, rng: random.Random) -> list[Missing]:
    ids = uuid.UUID(int=rng.getrandbits(128))  # a random base; ids are base + n
    return [Missing(uuid.UUID(int=ids.int ^ n), *random_person(rng)) for n in range(count)]


@dataclass(frozen=True)
class Query:
    truth: uuid.UUID | None
    data: PersonFoundData


def labelled_queries(people: list[Missing], count: int, rng: random.Random) -> list[Query]:
    """Half true pairs, mutated as names.py mutates them; half other people (40% namesakes of a
    missing person: same family and given name, another middle name, born years apart)."""
    found_at = datetime(2026, 11, 1, tzinfo=UTC)
    queries: list[Query] = []
    for person in rng.sample(people, count // 2):
        name = person.full_name
        if rng.random() < 0.8:
            name = strip_marks(name)
        if rng.random() < 0.4:
            name = reorder(name)
        if rng.random() < 0.5:
            name = typo(name, rng)
        by_age = rng.random() < 0.4
        age = TODAY.year - person.date_of_birth.year - rng.choice([0, 1])
        queries.append(
            Query(
                person.id,
                PersonFoundData(
                    full_name=name,
                    sex=person.sex,  # type: ignore[arg-type]
                    date_of_birth=None if by_age else person.date_of_birth,
                    age=age if by_age else None,
                    hometown_ward_code=person.hometown_ward_code if rng.random() < 0.5 else None,
                    found_at=found_at,
                ),
            )
        )
    while len(queries) < count:
        name, sex, born, ward = random_person(rng)
        if rng.random() < 0.4:
            model = rng.choice(people)
            parts = model.full_name.split()
            middles = MIDDLE_FEMALE if model.sex == "female" else MIDDLE_MALE
            alt = rng.choice([m for m in middles if m not in parts[1:-1]])
            name, sex = f"{parts[0]} {alt} {parts[-1]}", model.sex
            born = model.date_of_birth.replace(
                year=model.date_of_birth.year + rng.choice([-9, -7, 6, 8])
            )
            ward = model.hometown_ward_code
        by_age = rng.random() < 0.4
        queries.append(
            Query(
                None,
                PersonFoundData(
                    full_name=strip_marks(name) if rng.random() < 0.7 else name,
                    sex=sex,  # type: ignore[arg-type]
                    date_of_birth=None if by_age else born,
                    age=TODAY.year - born.year if by_age else None,
                    hometown_ward_code=ward if rng.random() < 0.5 else None,
                    found_at=found_at,
                ),
            )
        )
    rng.shuffle(queries)
    return queries


async def load_missing(
    database_url: str, people: list[Missing], index: BlindIndex
) -> dict[str, float]:
    """Rows as ``missing_persons.missing_person_reported`` writes them, through the columns' own
    types (so ``full_name`` and ``date_of_birth`` are encrypted with their column's context), and
    their blocking keys in ``match_keys``. Secondary indexes and the keys' foreign key are dropped
    for the COPY and rebuilt from their own definitions."""
    columns = MissingPersonRef.__table__.c
    name_type, dob_type = columns.full_name.type, columns.date_of_birth.type
    keys_of: dict[str, list[int]] = {}
    now = datetime.now(UTC)
    reported = now - timedelta(days=30)
    start = time.perf_counter()
    records, keys = [], []
    for p in people:
        digests = keys_of.get(p.full_name)
        if digests is None:
            digests = keys_of[p.full_name] = [
                index.key64(matching.KEY_PURPOSE, k) for k in matching.stored_name_keys(p.full_name)
            ]
        keys += [(d, p.id) for d in digests]
        records.append(
            (
                p.id,
                "open",
                name_type.process_bind_param(p.full_name, None),
                p.sex,
                dob_type.process_bind_param(p.date_of_birth.isoformat(), None),
                p.date_of_birth.year,
                p.hometown_ward_code,
                "00004",
                "01",
                None,
                None,
                reported,
                now,
            )
        )
    prepared = time.perf_counter() - start
    names = [
        "missing_person_id",
        "status",
        "full_name",
        "sex",
        "date_of_birth",
        "birth_year",
        "hometown_ward_code",
        "last_seen_ward_code",
        "province_code",
        "id_digest",
        "phone_digest",
        "reported_at",
        "updated_at",
    ]
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'interagency' "
            "AND tablename IN ('missing_person_refs', 'match_keys') AND indexname NOT LIKE 'pk_%'"
        )
        foreign_keys = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = 'interagency.match_keys'::regclass AND contype = 'f'"
        )
        for row in foreign_keys:
            await conn.execute(f'ALTER TABLE interagency.match_keys DROP CONSTRAINT "{row[0]}"')
        for row in indexes:
            await conn.execute(f'DROP INDEX interagency."{row["indexname"]}"')
        start = time.perf_counter()
        for table, rows, cols in (
            ("missing_person_refs", records, names),
            ("match_keys", keys, ["digest", "missing_person_id"]),
        ):
            for first in range(0, len(rows), COPY_CHUNK):
                await conn.copy_records_to_table(
                    table,
                    schema_name="interagency",
                    records=rows[first : first + COPY_CHUNK],
                    columns=cols,
                )
        copied = time.perf_counter() - start
        start = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        for row in foreign_keys:
            await conn.execute(
                f'ALTER TABLE interagency.match_keys ADD CONSTRAINT "{row[0]}" {row[1]}'
            )
        await conn.execute("ANALYZE interagency.missing_person_refs")
        await conn.execute("ANALYZE interagency.match_keys")
        indexed = time.perf_counter() - start
    finally:
        await conn.close()
    return {
        "prepare_s": round(prepared, 1),
        "copy_s": round(copied, 1),
        "index_and_analyze_s": round(indexed, 1),
        "distinct_names": len(keys_of),
        "match_keys": len(keys),
    }


def judge(
    results: list[tuple[Query, list[uuid.UUID]]],
) -> dict[str, Any]:
    """Recall over the true pairs (their person among the candidates kept); precision over
    every candidate kept (true pairs' other candidates and all of the decoys' are false)."""
    true_pairs = [(q, found) for q, found in results if q.truth is not None]
    hits = sum(q.truth in found for q, found in true_pairs)
    top1 = sum(bool(found) and found[0] == q.truth for q, found in true_pairs)
    kept = sum(len(found) for _, found in results)
    correct = sum(q.truth in found for q, found in results if q.truth is not None)
    return {
        "true_pairs": len(true_pairs),
        "decoys": len(results) - len(true_pairs),
        "recall": round(hits / len(true_pairs), 3) if true_pairs else None,
        "top1": round(top1 / len(true_pairs), 3) if true_pairs else None,
        "candidates_kept": kept,
        "precision": round(correct / kept, 3) if kept else None,
        "decoys_with_a_candidate": sum(bool(found) for q, found in results if q.truth is None),
    }


async def service_matching(
    database_url: str, settings: InteragencySettings, queries: list[Query], budget: float
) -> dict[str, Any]:
    """Stops after ``budget`` seconds: the queries are shuffled, so the ones run are a sample
    of the labelled set; the baseline then runs the same ones."""
    db = Database(database_url, pool_size=2, application_name="ctip-bench-matching")
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    seconds: list[float] = []
    results: list[tuple[Query, list[uuid.UUID]]] = []
    try:
        for q in queries[:5]:  # warm-up: connections, plans, the index's pages
            await _match_once(db, settings, index, q)
        deadline = time.monotonic() + budget
        for q in queries:
            took, found = await _match_once(db, settings, index, q)
            seconds.append(took)
            results.append((q, found))
            if time.monotonic() > deadline:
                break
        probes: list[int] = []
        scored: list[int] = []
        async with db.sessions() as session:
            for q in queries[:20]:
                keys = matching.probe_name_keys(q.data.full_name or "")
                digests = [index.key64(matching.KEY_PURPOSE, k) for k in keys]
                facts = matches.found_facts(q.data, index, datetime.now(UTC))
                candidates = await match_repository.match_candidates(
                    session,
                    name_keys=digests,
                    sex=facts.sex,
                    birth_year=facts.year,
                    id_digest=None,
                    phone_digest=None,
                    limit=settings.match_candidates,
                )
                probes.append(len(digests))
                scored.append(len(candidates))
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            assert pg is not None
            first = [
                index.key64(matching.KEY_PURPOSE, k)
                for k in matching.probe_name_keys(queries[0].data.full_name or "")
            ]
            plan = await pg.fetch(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT missing_person_id FROM "
                "interagency.missing_person_refs WHERE status = 'open' AND missing_person_id IN "
                "(SELECT missing_person_id FROM interagency.match_keys WHERE digest = ANY($1))",
                first,
            )
    finally:
        await db.dispose()

    def spread(values: list[int]) -> dict[str, int]:
        ordered = sorted(values)
        return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}

    figures = {
        "latency": latency_summary(seconds),
        **judge(results),
        "probe_keys_first_20_queries": spread(probes),
        "candidates_scored_first_20_queries": spread(scored),
        "explain_first_query": [r[0] for r in plan],
    }
    return figures


async def _match_once(
    db: Database, settings: InteragencySettings, index: BlindIndex, q: Query
) -> tuple[float, list[uuid.UUID]]:
    """What ``matches.match_found_person`` does before writing matches, in a transaction of its
    own as an inbound request has."""
    start = time.perf_counter()
    async with db.sessions() as session, session.begin():
        ctx = context_factory(settings, platform_of(metadata), index)(session)
        facts = matches.found_facts(q.data, index, ctx.now)
        kept = await matches.scored_candidates(ctx, facts)
    return time.perf_counter() - start, [ref.missing_person_id for ref, _ in kept]


def baseline_matching(
    people: list[Missing], settings: InteragencySettings, queries: list[Query]
) -> dict[str, Any]:
    """Every folded name in memory, ``process.extract`` (WRatio, the matcher's typo scorer) for
    the top ``match_candidates``, then the same ``matching.score`` and threshold."""
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    names = [fold_vietnamese(p.full_name) for p in people]
    seconds: list[float] = []
    results: list[tuple[Query, list[uuid.UUID]]] = []
    for q in queries:
        start = time.perf_counter()
        found_facts = matches.found_facts(q.data, index, datetime.now(UTC))
        top = process.extract(
            fold_vietnamese(q.data.full_name or ""),
            names,
            scorer=fuzz.WRatio,
            limit=settings.match_candidates,
            processor=None,
        )
        scored = []
        for _, _, i in top:
            p = people[i]
            facts = matching.PersonFacts(
                full_name=p.full_name,
                sex=p.sex,
                date_of_birth=p.date_of_birth,
                birth_year=p.date_of_birth.year,
                hometown_ward_code=p.hometown_ward_code,
            )
            s = matching.score(facts, found_facts)
            if s.score >= settings.match_threshold:
                scored.append((s.score, p.id))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        seconds.append(time.perf_counter() - start)
        results.append((q, [pid for _, pid in scored]))
    return {"latency": latency_summary(seconds), **judge(results)}


async def bench_matching(
    database_url: str, args: argparse.Namespace, settings: InteragencySettings
) -> dict[str, Any]:
    rng = random.Random(SEED)
    start = time.perf_counter()
    people = population(args.missing, rng)
    queries = labelled_queries(people, args.queries, rng)
    generated = time.perf_counter() - start
    print(f"matching: loading {args.missing} missing persons ...")
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    load = await load_missing(database_url, people, index)
    load["generate_s"] = round(generated, 1)
    print(f"matching: {len(queries)} found persons through matches.scored_candidates ...")
    service = await service_matching(database_url, settings, queries, args.match_budget)
    queries = queries[: service["latency"]["count"]]
    print(f"matching: the same {len(queries)} with rapidfuzz over {args.missing} names ...")
    baseline = await asyncio.to_thread(baseline_matching, people, settings, queries)
    return {
        "load": load,
        "service": service,
        "baseline": baseline,
        "speed_up_p50": round(
            baseline["latency"]["p50_ms"] / max(service["latency"]["p50_ms"], 1e-6), 1
        ),
    }


# -- b) fan-out ------------------------------------------------------------------------------------


class Partners:
    """Partner endpoints on one port each (one Starlette app, one uvicorn server, many sockets),
    verifying every request with the ``standardwebhooks`` reference library."""

    def __init__(self, codes: list[str], down: set[str]) -> None:
        self.codes = codes
        self.ports = {code: free_port() for code in codes}
        self.secrets: dict[str, str] = {}
        self.down = set(down)
        self.delivered: dict[str, Counter[str]] = {code: Counter() for code in codes}
        self.first_at: dict[str, float] = {}
        self.last_at: dict[str, float] = {}
        self.refused = Counter[str]()
        self.bad_signatures = 0
        self.event_ids: dict[str, set[str]] = {code: set() for code in codes}
        self.app = Starlette(routes=[Route("/hooks/{code}", self._hook, methods=["POST"])])
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.ports[code]}/hooks/{code}"

    async def _hook(self, request: Request) -> Response:
        code = request.path_params["code"]
        body = await request.body()
        try:
            Webhook(self.secrets[code]).verify(body, dict(request.headers))
        except (WebhookVerificationError, KeyError):
            self.bad_signatures += 1
            return Response(status_code=401)
        if code in self.down:
            self.refused[code] += 1
            return Response(status_code=503)
        now = time.perf_counter()
        self.first_at.setdefault(code, now)
        self.last_at[code] = now
        self.delivered[code][request.headers["webhook-id"]] += 1
        self.event_ids[code].add(json.loads(body)["id"])
        return Response(status_code=204)

    async def start(self) -> None:
        sockets = []
        for port in self.ports.values():
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sockets.append(sock)
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, backlog=256
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=sockets))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


async def _db_counts(database_url: str) -> dict[tuple[str, str], int]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT partner_code, status, count(*) FROM interagency.deliveries GROUP BY 1, 2"
        )
    finally:
        await conn.close()
    return {(r[0], r[1]): r[2] for r in rows}


async def _wait(probe: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await probe():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


async def create_alerts(database_url: str, settings: InteragencySettings, count: int) -> float:
    """``count`` reports through interagency's handlers of ``intake.missing_person.reported``
    and ``.published`` (one transaction each, as the inbox consumer runs them): one alert to
    every partner (partners are alerted on ``.published`` only)."""
    db = Database(database_url, pool_size=2, application_name="ctip-bench-alerts")
    index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
    rng = random.Random(SEED + 1)
    start = time.perf_counter()
    try:
        for _ in range(count):
            name, sex, born, ward = random_person(rng)
            now = datetime.now(UTC)
            report = MissingPersonReported(
                missing_person_id=uuid.uuid4(),
                full_name=name,
                sex=sex,
                date_of_birth=born,
                last_seen_at=now - timedelta(days=3),
                last_seen_ward_code="00004",
                province_code="01",
                hometown_ward_code=ward,
                reported_at=now,
            )
            published = MissingPersonPublished(
                **report.model_dump(exclude={"phone", "reported_at"}), published_at=now
            )
            make = context_factory(settings, platform_of(metadata), index)
            async with db.sessions() as session, session.begin():
                ctx = make(session)
                await missing_persons.missing_person_reported(ctx, report)
                await missing_persons.missing_person_published(ctx, published)
    finally:
        await db.dispose()
    return time.perf_counter() - start


async def bench_fanout(
    database_url: str, args: argparse.Namespace, settings: InteragencySettings, prefix: str
) -> dict[str, Any]:
    codes = [c for c in (f"{n:02d}" for n in range(2, 100)) if is_province_code(c)]
    if len(codes) < args.partners:
        raise BenchError(f"only {len(codes)} province codes for {args.partners} partners")
    codes = codes[: args.partners]
    down = set(random.Random(SEED).sample(codes, args.down))
    healthy = [c for c in codes if c not in down]
    partners = Partners(codes, down)
    await partners.start()
    schedule = json.dumps(args.retry_schedule)
    common = {
        "CTIP_INTERAGENCY_RETRY_SCHEDULE_SECONDS": schedule,
        "CTIP_INTERAGENCY_RETRY_JITTER": "0.1",
        "CTIP_INTERAGENCY_DELIVERY_POLL_SECONDS": "0.2",
        "CTIP_INTERAGENCY_DELIVERY_TIMEOUT_SECONDS": "5",
        "CTIP_INTERAGENCY_DELIVERY_CONCURRENCY": str(args.concurrency),
        "CTIP_INTERAGENCY_CIRCUIT_OPEN_SECONDS": str(args.circuit_open),
        "CTIP_INTERAGENCY_CIRCUIT_MAX_OPEN_SECONDS": str(args.circuit_max_open),
    }
    admin = token_headers("admin")
    setup = ServiceProcess(
        "interagency",
        service_env(database_url, prefix, CTIP_INTERAGENCY_RUN_DELIVERY_WORKER="false", **common),
    )
    worker = ServiceProcess("interagency", service_env(database_url, prefix, **common))
    out: dict[str, Any] = {"down": sorted(down), "retry_schedule": args.retry_schedule}
    try:
        await setup.start()
        async with httpx.AsyncClient(base_url=setup.url, timeout=60) as client:
            for code in codes:
                created = expect(
                    await client.post(
                        "/v1/partners",
                        json={
                            "code": code,
                            "name": f"Synthetic partner {code}",
                            "webhook_url": partners.url(code),
                            "alert_types": ["missing_person"],
                            "border_countries": ["CN"],
                        },
                        headers=admin,
                    ),
                    201,
                )
                partners.secrets[code] = created["outbound_secret"]
        await setup.stop()
        print(f"fan-out: {args.alerts} alerts x {len(codes)} partners ...")
        out["create_alerts_s"] = round(await create_alerts(database_url, settings, args.alerts), 1)
        total = args.alerts * len(codes)
        counts = await _db_counts(database_url)
        if sum(counts.values()) != total:
            raise BenchError(f"{sum(counts.values())} deliveries queued, expected {total}")
        print(f"fan-out: delivery worker on, {len(down)} partner(s) down ...")
        start = time.perf_counter()
        await worker.start()

        async def healthy_done() -> bool:
            return all(len(partners.delivered[c]) >= args.alerts for c in healthy)

        await _wait(healthy_done, DRAIN_TIMEOUT, "the healthy partners to get every alert")
        drained = time.perf_counter() - start
        first = min(partners.first_at[c] for c in healthy)
        last = max(partners.last_at[c] for c in healthy)
        healthy_n = args.alerts * len(healthy)
        counts = await _db_counts(database_url)
        out["phase1"] = {
            "healthy_deliveries": healthy_n,
            "drain_s_from_process_start": round(drained, 2),
            "first_to_last_delivery_s": round(last - first, 2),
            "deliveries_per_second": round(healthy_n / (last - first), 1),
            "per_partner_per_second": round(healthy_n / (last - first) / len(healthy), 1),
            "refused_503_by_down_partners": sum(partners.refused.values()),
            "down_partner_states": {
                c: {s: n for (code, s), n in counts.items() if code == c} for c in sorted(down)
            },
        }
        print("fan-out: the partners come back ...")
        partners.down.clear()
        back = time.perf_counter()

        async def settled() -> bool:
            now = await _db_counts(database_url)
            return not any(s == "pending" for (_, s), n in now.items() if n)

        await _wait(settled, DRAIN_TIMEOUT, "no delivery to be pending")
        counts = await _db_counts(database_url)
        failed = sum(n for (_, s), n in counts.items() if s == "failed")
        replayed = await replay_failed(worker.url, admin) if failed else 0
        await _wait(settled, DRAIN_TIMEOUT, "the replayed deliveries")
        recovered = time.perf_counter() - back
        counts = await _db_counts(database_url)
        out["phase2"] = {
            "failed_after_schedule": failed,
            "replayed_through_api": replayed,
            "recovery_s": round(recovered, 2),
            "final_states": dict(Counter({s: 0 for (_, s) in counts}) + _by_status(counts)),
        }
        out["verification"] = await verify_fanout(database_url, partners, args.alerts)
    finally:
        await worker.stop()
        await setup.stop()
        await partners.stop()
    return out


def _by_status(counts: dict[tuple[str, str], int]) -> Counter[str]:
    by: Counter[str] = Counter()
    for (_, status), n in counts.items():
        by[status] += n
    return by


async def replay_failed(url: str, admin: dict[str, str]) -> int:
    """Every failed delivery, through ``POST /v1/deliveries/replay`` until none more match."""
    replayed = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while True:
            body = {"status": "failed", "limit": 10_000}
            answer = expect(
                await client.post("/v1/deliveries/replay", json=body, headers=admin), 200
            )
            replayed += answer["requeued"]
            if not answer["more_may_match"]:
                return replayed


async def verify_fanout(database_url: str, partners: Partners, alerts: int) -> dict[str, Any]:
    """Each partner got each of its deliveries (webhook-id = delivery id) and each alert."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch("SELECT id, alert_id, partner_code FROM interagency.deliveries")
    finally:
        await conn.close()
    expected: dict[str, set[str]] = {c: set() for c in partners.codes}
    alert_ids: dict[str, set[str]] = {c: set() for c in partners.codes}
    for r in rows:
        expected[r["partner_code"]].add(str(r["id"]))
        alert_ids[r["partner_code"]].add(str(r["alert_id"]))
    missing = sum(len(expected[c] - set(partners.delivered[c])) for c in partners.codes)
    unexpected = sum(len(set(partners.delivered[c]) - expected[c]) for c in partners.codes)
    duplicates = sum(n - 1 for c in partners.codes for n in partners.delivered[c].values() if n > 1)
    alerts_missing = sum(len(alert_ids[c] - partners.event_ids[c]) for c in partners.codes)
    return {
        "expected_deliveries": sum(len(v) for v in expected.values()),
        "alerts_per_partner": alerts,
        "missing_webhook_ids": missing,
        "unexpected_webhook_ids": unexpected,
        "duplicate_deliveries": duplicates,
        "alerts_missing_at_a_partner": alerts_missing,
        "bad_signatures": partners.bad_signatures,
        "zero_loss": missing == 0 and alerts_missing == 0 and partners.bad_signatures == 0,
    }


# -- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    settings = InteragencySettings(database_url=database_url, environment="test")
    configure_cipher(FieldCipher.from_spec(settings.field_keys.get_secret_value()))
    results: dict[str, Any] = {"topic_prefix": prefix}
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    results["postgresql_version"] = str(await conn.fetchval("SHOW server_version"))
    await conn.close()
    try:
        if not args.skip_matching:
            results["matching"] = await bench_matching(database_url, args, settings)
        if not args.skip_fanout:
            results["fanout"] = await bench_fanout(database_url, args, settings, prefix)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(delete_topics(settings.kafka_bootstrap, prefix), 30)
    return results


def render(result: dict[str, Any]) -> str:
    m, p = result["machine"], result["parameters"]
    parts = [
        f"ctip interagency benchmark, {result['started_at']}",
        f"machine: {m['nproc']} cores ({m['cpu']}), load before {m['load_average_before']}, "
        f"after {m['load_average_after']}; PostgreSQL {m['postgresql']}",
        "parameters: " + ", ".join(f"{k}={v}" for k, v in p.items()),
        "",
    ]
    mt = result.get("matching")
    if mt:
        load, s, b = mt["load"], mt["service"], mt["baseline"]
        rows = [
            [name, *(f"{r['latency'][k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
             f"{r['recall']:.3f}", f"{r['top1']:.3f}", f"{r['precision']:.3f}",
             str(r["decoys_with_a_candidate"])]
            for name, r in (
                ("scored_candidates (blocking keys)", s),
                ("rapidfuzz scan", b),
            )
            if r
        ]  # fmt: skip
        parts += [
            f"a) matching: {p['missing']} open reports ({load['distinct_names']} distinct "
            f"names, {load['match_keys']} blocking keys), loaded in {load['copy_s']} s COPY + "
            f"{load['index_and_analyze_s']} s index and ANALYZE; {s['true_pairs']} true pairs, "
            f"{s['decoys']} decoys",
            _table(
                [
                    "matcher",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "recall",
                    "top1",
                    "precision",
                    "decoys hit",
                ],
                rows,
            ),
            f"speed-up of the service over the scan (p50): {mt['speed_up_p50']}x; first 20 "
            f"queries: probe keys {s['probe_keys_first_20_queries']}, candidates scored "
            f"{s['candidates_scored_first_20_queries']}",
            "",
        ]
    fo = result.get("fanout")
    if fo:
        p1, p2, v = fo["phase1"], fo["phase2"], fo["verification"]
        parts += [
            f"b) fan-out: {v['expected_deliveries']} deliveries ({p['alerts']} alerts x "
            f"{p['partners']} partners), down: {fo['down']}, retry schedule {fo['retry_schedule']}",
            _table(
                ["figure", "value"],
                [
                    ["alerts created (handler, 1 txn each) s", str(fo["create_alerts_s"])],
                    ["healthy deliveries", str(p1["healthy_deliveries"])],
                    ["drain, from process start s", str(p1["drain_s_from_process_start"])],
                    ["first to last healthy delivery s", str(p1["first_to_last_delivery_s"])],
                    ["deliveries/s (healthy)", str(p1["deliveries_per_second"])],
                    ["deliveries/s per partner", str(p1["per_partner_per_second"])],
                    ["503s answered by the down partners", str(p1["refused_503_by_down_partners"])],
                    ["failed after the schedule", str(p2["failed_after_schedule"])],
                    ["replayed through the API", str(p2["replayed_through_api"])],
                    ["recovery (back up -> all delivered) s", str(p2["recovery_s"])],
                    ["final states", str(p2["final_states"])],
                    ["missing webhook-ids at receivers", str(v["missing_webhook_ids"])],
                    ["duplicate deliveries", str(v["duplicate_deliveries"])],
                    ["bad signatures", str(v["bad_signatures"])],
                    ["zero loss", str(v["zero_loss"])],
                ],
            ),
            "",
        ]
    parts.append(f"bench took {result['duration_seconds']:.1f} s")
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.interagency", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--missing", type=int, default=1_000_000, help="open reports loaded")
    parser.add_argument("--queries", type=int, default=300, help="found persons matched")
    parser.add_argument("--alerts", type=int, default=500, help="alerts, each to every partner")
    parser.add_argument("--partners", type=int, default=20, help="partner receivers")
    parser.add_argument("--down", type=int, default=2, help="partners answering 503 at first")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=InteragencySettings.model_fields["delivery_concurrency"].default,
        help="the worker's delivery_concurrency (lanes at once)",
    )
    parser.add_argument(
        "--circuit-open",
        type=float,
        default=2.0,
        help="seconds a partner's circuit first stays open (the service's default is 30)",
    )
    parser.add_argument(
        "--circuit-max-open",
        type=float,
        default=10.0,
        help="the longest a circuit stays open after failed probes (the default is 600)",
    )
    parser.add_argument(
        "--retry-schedule",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[0.5, 1.0, 2.0, 5.0],
        help="comma-separated seconds",
    )
    parser.add_argument(
        "--match-budget",
        type=float,
        default=150.0,
        help="seconds of service matching; fewer queries are run when it is used up",
    )
    parser.add_argument("--skip-matching", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    args = parser.parse_args(argv)
    if args.missing < 1000 or args.queries < 10 or not 0 <= args.down < args.partners <= 33:
        parser.error("--missing >= 1000, --queries >= 10, 0 <= --down < --partners <= 33")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    admin_url = os.environ.get("CTIP_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    clock = time.perf_counter()
    try:
        with private_database(admin_url, ["interagency"], "ctip_bench_ia") as url:
            results = asyncio.run(run(args, url))
    except BenchError as exc:
        print(f"bench failed: {exc}")
        return 1
    except (OSError, KafkaConnectionError) as exc:
        print(f"bench failed: {exc!r}\nis the local stack up? `deploy/local/stack.sh status`")
        return 1
    result = {
        "benchmark": "interagency",
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - clock, 1),
        "machine": machine_info(results.pop("postgresql_version"), load_before),
        "parameters": {
            "missing": args.missing,
            "queries": args.queries,
            "alerts": args.alerts,
            "partners": args.partners,
            "down": args.down,
            "concurrency": args.concurrency,
            "circuit_open_s": args.circuit_open,
            "circuit_max_open_s": args.circuit_max_open,
            "topic_prefix": results.pop("topic_prefix"),
        },
        **results,
    }
    print()
    print(render(result))
    print(f"\nJSON: {write_result('interagency', result, started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""National dashboard benchmark: every service's ``GET /v1/kpis`` and the plan report over a year
of a whole country's records.

``uv run python -m bench.national [--scale 1] [--requests 20] [--regenerate]``

The data (:mod:`bench.national_data`: 1,000,000 tips, 200,000 cases, 100,000 victims over a
year across the 34 provinces at ``--scale 1``, and in proportion the other services' records)
is generated once into a database of its own (``ctip_national``, or ``ctip_national_<scale>``),
migrated to head, and kept: later runs migrate it again (so an index added by a new migration is
built on it) and time against it. ``--regenerate`` drops it and starts again; a database made at
another scale or seed is never reused.

The six services run as real uvicorn processes (API only: no relay, consumer or sender beside
them), and each ``/v1/kpis`` is called one request at a time, warm (``--warm-up`` calls first),
``--requests`` times per shape:

* ``year``: the data's 365 days, by a supervisor of the whole country (34 provinces);
* ``quarter``: its last 91 days, by the same;
* ``province``: the year, by a supervisor of the busiest province;
* ``ward``: the year, ``ward_code`` the busiest ward, by the national supervisor (intake,
  casework, victim_support, outreach: interagency and notifications take no ward).

Then outreach's ``GET /v1/reports/plan?format=xlsx`` (which calls intake, casework and
victim_support) for the last whole quarter and for the year, over the busiest province. The goal
(issue 19) is p95 <= 100 ms per service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import httpx

from bench.common import (
    Uvicorn,
    fmt_ms,
    header,
    service_env,
    status_counts,
    timed,
    write_result,
)
from bench.national_data import Country, generate, period_end, sizes
from bench.report import _table as table
from bench.report import latency_summary, machine_info
from bench.support import BenchError
from libs.common.auth import Role, issue_dev_token
from libs.common.db import asyncpg_dsn
from libs.common.jurisdiction import _provinces
from libs.common.migrations import upgrade
from libs.common.settings import ServiceSettings, pg_url

log = logging.getLogger("bench.national")

SERVICES = ("intake", "casework", "victim_support", "interagency", "notifications", "outreach")
WARDLESS = frozenset({"interagency", "notifications"})
SHAPES = ("year", "quarter", "province", "ward")
GOAL_P95_MS = 100.0
META = "public.national_bench"
# Switched off as `ctip serve --api-only` does: the figures are read, nothing is published.
API_ONLY = {
    "CTIP_RUN_RELAY": "false",
    "CTIP_RUN_CONSUMERS": "false",
    "CTIP_INTERAGENCY_RUN_DELIVERY_WORKER": "false",
}


def admin_url() -> str:
    return os.environ.get("CTIP_BENCH_DATABASE_URL") or pg_url("ctip")


def database_name(scale: float) -> str:
    return "ctip_national" if scale == 1 else f"ctip_national_{str(scale).replace('.', '_')}"


# -- the kept database ---------------------------------------------------------------------------


async def _exists(admin_dsn: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_dsn)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _create(admin_dsn: str, name: str, dsn: str, *, drop: bool) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await conn.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    finally:
        await conn.close()


async def _meta(dsn: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", META):
            return None
        value = await conn.fetchval(f"SELECT meta FROM {META}")  # noqa: S608 - a constant name
        return None if value is None else dict(json.loads(value))
    finally:
        await conn.close()


def prepare(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The database at head with the data of ``--scale`` and ``--seed``: made once, then kept.

    Synchronous: Alembic runs an event loop of its own."""
    admin = admin_url()
    name = args.database or database_name(args.scale)
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    dsn = asyncpg_dsn(url)
    exists = asyncio.run(_exists(asyncpg_dsn(admin), name))
    meta = asyncio.run(_meta(dsn)) if exists else None
    wanted = {"scale": args.scale, "seed": args.seed}
    if meta is not None and not args.regenerate and all(meta[k] == v for k, v in wanted.items()):
        print(f"database {name}: kept, generated {meta['generated_at']} (scale {args.scale})")
        for service in SERVICES:
            upgrade(service, url)
        return url, meta
    print(f"database {name}: generating at scale {args.scale} ...", flush=True)
    asyncio.run(_create(asyncpg_dsn(admin), name, dsn, drop=exists))
    for service in SERVICES:
        upgrade(service, url)
    meta = asyncio.run(_generate(dsn, args, wanted))
    return url, meta


async def _generate(dsn: str, args: argparse.Namespace, wanted: dict[str, Any]) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, command_timeout=None)
    try:
        data = await generate(conn, scale=args.scale, seed=args.seed, end=period_end())
        meta = {**wanted, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **data}
        await conn.execute(f"CREATE TABLE {META} (meta jsonb NOT NULL)")
        await conn.execute(f"INSERT INTO {META} VALUES ($1::jsonb)", json.dumps(meta))  # noqa: S608
        return meta
    finally:
        await conn.close()


# -- the services and what is asked of them --------------------------------------------------


def _token(settings: ServiceSettings, jurisdiction: Sequence[str]) -> dict[str, str]:
    token = issue_dev_token(
        settings,
        roles=[Role.supervisor.value],
        jurisdiction=jurisdiction,
        sub="bench-national-supervisor",
    )
    return {"authorization": f"Bearer {token}"}


def shapes(meta: dict[str, Any], seed: int) -> dict[str, tuple[dict[str, str], str]]:
    """Each shape's query string and which token asks it ("national" or "province")."""
    end = datetime.fromisoformat(meta["period_end"]).date()
    year = {
        "from": (end - timedelta(days=365)).isoformat(),
        "to": (end - timedelta(days=1)).isoformat(),
    }
    quarter = {"from": (end - timedelta(days=91)).isoformat(), "to": year["to"]}
    ward, _ = Country.shuffled(seed).busiest()
    return {
        "year": (year, "national"),
        "quarter": (quarter, "national"),
        "province": (year, "province"),
        "ward": ({**year, "ward_code": ward}, "national"),
    }


def report_periods(meta: dict[str, Any]) -> dict[str, str]:
    """The last whole quarter before the data's end, and the calendar year of its last day."""
    last = datetime.fromisoformat(meta["period_end"]).date() - timedelta(days=1)
    quarter_start = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    previous = quarter_start - timedelta(days=1)
    return {
        "xlsx_quarter": f"{previous.year}-Q{(previous.month - 1) // 3 + 1}",
        "xlsx_year": str(last.year),
    }


# Set to false, the services count the rows again instead of summing their daily rollups: the
# baseline of the rollups (libs/common/rollups.py), run against the same database.
RECOUNT = (
    "CTIP_INTAKE_KPI_ROLLUPS",
    "CTIP_CASEWORK_KPI_ROLLUPS",
    "CTIP_VICTIM_SUPPORT_KPI_ROLLUPS",
    "CTIP_INTERAGENCY_KPI_ROLLUPS",
    "CTIP_NOTIFICATIONS_KPI_ROLLUPS",
    "CTIP_OUTREACH_KPI_ROLLUPS",
)


@contextlib.asynccontextmanager
async def running(url: str, prefix: str) -> AsyncIterator[dict[str, Uvicorn]]:
    """The six apps; outreach told where the three whose figures its report reads are."""
    extra = {
        **API_ONLY,
        **{k: v for k in ("CTIP_PG_PORT", "CTIP_KAFKA_PORT") if (v := os.environ.get(k))},
        **{k: v for k in RECOUNT if (v := os.environ.get(k))},  # the baseline: no rollups
    }
    async with contextlib.AsyncExitStack() as stack:
        servers: dict[str, Uvicorn] = {}
        for service in SERVICES[:-1]:
            app = f"services.{service}.app:create_app"
            servers[service] = await stack.enter_async_context(
                Uvicorn(app, service_env(url, prefix, **extra))
            )
        urls = {
            f"CTIP_{name.upper()}_URL": servers[name].base_url
            for name in ("intake", "casework", "victim_support", "interagency")
        }
        servers["outreach"] = await stack.enter_async_context(
            Uvicorn(
                "services.outreach.app:create_app",
                service_env(url, prefix, **extra, **urls, CTIP_REPORT_TIMEOUT_SECONDS="120"),
            )
        )
        yield servers


async def _series(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    requests: int,
    warm_up: int,
) -> tuple[dict[str, Any], httpx.Response]:
    call = partial(client.get, path, params=params, headers=headers)
    await timed([call] * warm_up)
    latencies, responses = await timed([call] * requests)
    summary = {**latency_summary(latencies), "statuses": status_counts(responses)}
    return summary, responses[-1]


def _headline(service: str, body: dict[str, Any]) -> dict[str, Any]:
    """A few of the figures answered, to see each shape counted what it should."""
    keys = {
        "intake": ("tips_received",),
        "casework": ("cases_opened",),
        "victim_support": ("received",),
        "interagency": ("matches_found",),
        "notifications": ("created", "read"),
        "outreach": ("materials_distributed",),
    }[service]
    return {k: body.get(k) for k in keys}


async def measure(args: argparse.Namespace, url: str, meta: dict[str, Any]) -> dict[str, Any]:
    settings = ServiceSettings(database_url=url)
    _, province = Country.shuffled(args.seed).busiest()
    tokens = {
        "national": _token(settings, sorted(_provinces())),
        "province": _token(settings, [province]),
    }
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    kpis: dict[str, dict[str, Any]] = {}
    report: dict[str, Any] = {}
    async with running(url, prefix) as servers:
        async with httpx.AsyncClient(timeout=600.0) as client:
            for service in args.services:
                kpis[service] = {}
                for shape, (params, who) in shapes(meta, args.seed).items():
                    if shape == "ward" and service in WARDLESS:
                        continue
                    query = {k: v for k, v in params.items() if k != "ward_code" or shape == "ward"}
                    print(f"  {service} {shape} ...", flush=True)
                    summary, last = await _series(
                        client,
                        f"{servers[service].base_url}/v1/kpis",
                        query,
                        tokens[who],
                        args.requests,
                        args.warm_up,
                    )
                    if last.status_code == 200:
                        summary["figures"] = _headline(service, last.json())
                    kpis[service][shape] = summary
            if not args.skip_report:
                for key, period in report_periods(meta).items():
                    print(f"  plan report {period} (xlsx) ...", flush=True)
                    params = {"period": period, "jurisdiction": province, "format": "xlsx"}
                    summary, last = await _series(
                        client,
                        f"{servers['outreach'].base_url}/v1/reports/plan",
                        params,
                        tokens["national"],
                        args.report_requests,
                        1,
                    )
                    summary.update(period=period, jurisdiction=province, bytes=len(last.content))
                    report[key] = summary
    goal = {
        service: {
            "worst_p95_ms": max(s.get("p95_ms", float("inf")) for s in by_shape.values()),
            "met": all(s.get("p95_ms", float("inf")) <= GOAL_P95_MS for s in by_shape.values()),
        }
        for service, by_shape in kpis.items()
    }
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    return {
        "postgresql_version": version,
        "kpis": kpis,
        "plan_report": report,
        "goal_p95_ms": GOAL_P95_MS,
        "goal": goal,
    }


# -- the run -------------------------------------------------------------------------------------


def render(result: dict[str, Any]) -> str:
    out = header("ctip national dashboard benchmark", result)
    data = result["data"]
    out += [
        f"data: {', '.join(f'{t} {n:,}' for t, n in data['rows'].items())}",
        f"period {data['period_start'][:10]} .. {data['period_end'][:10]} "
        f"(generated {data['generated_at']})",
        "",
        "GET /v1/kpis, one request at a time, warm (ms; goal p95 <= 100)",
    ]
    rows = []
    for service, by_shape in result["kpis"].items():
        for shape, s in by_shape.items():
            rows.append(
                [
                    service,
                    shape,
                    str(s["statuses"]),
                    *(fmt_ms(s, k) for k in ("p50_ms", "p95_ms", "max_ms")),
                    json.dumps(s.get("figures", {})),
                ]
            )
    out.append(table(["service", "shape", "statuses", "p50", "p95", "max", "figures"], rows))
    if result["plan_report"]:
        out += [
            "",
            "GET /v1/reports/plan?format=xlsx (outreach, reading intake, casework, victim_support)",
        ]
        out.append(
            table(
                ["report", "period", "statuses", "p50", "p95", "max", "bytes"],
                [
                    [
                        key,
                        s["period"],
                        str(s["statuses"]),
                        *(fmt_ms(s, k) for k in ("p50_ms", "p95_ms", "max_ms")),
                        str(s["bytes"]),
                    ]
                    for key, s in result["plan_report"].items()
                ],
            )
        )
    out += [
        "",
        "goal p95 <= 100 ms: "
        + ", ".join(
            f"{svc} {'met' if g['met'] else 'missed'} (worst {g['worst_p95_ms']})"
            for svc, g in result["goal"].items()
        ),
    ]
    out.append(f"\nbench took {result['duration_seconds']:.1f} s")
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.national", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="1: 1,000,000 tips, 200,000 cases, 100,000 victims; 0.1 a tenth",
    )
    parser.add_argument("--database", help="default ctip_national (_<scale> when not 1)")
    parser.add_argument(
        "--regenerate", action="store_true", help="drop and generate the data again"
    )
    parser.add_argument("--requests", type=int, default=20, help="measured calls per shape")
    parser.add_argument("--warm-up", type=int, default=3, help="unmeasured calls first")
    parser.add_argument("--report-requests", type=int, default=5, help="measured plan reports")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--services", nargs="+", choices=SERVICES, default=list(SERVICES))
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.requests < 1:
        parser.error("--scale and --requests must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = datetime.now(UTC)
    began = time.perf_counter()
    try:
        url, meta = prepare(args)
        load_before = os.getloadavg()
        measured = asyncio.run(measure(args, url, meta))
    except BenchError as exc:
        print(f"bench failed: {exc}")
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"bench failed: {exc!r}\nis the local stack up? `deploy/local/stack.sh status`")
        return 1
    parameters = {
        "scale": args.scale,
        "sizes": sizes(args.scale),
        "requests": args.requests,
        "warm_up": args.warm_up,
        "seed": args.seed,
        "database": url.rsplit("/", 1)[1],
        "recount": {k: os.environ[k] for k in RECOUNT if k in os.environ},
    }
    kept = ("generated_at", "period_start", "period_end", "rows", "seconds")
    result = {
        "benchmark": "national",
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.perf_counter() - began, 1),
        "machine": machine_info(measured.pop("postgresql_version"), load_before),
        "parameters": parameters,
        "data": {k: meta[k] for k in kept},
        **measured,
    }
    print()
    print(render(result))
    print(f"\nJSON: {write_result('national', result, started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

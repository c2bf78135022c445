"""Load: the five services under a mixed, open-loop workload at a fixed rate, on the local stack.

``uv run python -m bench.load [--duration 600] [--rate 20] [--concurrency 64]``

One private database (``ctip_bench_load_<hex>``, every schema migrated, dropped at the end), one
topic prefix (``load<hex>.``, topics deleted at the end), the five services as separate uvicorn
processes (relays, consumers and interagency's delivery worker on). Setup through the APIs: a
partner province registered by an admin (its inbound secret kept), a few tips filed and
substantiated so that casework has cases and victim_support victims. Then requests arrive on a
clock (``--rate`` a second, whatever the responses take; at most ``--concurrency`` in flight,
the rest wait and their wait counts in their latency), drawn from the mix in :data:`MIX`.

Reported: per endpoint count, errors (non-2xx and exceptions), p50/p95/p99 (from the scheduled
send time); each process's RSS (VmRSS) after warm-up, every minute, at the end; after a drain
(up to 60 s) the unpublished outbox rows per schema, the summed ``ctip_consumer_lag`` gauges per
service, and the records in the run's ``.dlt`` topics.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import Uvicorn, header, private_database, service_env, write_result
from bench.intake import tip_bodies
from bench.report import _table, latency_summary, machine_info
from bench.support import BenchError, delete_topics
from libs.common.auth import issue_dev_token
from libs.common.jurisdiction import is_province_code
from libs.common.settings import ServiceSettings
from testkit.interagency import partner_event, person_found, post_signed
from testkit.kafka import dead_letters

SERVICES = ["intake", "casework", "victim_support", "interagency", "outreach"]
HOME = "01"
KAFKA = os.environ.get("CTIP_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
DRAIN_TIMEOUT = 60.0
SETUP_TIMEOUT = 90.0
MIX = {  # share of arrivals, percent
    "tip_create": 30,
    "tip_read": 20,
    "triage": 15,
    "cases": 10,
    "inbound": 10,
    "victims": 5,
    "kpis": 10,
}
NEXT_ACTION = {"open": "initiate", "investigating": "suspend", "suspended": "resume"}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Lò", "Giàng"]
GIVEN = ["Thị Mai", "Văn Nam", "Thị Hoa", "Văn Hùng", "Thị Lan", "Ngọc Linh", "Minh Tuấn"]


def bearer(role: str, *jurisdiction: str) -> dict[str, str]:
    token = issue_dev_token(
        ServiceSettings(), roles=[role], jurisdiction=list(jurisdiction), sub=f"bench-load-{role}"
    )
    return {"Authorization": f"Bearer {token}"}


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    measuring: bool = False

    def record(self, endpoint: str, seconds: float, status: str) -> None:
        if not self.measuring:
            return
        self.latencies.setdefault(endpoint, []).append(seconds)
        self.statuses.setdefault(endpoint, Counter())[status] += 1

    def table(self) -> dict[str, Any]:
        out = {}
        for endpoint in sorted(self.latencies):
            statuses = self.statuses[endpoint]
            total = sum(statuses.values())
            errors = sum(n for s, n in statuses.items() if not s.startswith("2"))
            out[endpoint] = {
                "count": total,
                "errors": errors,
                "error_rate": round(errors / total, 4) if total else 0.0,
                "statuses": dict(statuses),
                "latency": latency_summary(self.latencies[endpoint]),
            }
        return out


class Workload:
    """The mix, acting on what setup and earlier requests created."""

    def __init__(
        self,
        urls: dict[str, str],
        client: httpx.AsyncClient,
        stats: Stats,
        partner: tuple[str, str],
        interagency: httpx.AsyncClient,
        seed: int = 7,
    ) -> None:
        self.urls = urls
        self.client = client
        self.interagency = interagency  # post_signed posts to a path: a client with a base_url
        self.stats = stats
        self.partner_code, self.partner_secret = partner
        self.rng = random.Random(seed)
        self.bodies = tip_bodies(500, seed=seed)
        self.officer = bearer("intake_officer", HOME)
        self.investigator = bearer("investigator", HOME)
        self.supervisor = bearer("supervisor", HOME)
        self.fresh: deque[str] = deque()  # filed, not yet triaged
        self.tips: deque[str] = deque(maxlen=5000)
        self.known: dict[str, str] = {}  # id -> status
        self.busy: set[str] = set()
        self.kpi_turn = 0
        self.tip_n = 0
        self.failures: Counter[str] = Counter()

    async def call(
        self,
        endpoint: str,
        method: str,
        url: str,
        scheduled: float,
        **kwargs: Any,
    ) -> httpx.Response | None:
        try:
            response = await self.client.request(method, url, **kwargs)
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            response, status = None, type(exc).__name__
        self.stats.record(endpoint, time.perf_counter() - scheduled, status)
        if response is None or not response.is_success:
            detail = response.text[:160] if response is not None else status
            self.failures[f"{endpoint}: {status} {detail}"] += 1
            return None
        return response

    async def run_op(self, op: str, scheduled: float) -> None:
        try:
            await getattr(self, op)(scheduled)
        except Exception as exc:  # a bug of the bench must show, not kill the task silently
            self.stats.record(f"(exception in {op})", time.perf_counter() - scheduled, "exception")
            self.failures[f"{op}: {exc!r}"[:200]] += 1

    async def tip_create(self, t: float) -> None:
        body = self.bodies[self.tip_n % len(self.bodies)]
        self.tip_n += 1
        r = await self.call(
            "intake POST /v1/tips",
            "POST",
            f"{self.urls['intake']}/v1/tips",
            t,
            content=body,
            headers={**self.officer, "content-type": "application/json"},
        )
        if r is not None:
            tip_id = r.json()["id"]
            self.fresh.append(tip_id)
            self.tips.append(tip_id)

    async def tip_read(self, t: float) -> None:
        if self.rng.random() < 0.5 or not self.tips:
            await self.call(
                "intake GET /v1/tips?overdue=true",
                "GET",
                f"{self.urls['intake']}/v1/tips",
                t,
                params={"overdue": "true"},
                headers=self.officer,
            )
        else:
            tip_id = self.rng.choice(self.tips)
            await self.call(
                "intake GET /v1/tips/{id}",
                "GET",
                f"{self.urls['intake']}/v1/tips/{tip_id}",
                t,
                headers=self.officer,
            )

    async def triage(self, t: float) -> None:
        if not self.fresh:
            await self.tip_create(t)
            return
        tip_id = self.fresh.popleft()
        base = f"{self.urls['intake']}/v1/tips/{tip_id}"
        r = await self.call(
            "intake POST /v1/tips/{id}/classification",
            "POST",
            f"{base}/classification",
            t,
            json={"trafficking_related": "yes", "priority": "high"},
            headers=self.officer,
        )
        if r is not None:
            await self.call(
                "intake POST /v1/tips/{id}/verification",
                "POST",
                f"{base}/verification",
                time.perf_counter(),
                json={"outcome": "substantiated"},
                headers=self.officer,
            )

    async def list_cases(self, t: float) -> None:
        r = await self.call(
            "casework GET /v1/cases",
            "GET",
            f"{self.urls['casework']}/v1/cases",
            t,
            params={"limit": 100},
            headers=self.investigator,
        )
        if r is not None:
            for item in r.json()["items"]:
                if item["id"] not in self.busy:
                    self.known[item["id"]] = item["status"]

    async def cases(self, t: float) -> None:
        ready = [c for c, s in self.known.items() if s in NEXT_ACTION and c not in self.busy]
        if self.rng.random() < 0.5 or not ready:
            await self.list_cases(t)
            return
        case_id = self.rng.choice(ready)
        action = NEXT_ACTION[self.known[case_id]]
        n = self.rng.randrange(10**6)
        body: dict[str, Any] = {"action": action}
        if action == "initiate":
            body |= {
                "decision_number": f"{n}/QĐ-KTVA",
                "decided_on": datetime.now(UTC).date().isoformat(),
                "penal_code_article": 150,
            }
        elif action == "suspend":
            body |= {"decision_number": f"{n}/QĐ-TĐCĐT", "reason": "the accused absconded"}
        else:
            body |= {"decision_number": f"{n}/QĐ-PHĐT"}
        self.busy.add(case_id)
        try:
            r = await self.call(
                "casework POST /v1/cases/{id}/transitions",
                "POST",
                f"{self.urls['casework']}/v1/cases/{case_id}/transitions",
                t,
                json=body,
                headers=self.investigator,
            )
            if r is None and action == "initiate":
                # tip_bodies has victims of 14-29: under 16 the charge is Art. 151 and casework
                # refuses 150 (422, rightly); the refusal stays counted above, then 151 is sent.
                body["penal_code_article"] = 151
                r = await self.call(
                    "casework POST /v1/cases/{id}/transitions (initiate, Art. 151 retry)",
                    "POST",
                    f"{self.urls['casework']}/v1/cases/{case_id}/transitions",
                    time.perf_counter(),
                    json=body,
                    headers=self.investigator,
                )
            if r is not None:
                self.known[case_id] = r.json()["status"]
        finally:
            self.busy.discard(case_id)

    async def inbound(self, t: float) -> None:
        name = f"{self.rng.choice(FAMILY)} {self.rng.choice(GIVEN)}"
        body = partner_event(
            self.partner_code, person_found(full_name=name, age=self.rng.randrange(14, 40))
        )
        try:
            r = await post_signed(self.interagency, self.partner_code, self.partner_secret, body)
            status = str(r.status_code)
            if not r.is_success:
                self.failures[f"inbound: {status} {r.text[:160]}"] += 1
        except httpx.HTTPError as exc:
            status = type(exc).__name__
            self.failures[f"inbound: {status}"] += 1
        self.stats.record("interagency POST /v1/inbound/{code}", time.perf_counter() - t, status)

    async def victims(self, t: float) -> None:
        await self.call(
            "victim_support GET /v1/victims",
            "GET",
            f"{self.urls['victim_support']}/v1/victims",
            t,
            headers=self.supervisor,
        )

    async def kpis(self, t: float) -> None:
        service = SERVICES[self.kpi_turn % len(SERVICES)]
        self.kpi_turn += 1
        await self.call(
            f"{service} GET /v1/kpis",
            "GET",
            f"{self.urls[service]}/v1/kpis",
            t,
            headers=self.supervisor,
        )


async def open_loop(
    work: Workload, *, rate: float, seconds: float, concurrency: int, rng: random.Random
) -> dict[str, Any]:
    """Arrivals at ``start + i / rate``; a slow answer delays nobody's send time. The latency of
    a request that waited for a free slot includes the wait."""
    ops, weights = zip(*MIX.items(), strict=True)
    gate = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()
    counts: Counter[str] = Counter()
    max_waiting = 0

    async def one(op: str, scheduled: float) -> None:
        async with gate:
            await work.run_op(op, scheduled)

    start = time.perf_counter()
    i = 0
    while (scheduled := start + i / rate) < start + seconds:
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        op = rng.choices(ops, weights)[0]
        counts[op] += 1
        task = asyncio.create_task(one(op, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        max_waiting = max(max_waiting, len(tasks))
        i += 1
    sent_for = time.perf_counter() - start
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    return {
        "arrivals": i,
        "achieved_rate": round(i / sent_for, 2),
        "ops": dict(counts),
        "max_in_system": max_waiting,
        "finished_seconds": round(time.perf_counter() - start, 1),
    }


# -- the backlog after the load ------------------------------------------------------------------


async def outbox_lag(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        schemas = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_schema FROM information_schema.tables"
                " WHERE table_name = 'outbox' ORDER BY 1"
            )
        ]
        return {
            s: int(
                await conn.fetchval(f"SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL")  # noqa: S608 - catalog names
            )
            for s in schemas
        }
    finally:
        await conn.close()


async def consumer_lag(client: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, url in urls.items():
        try:
            text = (await client.get(f"{url}/metrics")).text
        except httpx.HTTPError:
            out[name] = None
            continue
        gauges = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ctip_consumer_lag{")
        ]
        out[name] = sum(gauges) if gauges else None  # None: no consumer gauge exported
    return out


async def drain(dsn: str, client: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    first_outbox = await outbox_lag(dsn)
    first_consumer = await consumer_lag(client, urls)
    while True:
        outbox = await outbox_lag(dsn)
        consumers = await consumer_lag(client, urls)
        drained = not any(outbox.values()) and not any(v for v in consumers.values())
        if drained or time.perf_counter() - started > DRAIN_TIMEOUT:
            break
        await asyncio.sleep(1.0)
    return {
        "at_stop": {"outbox_unpublished": first_outbox, "consumer_lag": first_consumer},
        "after_drain": {"outbox_unpublished": outbox, "consumer_lag": consumers},
        "drained": drained,
        "drain_seconds": round(time.perf_counter() - started, 1),
    }


# -- the run ---------------------------------------------------------------------------------------


async def setup(
    urls: dict[str, str], client: httpx.AsyncClient, dsn: str, tips: int
) -> tuple[str, str, dict[str, int]]:
    admin = bearer("admin")
    code = next(c for c in (f"{n:02d}" for n in range(2, 100)) if is_province_code(c))
    r = await client.post(
        f"{urls['interagency']}/v1/partners",
        json={
            "code": code,
            "name": f"Synthetic partner {code}",
            "webhook_url": f"http://127.0.0.1:9/hooks/{code}",
            "border_countries": ["CN"],
        },
        headers=admin,
    )
    if r.status_code != 201:
        raise BenchError(f"registering the partner answered {r.status_code}: {r.text[:300]}")
    secret = r.json()["inbound_secret"]
    officer = bearer("intake_officer", HOME)
    for body in tip_bodies(tips, seed=99):
        r = await client.post(
            f"{urls['intake']}/v1/tips",
            content=body,
            headers={**officer, "content-type": "application/json"},
        )
        if r.status_code != 201:
            raise BenchError(f"filing a tip answered {r.status_code}: {r.text[:300]}")
        tip_id = r.json()["id"]
        for path, payload in (
            ("classification", {"trafficking_related": "yes", "priority": "high"}),
            ("verification", {"outcome": "substantiated"}),
        ):
            r = await client.post(
                f"{urls['intake']}/v1/tips/{tip_id}/{path}", json=payload, headers=officer
            )
            if r.status_code != 200:
                raise BenchError(f"{path} answered {r.status_code}: {r.text[:300]}")
    conn = await asyncpg.connect(dsn)
    deadline = time.monotonic() + SETUP_TIMEOUT
    try:
        while True:
            cases = int(await conn.fetchval("SELECT count(*) FROM casework.cases"))
            victims = int(await conn.fetchval("SELECT count(*) FROM victim_support.victims"))
            if cases >= tips and victims >= tips:
                break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"setup: {cases} cases, {victims} victims of {tips} after {SETUP_TIMEOUT} s"
                )
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return code, secret, {"cases": cases, "victims": victims}


async def sample_rss(
    servers: dict[str, Uvicorn], samples: list[dict[str, Any]], every: float, t0: float
) -> None:
    while True:
        await asyncio.sleep(every)
        samples.append(
            {"t": round(time.perf_counter() - t0), **{n: rss_kb(s.pid) for n, s in servers.items()}}
        )


async def run(args: argparse.Namespace, db_url: str, dsn: str, prefix: str) -> dict[str, Any]:
    extra = {
        "interagency": {
            "CTIP_INTERAGENCY_RETRY_SCHEDULE_SECONDS": "[1, 2, 5]",
            "CTIP_INTERAGENCY_RETRY_JITTER": "0.1",
            "CTIP_INTERAGENCY_DELIVERY_POLL_SECONDS": "0.5",
            "CTIP_INTERAGENCY_DELIVERY_TIMEOUT_SECONDS": "3",
        }
    }
    async with contextlib.AsyncExitStack() as stack:
        servers: dict[str, Uvicorn] = {}
        for name in SERVICES:
            env = service_env(db_url, prefix, **extra.get(name, {}))
            server = Uvicorn(f"services.{name}.app:create_app", env)
            servers[name] = await stack.enter_async_context(server)
        urls = {n: s.base_url for n, s in servers.items()}
        limits = httpx.Limits(max_connections=args.concurrency * 2)
        client = await stack.enter_async_context(
            httpx.AsyncClient(limits=limits, timeout=args.timeout)
        )
        started = time.perf_counter()
        code, secret, seeded = await setup(urls, client, dsn, args.setup_tips)
        setup_seconds = time.perf_counter() - started
        print(f"setup: partner {code}, {seeded} in {setup_seconds:.1f} s", flush=True)
        interagency = await stack.enter_async_context(
            httpx.AsyncClient(base_url=urls["interagency"], limits=limits, timeout=args.timeout)
        )
        stats = Stats()
        work = Workload(urls, client, stats, (code, secret), interagency)
        await work.list_cases(time.perf_counter())
        rng = random.Random(20261128)
        warm = await open_loop(
            work, rate=args.rate, seconds=args.warm_up, concurrency=args.concurrency, rng=rng
        )
        rss_start = {n: rss_kb(s.pid) for n, s in servers.items()}
        print(f"warm-up done ({warm['arrivals']} arrivals); RSS kB {rss_start}", flush=True)
        samples: list[dict[str, Any]] = [{"t": 0, **rss_start}]
        t0 = time.perf_counter()
        sampler = asyncio.create_task(sample_rss(servers, samples, 60.0, t0))
        stats.measuring = True
        try:
            load = await open_loop(
                work, rate=args.rate, seconds=args.duration, concurrency=args.concurrency, rng=rng
            )
        finally:
            stats.measuring = False
            sampler.cancel()
        rss_end = {n: rss_kb(s.pid) for n, s in servers.items()}
        print(f"load done: {load}; RSS kB {rss_end}", flush=True)
        lags = await drain(dsn, client, urls)
        rss_after_drain = {n: rss_kb(s.pid) for n, s in servers.items()}
        dlt = await dead_letters(KAFKA, prefix)
        exited = {n: s.process.poll() for n, s in servers.items() if s.process}
        logs = {n: s.log_tail(15) for n, s in servers.items()}
    conn = await asyncpg.connect(dsn)
    try:
        counts = {
            t: int(await conn.fetchval(f"SELECT count(*) FROM {t}"))  # noqa: S608 - constants
            for t in (
                "intake.tips",
                "casework.cases",
                "victim_support.victims",
                "interagency.inbound_receipts",
            )
        }
    finally:
        await conn.close()
    return {
        "setup": {"partner": code, **seeded, "seconds": round(setup_seconds, 1)},
        "warm_up": warm,
        "load": load,
        "endpoints": stats.table(),
        "failures": dict(work.failures.most_common(20)),
        "rss_kb": {
            "start": rss_start,
            "end": rss_end,
            "after_drain": rss_after_drain,
            "growth": {
                n: (rss_end[n] - rss_start[n]) if rss_end[n] and rss_start[n] else None
                for n in SERVICES
            },
            "samples": samples,
        },
        "lags": lags,
        "dlt": {t: len(v) for t, v in dlt.items()},
        "dlt_samples": {t: v[:5] for t, v in dlt.items() if v},
        "rows": counts,
        "exit_codes_before_stop": exited,
        "log_tails": {n: t for n, t in logs.items() if t.strip()},
    }


def render(result: dict[str, Any]) -> str:
    parts = header("ctip mixed load", result)
    load = result["load"]
    parts.append(
        f"load: {load['arrivals']} arrivals in {result['parameters']['duration']} s "
        f"(achieved {load['achieved_rate']}/s), most in system {load['max_in_system']}; "
        f"ops {load['ops']}"
    )
    parts.append("")
    rows = []
    for endpoint, e in result["endpoints"].items():
        s = e["latency"]
        rows.append(
            [
                endpoint,
                str(e["count"]),
                str(e["errors"]),
                f"{100 * e['error_rate']:.2f}",
                *(f"{s.get(k, float('nan')):.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")),
                f"{s.get('max_ms', float('nan')):.1f}",
            ]
        )
    parts += [
        "Per endpoint (ms from the scheduled send time)",
        _table(["endpoint", "count", "errors", "err%", "p50", "p95", "p99", "max"], rows),
        "",
    ]
    rss = result["rss_kb"]
    rows = [
        [
            n,
            f"{(rss['start'][n] or 0) / 1024:.1f}",
            *(f"{(smp.get(n) or 0) / 1024:.1f}" for smp in rss["samples"][1:]),
            f"{(rss['end'][n] or 0) / 1024:.1f}",
            f"{(rss['growth'][n] or 0) / 1024:+.1f}",
        ]
        for n in SERVICES
    ]
    minutes = [f"{smp['t'] // 60}m" for smp in rss["samples"][1:]]
    parts += [
        "RSS (MiB) after warm-up, every minute, at the end",
        _table(["process", "start", *minutes, "end", "growth"], rows),
        "",
    ]
    lags = result["lags"]
    rows = [
        [
            s,
            str(lags["at_stop"]["outbox_unpublished"].get(s, "-")),
            str(lags["after_drain"]["outbox_unpublished"].get(s, "-")),
            str(lags["at_stop"]["consumer_lag"].get(s, "-")),
            str(lags["after_drain"]["consumer_lag"].get(s, "-")),
        ]
        for s in SERVICES
    ]
    parts += [
        f"Backlog (drained: {lags['drained']} in {lags['drain_seconds']} s)",
        _table(["service", "outbox@stop", "outbox@end", "lag@stop", "lag@end"], rows),
        "",
        "DLT records: "
        + (", ".join(f"{t}={n}" for t, n in result["dlt"].items()) or "no .dlt topics"),
        f"rows: {result['rows']}",
    ]
    if result["failures"]:
        parts += ["", "failures (most common):"]
        parts += [f"  {n} x {k}" for k, n in result["failures"].items()]
    parts.append(f"\nbench took {result['duration_seconds']:.1f} s")
    return "\n".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=600.0, help="measured seconds")
    p.add_argument("--rate", type=float, default=20.0, help="arrivals per second, all endpoints")
    p.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    p.add_argument("--warm-up", type=float, default=30.0, help="seconds of load not measured")
    p.add_argument("--setup-tips", type=int, default=6, help="substantiated before the load")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--keep-database", action="store_true")
    return p.parse_args(argv)


async def _pg_version(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    prefix = f"load{uuid.uuid4().hex[:10]}."
    try:
        with private_database("load", SERVICES, keep=args.keep_database) as db:
            try:
                result = asyncio.run(run(args, db.url, db.dsn, prefix))
                pg = asyncio.run(_pg_version(db.dsn))
            finally:
                with contextlib.suppress(Exception):
                    asyncio.run(delete_topics(KAFKA, prefix))
    except BenchError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.load: interrupted; processes stopped, database dropped", file=sys.stderr)
        return 130
    result = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine_info(pg, load_before),
        "parameters": {
            "duration": args.duration,
            "rate": args.rate,
            "concurrency": args.concurrency,
            "warm_up": args.warm_up,
            "topic_prefix": prefix,
            "mix": MIX,
        },
        **result,
        "duration_seconds": round(time.perf_counter() - t0, 1),
    }
    print(render(result))
    print(f"wrote {write_result('load', result, started_at)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

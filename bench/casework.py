"""Casework benchmark: related cases over 200,000 cases and 1,000,000 parties.

``uv run python -m bench.casework [--cases 200000] [--persons 1000000] [--requests 300]``

GET /v1/cases/{id}/related through a real uvicorn process (the casework app, one worker, relay
and consumers on) for random cases of province 01, as an investigator of province 01; against
the same lookup written as one SQL query and sent with asyncpg from the bench process, so the
difference is what the framework (auth, ORM, three statements and a transaction, decryption,
response models) costs. ``EXPLAIN ANALYZE`` of the repository's statement is in the JSON.

The parties' blind-index digests come from ``services.casework.parties.party_digests`` with the
service's own key, so the rows are what the service would have written.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import httpx

from bench.common import (
    CapturingSession,
    Uvicorn,
    bulk_load,
    compiled_sql,
    explain_analyze,
    fmt_ms,
    header,
    plan_summary,
    run_in_private_database,
    service_env,
    status_counts,
    timed,
    uuid7_at,
    zipf_weights,
)
from bench.report import _table as table
from bench.report import latency_summary
from bench.support import delete_topics
from libs.common.auth import Principal, issue_dev_token
from libs.common.crypto import BlindIndex, FieldCipher
from libs.common.jurisdiction import _provinces, province_of, wards_of
from services.casework import repository
from services.casework.domain import PartyRole
from services.casework.parties import party_digests
from services.casework.settings import CaseworkSettings

CASEWORK_APP = "services.casework.app:create_app"
HOME_PROVINCE = "01"
CHUNK = 50_000

log = logging.getLogger("bench.casework")

CASE_COLUMNS = (
    "id",
    "tip_id",
    "title",
    "summary",
    "status",
    "ward_code",
    "province_code",
    "exploitation_types",
    "destination_country",
    "opened_at",
    "opened_by",
    "stage_entered_at",
    "stage_due_at",
    "defendants",
    "sentences",
    "version",
    "updated_at",
)
PARTY_COLUMNS = (
    "id",
    "case_id",
    "role",
    "full_name",
    "date_of_birth",
    "age",
    "sex",
    "phone",
    "id_number",
    "hometown_ward_code",
    "nationality",
    "added_at",
    "added_by",
)
INDEX_COLUMNS = ("party_id", "kind", "digest", "case_id", "province_code")
STATUSES = ["open", "investigating", "suspended", "indicted", "trial_scheduled", "adjudicated"]
STATUS_WEIGHTS = [5, 30, 5, 10, 5, 10]  # and 35 closed
TYPE_SETS = [["forced_labour"], ["sexual_exploitation"], ["forced_marriage"], ["other"]]
FAMILY = ["Nguyễn"] * 6 + ["Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
FAMILY += ["Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Thị", "Văn", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Xuân", "Kim"]
GIVEN = (
    "Hoa Lan Mai Nam Hùng Dũng Linh Trang Tuấn Hương Sơn Hải Hà Long Phương Thảo Anh Bình "
    "Châu Cường Duy Giang Hạnh Hiếu Hòa Huy Khánh Khoa Lâm Loan Lộc Minh Nga Ngân Nhung Phúc "
    "Quân Quang Quyên Tâm Thắng Thành Thu Thủy Tiến Toàn Trung Tú Uyên Vân Việt Vinh Yến Đạt "
    "Hậu Kiên Lực Oanh Quế"
).split()


@dataclass(frozen=True, slots=True)
class Identity:
    """What ``party_digests`` reads of a ``PartyIn``: the same attributes, none of the parsing."""

    role: PartyRole
    full_name: str
    birth_year: int
    phone: str | None
    id_number: str | None


class CaseworkGenerator:
    """Cases over five years and their parties, with identifiers shared across cases.

    * ``home_share`` of the cases in province 01 (its wards Zipf-weighted), the rest across the
      other 33 provinces;
    * five parties a case: one or two suspects, at most one witness, the rest victims;
    * ``recurring_share`` of suspects are people who recur (ring members): drawn from a pool of
      ``recurring_suspects``, 80% from the case's own province, Zipf-weighted, so a few appear
      in dozens of cases and most in a handful; they keep their name, birth year, phone and ID;
    * 3% of victims' and witnesses' phones are a broker's (a pool of 5,000, Zipf-weighted);
    * every other phone and ID number is unique; names are drawn from common Vietnamese parts,
      so suspects with the same name and birth year also occur by chance, as they do.
    """

    def __init__(self, args: argparse.Namespace, settings: CaseworkSettings) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.now = datetime.now(UTC)
        self.index = BlindIndex.from_b64(settings.blind_index_key.get_secret_value())
        cipher = FieldCipher.from_spec(settings.field_keys.get_secret_value())
        self.title = cipher.encrypt("Vụ mua bán người qua biên giới", "casework.cases.title")
        self.summary = cipher.encrypt("Tóm tắt vụ án.", "casework.cases.summary")
        self.sealed = {
            column: cipher.encrypt(value, f"casework.parties.{column.split(':')[0]}")
            for column, value in (
                ("full_name", "Nguyễn Thị Hoa"),
                ("date_of_birth", "1990-01-01"),
                ("phone", "+84912345678"),
                ("id_number", "001090012345"),
                ("sex:male", "male"),
                ("sex:female", "female"),
                ("nationality", "VN"),
            )
        }
        self.home_wards = wards_of(HOME_PROVINCE)
        self.home_weights = zipf_weights(len(self.home_wards), 0.8)
        self.provinces = [p for p in sorted(_provinces()) if p != HOME_PROVINCE]
        self.wards_by_province = {p: wards_of(p) for p in [HOME_PROVINCE, *self.provinces]}
        self.serial = 0
        self.pool_by_province: dict[str, list[Identity]] = {}
        pool = [self._recurring(i) for i in range(args.recurring_suspects)]
        self.pool = pool
        self.recurring = set(pool)
        self.pool_weights = zipf_weights(len(pool), 0.5)
        for person, province in zip(pool, self._provinces(len(pool)), strict=True):
            self.pool_by_province.setdefault(province, []).append(person)
        self.province_weights = {
            p: zipf_weights(len(v), 0.5) for p, v in self.pool_by_province.items()
        }
        self.brokers = [f"+843{i:08d}" for i in range(5000)]
        self.broker_weights = zipf_weights(len(self.brokers), 0.5)
        self.digest_cache: dict[Identity, dict[str, str]] = {}
        self.cases: list[tuple[uuid.UUID, str, datetime]] = []

    def _provinces(self, n: int) -> list[str]:
        return [
            HOME_PROVINCE
            if self.rng.random() < self.args.home_share
            else self.rng.choice(self.provinces)
            for _ in range(n)
        ]

    def _name(self) -> str:
        rng = self.rng
        given = (
            rng.choice(GIVEN) if rng.random() < 0.5 else f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}"
        )
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {given}"

    def _unique(self) -> int:
        self.serial += 1
        return self.serial

    def _recurring(self, i: int) -> Identity:
        rng = self.rng
        return Identity(
            PartyRole.suspect,
            self._name(),
            rng.randrange(1960, 2002),
            f"+847{i:08d}" if rng.random() < 0.8 else None,
            f"0{i:011d}" if rng.random() < 0.7 else None,
        )

    def _fresh(self, role: PartyRole) -> Identity:
        rng = self.rng
        n = self._unique()
        phone = None
        if rng.random() < 0.6:
            if role is not PartyRole.suspect and rng.random() < 0.03:
                phone = rng.choices(self.brokers, cum_weights=self.broker_weights)[0]
            else:
                phone = f"+849{n:08d}"
        return Identity(
            role,
            # Only a suspect's name is indexed; the stored name is one ciphertext for all.
            self._name() if role is PartyRole.suspect else "",
            rng.randrange(1960, 2010),
            phone,
            f"1{n:011d}" if rng.random() < 0.45 else None,
        )

    def _suspect(self, province: str) -> Identity:
        rng = self.rng
        if rng.random() >= self.args.recurring_share:
            return self._fresh(PartyRole.suspect)
        local = self.pool_by_province.get(province)
        if local and rng.random() < 0.8:
            return rng.choices(local, cum_weights=self.province_weights[province])[0]
        return rng.choices(self.pool, cum_weights=self.pool_weights)[0]

    def _digests(self, person: Identity) -> dict[str, str]:
        if person in self.recurring:
            cached = self.digest_cache.get(person)
            if cached is None:
                cached = self.digest_cache[person] = party_digests(
                    self.index,
                    person,  # type: ignore[arg-type]
                    person.birth_year,
                )
            return cached
        return party_digests(self.index, person, person.birth_year)  # type: ignore[arg-type]

    def case_chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        rng, n = self.rng, self.args.cases
        span = 5 * 365 * 86400
        start = self.now.timestamp() - span
        for first in range(0, n, CHUNK):
            rows = []
            for i in range(first, min(first + CHUNK, n)):
                ts = start + span * (i + rng.random()) / n
                opened = datetime.fromtimestamp(ts, UTC)
                if rng.random() < self.args.home_share:
                    ward = rng.choices(self.home_wards, cum_weights=self.home_weights)[0]
                else:
                    ward = rng.choice(self.wards_by_province[rng.choice(self.provinces)])
                status = (
                    "closed"
                    if rng.random() < 0.35
                    else rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
                )
                stage = opened + (self.now - opened) * rng.random()
                case_id = uuid7_at(int(ts * 1000), rng)
                province = province_of(ward) or HOME_PROVINCE
                self.cases.append((case_id, province, opened))
                rows.append(
                    (
                        case_id,
                        uuid.UUID(int=rng.getrandbits(128)) if rng.random() < 0.6 else None,
                        self.title,
                        self.summary if rng.random() < 0.5 else None,
                        status,
                        ward,
                        province,
                        rng.choice(TYPE_SETS),
                        rng.choice([None, None, "CN", "KH", "LA", "MY"]),
                        opened,
                        f"investigator-{rng.randrange(500)}",
                        stage,
                        None if status == "closed" else stage + timedelta(days=60),
                        "[]",
                        "[]",
                        rng.randrange(1, 8),
                        stage,
                    )
                )
            yield rows

    def party_chunks(self, index_rows: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
        """Parties, in case order; their digest rows are collected in ``index_rows``."""
        rng = self.rng
        per_case = self.args.persons / self.args.cases
        rows: list[tuple[Any, ...]] = []
        owed = 0.0
        for case_id, province, opened in self.cases:
            owed += per_case
            count, owed = int(owed), owed - int(owed)
            suspects = min(count, 1 + (rng.random() < 0.5))
            witnesses = min(count - suspects, int(rng.random() < 0.5))
            roles = [PartyRole.suspect] * suspects + [PartyRole.witness] * witnesses
            roles += [PartyRole.victim] * (count - len(roles))
            added = opened + timedelta(days=rng.uniform(0, 30))
            for role in roles:
                person = self._suspect(province) if role is PartyRole.suspect else self._fresh(role)
                party_id = uuid7_at(int(added.timestamp() * 1000), rng)
                s = self.sealed
                rows.append(
                    (
                        party_id,
                        case_id,
                        role.value,
                        s["full_name"],
                        s["date_of_birth"] if rng.random() < 0.5 else None,
                        None,
                        s["sex:male"] if role is PartyRole.suspect else s["sex:female"],
                        s["phone"] if person.phone else None,
                        s["id_number"] if person.id_number else None,
                        None,
                        s["nationality"],
                        added,
                        "bench",
                    )
                )
                for kind, digest in self._digests(person).items():
                    index_rows.append((party_id, kind, digest, case_id, province))
                if len(rows) >= CHUNK:
                    yield rows
                    rows = []
        if rows:
            yield rows


async def load(args: argparse.Namespace, dsn: str, settings: CaseworkSettings) -> dict[str, Any]:
    generator = CaseworkGenerator(args, settings)
    index_rows: list[tuple[Any, ...]] = []
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        timings = {
            "cases": await bulk_load(
                conn, "casework", "cases", CASE_COLUMNS, generator.case_chunks()
            ),
            "parties": await bulk_load(
                conn, "casework", "parties", PARTY_COLUMNS, generator.party_chunks(index_rows)
            ),
        }
        chunks = (index_rows[i : i + CHUNK] for i in range(0, len(index_rows), CHUNK))
        timings["party_index"] = await bulk_load(
            conn, "casework", "party_index", INDEX_COLUMNS, chunks
        )
        analyze = time.perf_counter()
        # VACUUM too: the visibility map a long-lived table has, and no autovacuum mid-run.
        await conn.execute(
            "VACUUM (ANALYZE) casework.cases, casework.parties, casework.party_index"
        )
        timings["analyze_seconds"] = round(time.perf_counter() - analyze, 1)
        timings["total_seconds"] = round(time.perf_counter() - started, 1)
        shape = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM casework.cases) AS cases,
                      (SELECT count(*) FROM casework.cases WHERE province_code = $1) AS home_cases,
                      (SELECT count(*) FROM casework.parties) AS parties,
                      (SELECT count(*) FROM casework.party_index) AS index_rows,
                      pg_size_pretty(pg_total_relation_size('casework.party_index'))
                          AS index_size""",
            HOME_PROVINCE,
        )
        sharing = await conn.fetchrow(
            """WITH d AS (SELECT kind, digest, count(DISTINCT case_id) AS cases
                          FROM casework.party_index GROUP BY kind, digest)
               SELECT count(*) FILTER (WHERE cases > 1) AS shared_digests,
                      max(cases) AS max_cases_per_digest,
                      percentile_disc(0.99) WITHIN GROUP (ORDER BY cases)
                          FILTER (WHERE cases > 1) AS p99_cases_per_shared_digest
               FROM d"""
        )
        home_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM casework.cases WHERE province_code = $1", HOME_PROVINCE
            )
        ]
    finally:
        await conn.close()
    return {
        "load": timings,
        "shape": {**dict(shape), **dict(sharing)},
        "home_ids": home_ids,
    }


HAND_WRITTEN = """
SELECT c.id, c.title, c.status, c.ward_code,
       array_agg(DISTINCT theirs.kind ORDER BY theirs.kind) AS shared
FROM casework.cases me
JOIN casework.party_index mine ON mine.case_id = me.id
JOIN casework.party_index theirs
  ON theirs.kind = mine.kind AND theirs.digest = mine.digest AND theirs.case_id <> me.id
JOIN casework.cases c ON c.id = theirs.case_id
WHERE me.id = $1
  AND (me.province_code = ANY($2::text[]) OR me.ward_code = ANY($2::text[]))
  AND (c.province_code = ANY($2::text[]) OR c.ward_code = ANY($2::text[]))
GROUP BY c.id
ORDER BY c.opened_at DESC
LIMIT 200
"""


async def _repository_statement(principal: Principal, case_id: uuid.UUID) -> tuple[str, list[Any]]:
    capture = CapturingSession()
    await repository.related_cases(
        capture,  # type: ignore[arg-type]
        case_id,
        repository.case_scope(principal),
    )
    (statement,) = capture.statements
    return compiled_sql(statement)


async def related(
    args: argparse.Namespace, dsn: str, url: str, prefix: str, home_ids: list[uuid.UUID]
) -> dict[str, Any]:
    settings = CaseworkSettings(database_url=url, topic_prefix=prefix)
    principal = Principal("bench-investigator", frozenset({"investigator"}), (HOME_PROVINCE,))
    token = issue_dev_token(
        settings, roles=principal.roles, jurisdiction=principal.jurisdiction, sub=principal.sub
    )
    headers = {"authorization": f"Bearer {token}"}
    rng = random.Random(args.seed)
    sample = rng.sample(home_ids, args.requests + args.warm_up_requests)
    warm, ids = sample[: args.warm_up_requests], sample[args.warm_up_requests :]
    conn = await asyncpg.connect(dsn)
    try:
        async with Uvicorn(CASEWORK_APP, service_env(url, prefix)) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
                calls = [
                    partial(client.get, f"/v1/cases/{case_id}/related", headers=headers)
                    for case_id in ids
                ]
                await timed(
                    [partial(client.get, f"/v1/cases/{i}/related", headers=headers) for i in warm]
                )
                latencies, responses = await timed(calls)
        scope = list(principal.jurisdiction)
        await timed([partial(conn.fetch, HAND_WRITTEN, i, scope) for i in warm])
        sql_latencies, sql_rows = await timed(
            [partial(conn.fetch, HAND_WRITTEN, i, scope) for i in ids]
        )
        found = [len(r.json()) for r in responses if r.status_code == 200]
        agree = sum(
            1
            for r, rows in zip(responses, sql_rows, strict=True)
            if r.status_code == 200 and len(r.json()) == len(rows)
        )
        busiest = max(range(len(ids)), key=lambda i: len(sql_rows[i]))
        plans = {}
        for label, case_id in (
            ("a random case", ids[0]),
            ("the sample's most related", ids[busiest]),
        ):
            sql, values = await _repository_statement(principal, case_id)
            plans[label] = {
                "case_id": str(case_id),
                "related": len(sql_rows[ids.index(case_id)]),
                "statement": sql,
                "explain_analyze": await explain_analyze(conn, sql, values),
                "hand_written_explain_analyze": await explain_analyze(
                    conn, HAND_WRITTEN, [case_id, scope]
                ),
            }
    finally:
        await conn.close()
    related_counts = Counter(found)
    return {
        "http": latency_summary(latencies),
        "statuses": status_counts(responses),
        "sql": latency_summary(sql_latencies),
        "cases_with_related_share": round(sum(1 for n in found if n) / len(found), 3)
        if found
        else 0,
        "related_mean": round(sum(found) / len(found), 2) if found else 0,
        "related_max": max(found, default=0),
        "related_histogram": dict(sorted(related_counts.items())),
        "http_and_sql_agree_on_count": agree,
        "explain": plans,
    }


async def run(args: argparse.Namespace, dsn: str, url: str) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:10]}."
    settings = CaseworkSettings(database_url=url, topic_prefix=prefix)
    results: dict[str, Any] = {"topic_prefix": prefix}
    conn = await asyncpg.connect(dsn)
    results["postgresql_version"] = str(await conn.fetchval("SHOW server_version"))
    await conn.close()
    try:
        print(f"loading {args.cases:,} cases and {args.persons:,} parties ...", flush=True)
        data = await load(args, dsn, settings)
        home_ids = data.pop("home_ids")
        results["data"] = data
        print(f"GET /v1/cases/{{id}}/related: {args.requests} cases of province 01 ...", flush=True)
        results["related"] = await related(args, dsn, url, prefix, home_ids)
    finally:
        try:
            await asyncio.wait_for(delete_topics(settings.kafka_bootstrap, prefix), 30)
        except Exception as exc:
            log.warning("could not delete the topics %s*: %r", prefix, exc)
    return results


def render(result: dict[str, Any]) -> str:
    out = header("ctip casework benchmark", result)
    data, r = result["data"], result["related"]
    shape, load = data["shape"], data["load"]
    out += [
        f"data: {shape['cases']:,} cases ({shape['home_cases']:,} in province 01), "
        f"{shape['parties']:,} parties, {shape['index_rows']:,} party_index rows "
        f"({shape['index_size']}); {shape['shared_digests']:,} digests shared by 2+ cases, "
        f"p99 {shape['p99_cases_per_shared_digest']} and max {shape['max_cases_per_digest']} "
        "cases per shared digest",
        f"loaded in {load['total_seconds']} s: "
        + ", ".join(
            f"{t} (generate {load[t]['generate_seconds']}, COPY {load[t]['copy_seconds']}, "
            f"indexes {load[t]['index_rebuild_seconds']})"
            for t in ("cases", "parties", "party_index")
        )
        + f", VACUUM ANALYZE {load['analyze_seconds']}",
        "",
        f"GET /v1/cases/{{id}}/related, {sum(r['statuses'].values())} random cases of province "
        "01, one at a time (ms; goal: HTTP p95 < 50)",
        table(
            ["path", "statuses", "p50", "p95", "p99", "max"],
            [
                [
                    "HTTP (uvicorn, ctip casework)",
                    str(r["statuses"]),
                    *(fmt_ms(r["http"], k) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                ],
                [
                    "one hand-written SQL query (asyncpg)",
                    "-",
                    *(fmt_ms(r["sql"], k) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                ],
            ],
        ),
        f"cases with related cases: {r['cases_with_related_share']:.1%}, mean "
        f"{r['related_mean']}, max {r['related_max']}; HTTP and SQL agree on the count for "
        f"{r['http_and_sql_agree_on_count']} of {sum(r['statuses'].values())}",
        *(
            f"plan [{label}, {p['related']} related]: {plan_summary(p['explain_analyze'])}"
            for label, p in r["explain"].items()
        ),
        "",
        f"bench took {result['duration_seconds']:.1f} s",
    ]
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.casework", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--persons", type=int, default=1_000_000, help="parties, over all cases")
    parser.add_argument("--home-share", type=float, default=0.25, help="cases in province 01")
    parser.add_argument(
        "--recurring-share", type=float, default=0.10, help="suspects who recur across cases"
    )
    parser.add_argument("--recurring-suspects", type=int, default=8000, help="their pool")
    parser.add_argument("--requests", type=int, default=300, help="measured case ids")
    parser.add_argument("--warm-up-requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--keep-database", action="store_true", help="leave the bench database for inspection"
    )
    args = parser.parse_args(argv)
    if args.cases < 1 or args.persons < args.cases or args.requests < 1:
        parser.error("--cases and --requests must be positive, --persons at least --cases")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parameters = {
        "cases": args.cases,
        "persons": args.persons,
        "home_share": args.home_share,
        "recurring_share": args.recurring_share,
        "recurring_suspects": args.recurring_suspects,
        "requests": args.requests,
        "seed": args.seed,
    }
    return run_in_private_database("casework", ["casework"], args, run, parameters, render)


if __name__ == "__main__":
    raise SystemExit(main())

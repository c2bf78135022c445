"""The steady stream of requests the faults are injected into, and the census afterwards.

Each tick files a tip naming one victim (unique ID number) as an intake officer would; every
second tip is classified and verified as substantiated at once (so casework opens a case, which
links the victim, whom victim_support receives); every tenth tick also reports a missing person
(published at once by the officer, so interagency alerts the partner). What was acknowledged is
written down; the census then reads every schema and says what is missing or doubled downstream.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from testkit.kafka import dead_letters as dead_letters  # test_faults.py takes it from here
from tests.faults.partner import FlakyPartner

WARD = "00256"


@dataclass
class Ledger:
    """What the system acknowledged, and how the other requests failed."""

    tips: set[str] = field(default_factory=set)
    substantiated: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    sent: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.sent,
            "tips_acknowledged": len(self.tips),
            "substantiated_acknowledged": len(self.substantiated),
            "missing_acknowledged": len(self.missing),
            "failed": dict(self.failed),
        }


class Stream:
    def __init__(self, intake_url: str, officer: dict[str, str], ledger: Ledger) -> None:
        self.url = intake_url
        self.officer = officer
        self.ledger = ledger
        self.rng = random.Random()

    async def _post(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any], ok: int
    ) -> dict[str, Any] | None:
        self.ledger.sent += 1
        try:
            response = await http.post(f"{self.url}{path}", json=body, headers=self.officer)
        except httpx.HTTPError as exc:
            self.ledger.failed[f"{path.split('/')[2]}:{type(exc).__name__}"] += 1
            return None
        if response.status_code != ok:
            self.ledger.failed[f"{path.split('/')[2]}:{response.status_code}"] += 1
            return None
        result: dict[str, Any] = response.json()
        return result

    async def unit(self, http: httpx.AsyncClient, n: int) -> None:
        tag = self.rng.randrange(10**11)
        tip = await self._post(
            http,
            "/v1/tips",
            {
                "channel": "police",
                "description": f"Tin báo tải thử {n}: dấu hiệu mua bán người cần xác minh.",
                "incident_ward_code": WARD,
                "exploitation_types": ["forced_labour"],
                "persons": [
                    {
                        "role": "victim",
                        "full_name": f"Nạn Nhân Thử {tag}",
                        "age": 24,
                        "id_number": f"0{tag:011d}",
                    }
                ],
            },
            201,
        )
        if tip is not None:
            self.ledger.tips.add(tip["id"])
            if n % 2 == 0:
                classified = await self._post(
                    http,
                    f"/v1/tips/{tip['id']}/classification",
                    {"trafficking_related": "yes", "priority": "high"},
                    200,
                )
                if classified is not None:
                    verified = await self._post(
                        http,
                        f"/v1/tips/{tip['id']}/verification",
                        {"outcome": "substantiated"},
                        200,
                    )
                    if verified is not None:
                        self.ledger.substantiated.add(tip["id"])
        if n % 10 == 0:
            report = await self._post(
                http,
                "/v1/missing-persons",
                {
                    "full_name": f"Người Mất Tích {tag}",
                    "sex": "female",
                    "age": 19,
                    "last_seen_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                    "last_seen_ward_code": WARD,
                    # an officer of the place publishes at once; a report filed otherwise waits
                    # for review and is never alerted, so the census would miss its alert
                    "publish": True,
                },
                201,
            )
            if report is not None:
                self.ledger.missing.add(report["id"])

    async def run(self, *, rate: float, seconds: float) -> None:
        """``rate`` units a second for ``seconds``, each on its own, never waiting for the
        previous one: a slow or failing system does not slow the stream down."""
        tasks: list[asyncio.Task[None]] = []
        async with httpx.AsyncClient(timeout=10) as http:
            start = time.monotonic()
            n = 0
            while (elapsed := time.monotonic() - start) < seconds:
                while n < elapsed * rate:
                    tasks.append(asyncio.create_task(self.unit(http, n)))
                    n += 1
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks)


@dataclass
class Census:
    """What is wrong downstream; empty lists everywhere mean every effect is there once."""

    problems: dict[str, list[str]]
    counts: dict[str, int]

    @property
    def converged(self) -> bool:
        return not any(self.problems.values())


async def _rows(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql)))


async def census(engine: AsyncEngine, partner: FlakyPartner, partner_code: str) -> Census:
    tips = {
        str(r[0]): r[1]
        for r in await _rows(engine, "SELECT id, verification_outcome FROM intake.tips")
    }
    refs = {str(r[0]) for r in await _rows(engine, "SELECT tip_id FROM casework.tip_refs")}
    cases = {
        str(r[0]): (str(r[1]), r[2])
        for r in await _rows(
            engine,
            "SELECT tip_id, min(id::text), count(*) FROM casework.cases"
            " WHERE tip_id IS NOT NULL GROUP BY tip_id",
        )
    }
    victim_parties = {
        str(r[0]): str(r[1])
        for r in await _rows(
            engine, "SELECT id, case_id FROM casework.parties WHERE role = 'victim'"
        )
    }
    received = Counter(
        str(r[0])
        for r in await _rows(
            engine,
            "SELECT source_ref FROM victim_support.victim_sources WHERE source_kind = 'case_party'",
        )
    )
    per_case = Counter(
        str(r[0])
        for r in await _rows(engine, "SELECT unnest(case_ids) FROM victim_support.victims")
    )
    missing = {str(r[0]) for r in await _rows(engine, "SELECT id FROM intake.missing_persons")}
    alerts = Counter(
        str(r[0])
        for r in await _rows(
            engine,
            "SELECT subject_id FROM interagency.alerts"
            " WHERE direction = 'out' AND alert_type = 'missing_person'",
        )
    )
    deliveries = {
        str(r[0]): r[1]
        for r in await _rows(
            engine,
            "SELECT a.subject_id, d.status FROM interagency.deliveries d"
            " JOIN interagency.alerts a ON a.id = d.alert_id"
            f" WHERE d.partner_code = '{partner_code}'",
        )
    }
    delivered = partner.delivered()
    substantiated = {t for t, outcome in tips.items() if outcome == "substantiated"}
    case_ids = {case_id for case_id, _ in cases.values()}
    problems = {
        "tip without tip_ref": sorted(set(tips) - refs),
        "substantiated tip without case": sorted(substantiated - set(cases)),
        "tip with several cases": sorted(t for t, (_, n) in cases.items() if n > 1),
        "case without its victim party": sorted(case_ids - set(victim_parties.values())),
        "victim party not received": sorted(p for p in victim_parties if received[p] == 0),
        "victim party received twice": sorted(p for p in victim_parties if received[p] > 1),
        "case with several receptions": sorted(c for c in case_ids if per_case[c] > 1),
        "case without reception": sorted(c for c in case_ids if per_case[c] == 0),
        "missing person without alert": sorted(m for m in missing if alerts[m] == 0),
        "missing person alerted twice": sorted(m for m in missing if alerts[m] > 1),
        "alert not delivered": sorted(m for m in missing if deliveries.get(m) != "delivered"),
        "alert not received by the partner": sorted(m for m in missing if not delivered.get(m)),
        "alert received under several webhook-ids": sorted(
            m for m in missing if len(delivered.get(m, ())) > 1
        ),
    }
    counts = {
        "tips": len(tips),
        "substantiated": len(substantiated),
        "cases": len(cases),
        "receptions": sum(received.values()),
        "missing_persons": len(missing),
        "alerts_out": sum(alerts.values()),
        "webhook_redeliveries_same_id": partner.redelivered(),
        "partner_requests": len(partner.hits),
    }
    return Census(problems, counts)

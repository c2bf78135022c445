"""Synthetic data and helpers shared by casework's integration tests.

All tests of a session share one database: each test filters by the ids it created, and tests
that count work in wards of their own (``tests.support.fresh_ward``, one allocator for every
service's tests).
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.jurisdiction import province_of
from tests.support import eventually, fresh_ward
from tests.support import outbox_event as decrypt_event

Auth = Callable[..., dict[str, str]]

HANOI = "01"
HAI_BA_TRUNG = "00256"  # Phường Hai Bà Trưng, Hà Nội
HCMC = "79"
assert province_of(HAI_BA_TRUNG) == HANOI


INVESTIGATOR, PROSECUTOR, CLERK = "investigator", "prosecutor", "court_clerk"
ROLE_OF = {
    "initiate": INVESTIGATOR,
    "decline": INVESTIGATOR,
    "suspend": INVESTIGATOR,
    "resume": INVESTIGATOR,
    "indict": PROSECUTOR,
    "schedule_trial": CLERK,
    "record_verdict": CLERK,
    "reopen_investigation": INVESTIGATOR,
    "close": CLERK,
}
_counter = itertools.count(1)


def random_mobile() -> str:
    return "09" + "".join(str(secrets.randbelow(10)) for _ in range(8))


def random_cccd() -> str:
    return "0" + "".join(str(secrets.randbelow(10)) for _ in range(11))


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def body_for(action: str, *, party_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid body of ``action`` (facts that hold for a case with no victim under 16)."""
    n = next(_counter)
    bodies: dict[str, dict[str, Any]] = {
        "initiate": {
            "decision_number": f"{n}/QĐ-KTVA",
            "decided_on": today(),
            "penal_code_article": 150,
        },
        "decline": {"legal_ground": "CPC Art. 157(1): no criminal act took place"},
        "suspend": {"decision_number": f"{n}/QĐ-TĐCĐT", "reason": "the accused absconded"},
        "resume": {"decision_number": f"{n}/QĐ-PHĐT"},
        "indict": {
            "indictment_number": f"{n}/CT-VKS",
            "indicted_on": today(),
            "defendants": [{"party_id": party_id, "charge_article": 150}],
        },
        "schedule_trial": {
            "trial_type": "standard",
            "scheduled_for": in_days(30),
            "venue": "Hội trường Tòa án nhân dân (giả lập)",
        },
        "record_verdict": {
            "outcome": "acquitted",
            "verdict_number": f"{n}/2026/HS-ST",
            "decided_on": today(),
            "sentences": [],
        },
        "reopen_investigation": {},
        "close": {},
    }
    return {"action": action, **bodies[action], **overrides}


class Casework:
    """The casework API as the officers of one province use it."""

    def __init__(self, client: httpx.AsyncClient, auth: Auth, province: str = HANOI) -> None:
        self.client = client
        self.auth = auth
        self.province = province

    def as_(self, role: str) -> dict[str, str]:
        return self.auth(role, self.province)

    async def open(self, ward: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {
            "title": f"Vụ án giả lập {next(_counter)}",
            "ward_code": ward or (HAI_BA_TRUNG if self.province == HANOI else fresh_ward(HCMC)),
            "summary": "Synthetic case for tests.",
            **fields,
        }
        response = await self.client.post("/v1/cases", json=body, headers=self.as_(INVESTIGATOR))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def add_person(self, case_id: str, **person: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/cases/{case_id}/persons", json=person, headers=self.as_(INVESTIGATOR)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def add_suspect(self, case_id: str, **person: Any) -> str:
        # A phone and no birth year: unique to the case, so it relates it to no other case.
        fields = {
            "full_name": f"Nghi Phạm Giả {next(_counter)}",
            "phone": random_mobile(),
            **person,
        }
        return str((await self.add_person(case_id, role="suspect", **fields))["id"])

    async def act(
        self,
        case_id: str,
        body: dict[str, Any],
        *,
        role: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/cases/{case_id}/transitions",
            json=body,
            headers={**self.as_(role or ROLE_OF[body["action"]]), **(headers or {})},
        )

    async def step(self, case_id: str, action: str, **fields: Any) -> dict[str, Any]:
        response = await self.act(case_id, body_for(action, **fields))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def get(self, case_id: str, role: str = INVESTIGATOR) -> dict[str, Any]:
        response = await self.client.get(f"/v1/cases/{case_id}", headers=self.as_(role))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def case_in(self, status: str, ward: str | None = None) -> dict[str, Any]:
        """A fresh case driven to ``status`` by the right roles; it has one suspect."""
        case = await self.open(ward)
        case_id = case["id"]
        suspect = await self.add_suspect(case_id)
        path = {
            "open": [],
            "investigating": ["initiate"],
            "suspended": ["initiate", "suspend"],
            "indicted": ["initiate", "indict"],
            "trial_scheduled": ["initiate", "indict", "schedule_trial"],
            "adjudicated": ["initiate", "indict", "schedule_trial", "record_verdict"],
            "closed": ["decline"],
        }[status]
        for action in path:
            await self.step(case_id, action, party_id=suspect)
        read = await self.get(case_id)
        assert read["status"] == status
        read["suspect_id"] = suspect
        return read


async def known_tip(db: AsyncEngine, ward: str | None = HAI_BA_TRUNG, province: str = HANOI) -> str:
    """A tip as casework's read model holds it after intake's ``tip.received``: a case opened by
    hand may name only such a tip, in the caller's jurisdiction."""
    tip_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO casework.tip_refs (tip_id, status, channel, incident_ward_code,"
                " province_code, received_at, updated_at)"
                " VALUES (:id, 'received', 'web', :ward, :province, :now, :now)"
            ),
            {"id": tip_id, "ward": ward, "province": province, "now": now},
        )
    return str(tip_id)


async def outbox_types(db: AsyncEngine, key: str) -> list[str]:
    """Short event types (``casework.case.opened``) written for ``key``, in order."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT type FROM casework.outbox WHERE key = :k ORDER BY seq"), {"k": key}
        )
        return [t.removeprefix("vn.ctip.").removesuffix(".v1") for t in rows.scalars()]


async def outbox_events(db: AsyncEngine, key: str, short_type: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT event FROM casework.outbox WHERE key = :k AND type = :t ORDER BY seq"),
            {"k": key, "t": f"vn.ctip.{short_type}.v1"},
        )
        return [decrypt_event("casework", e) for e in rows.scalars()]


async def cases_for_tip(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str
) -> list[Any]:
    response = await client.get("/v1/cases", params={"tip_id": tip_id}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def substantiate_tip(
    intake: httpx.AsyncClient,
    intake_auth: Auth,
    *,
    ward: str = HAI_BA_TRUNG,
    persons: list[dict[str, Any]] | None = None,
    outcome: str = "substantiated",
) -> str:
    """File a tip, classify it (locating it in ``ward``) and verify it; return its id."""
    officer = intake_auth("intake_officer", HANOI)
    filed = await intake.post(
        "/v1/tips",
        json={
            "channel": "hotline",
            "description": f"Synthetic tip {next(_counter)}: a broker recruits for work abroad.",
            "exploitation_types": ["sexual_exploitation"],
            "persons": persons or [],
        },
        headers=officer,
    )
    assert filed.status_code == 201, filed.text
    tip_id = str(filed.json()["id"])
    classified = await intake.post(
        f"/v1/tips/{tip_id}/classification",
        json={"trafficking_related": "yes", "priority": "high", "incident_ward_code": ward},
        headers=officer,
    )
    assert classified.status_code == 200, classified.text
    verified = await intake.post(
        f"/v1/tips/{tip_id}/verification", json={"outcome": outcome}, headers=officer
    )
    assert verified.status_code == 200, verified.text
    return tip_id


async def the_case_of(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str, *, timeout: float = 60.0
) -> Any:
    """Wait until the case of a substantiated tip is opened by the consumer; return it."""

    async def one() -> list[Any]:
        return await cases_for_tip(client, headers, tip_id)

    found = await eventually(one, timeout=timeout)
    assert len(found) == 1
    return found[0]

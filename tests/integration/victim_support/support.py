"""Builders for victim_support's integration tests: synthetic people, tokens, and the few calls
most tests make before the one behaviour they check."""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.victim_support.settings import VictimSupportSettings
from testkit import victim_support as bodies
from tests.support import bearer, fresh_ward

SETTINGS = VictimSupportSettings()
PROVINCE = "01"
OTHER_PROVINCE = "79"
# Wards of province 01 that each module uses on its own (the walkthrough uses 00256), so that
# figures filtered by ward count only what one module created.
RECEPTION_WARD, RULES_WARD, PROGRAMS_WARD, KPI_WARD = (fresh_ward(PROVINCE) for _ in range(4))
OTHER_PROVINCE_WARD = fresh_ward(OTHER_PROVINCE)
TODAY = datetime.now(UTC).date()
PROBLEM_JSON = "application/problem+json"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Thị", "Văn", "Minh", "Ngọc", "Đức"]


def worker(*jurisdiction: str) -> dict[str, str]:
    return bearer(SETTINGS, "social_worker", *(jurisdiction or (PROVINCE,)))


def supervisor(*jurisdiction: str) -> dict[str, str]:
    return bearer(SETTINGS, "supervisor", *(jurisdiction or (PROVINCE,)))


def ngo(org: str) -> dict[str, str]:
    return bearer(SETTINGS, "ngo", org=org)


def admin() -> dict[str, str]:
    return bearer(SETTINGS, "admin")


def new_org() -> str:
    return f"ngo-{uuid.uuid4().hex[:10]}"


def synthetic_name() -> str:
    """An invented Vietnamese-looking name no other test uses (its given name is random)."""
    given = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    return f"{random.choice(FAMILY)} {random.choice(MIDDLE)} {given}"


def synthetic_id_number() -> str:
    return "0" + "".join(random.choices(string.digits, k=11))


def reception(ward: str, **overrides: Any) -> dict[str, Any]:
    person = overrides.pop(
        "person",
        {
            "full_name": synthetic_name(),
            "date_of_birth": "1998-04-12",
            "sex": "female",
            "id_number": synthetic_id_number(),
        },
    )
    return bodies.reception(ward, person, **overrides)


async def receive(
    client: httpx.AsyncClient, ward: str, *, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/victims", headers=headers or worker(), json=reception(ward, **overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def read(client: httpx.AsyncClient, victim_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/victims/{victim_id}", headers=worker())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def identify(
    client: httpx.AsyncClient, victim_id: str, outcome: str = "identified"
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/victims/{victim_id}/identification",
        headers=worker(),
        json=bodies.identification(f"QĐ-{uuid.uuid4().hex[:6]}", outcome=outcome),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def protect(client: httpx.AsyncClient, victim_id: str) -> None:
    response = await client.post(
        f"/v1/victims/{victim_id}/protection",
        headers=worker(),
        json={"measures": ["safe_shelter"]},
    )
    assert response.status_code == 200, response.text


async def support(
    client: httpx.AsyncClient, victim_id: str, support_type: str, amount_vnd: int = 100_000
) -> httpx.Response:
    return await client.post(
        f"/v1/victims/{victim_id}/supports",
        headers=worker(),
        json={
            "type": support_type,
            "amount_vnd": amount_vnd,
            "provided_on": TODAY.isoformat(),
            "provider_org": "so-lao-dong-ha-noi",
        },
    )


async def consent(
    client: httpx.AsyncClient, victim_id: str, org: str, *, granted: bool = True
) -> None:
    response = await client.post(
        f"/v1/victims/{victim_id}/consents",
        headers=worker(),
        json=bodies.share_with_ngo(org, granted=granted),
    )
    assert response.status_code == 201, response.text


async def close(client: httpx.AsyncClient, victim_id: str) -> None:
    response = await client.post(
        f"/v1/victims/{victim_id}/reintegration",
        headers=worker(),
        json={"checked_on": TODAY.isoformat(), "situation": "settled at home", "closed": True},
    )
    assert response.status_code == 200, response.text


async def backdate(db: AsyncEngine, victim_id: str, *, days: float) -> None:
    """Move a reception ``days`` into the past, its verification clock with it."""
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE victim_support.victims SET received_at = received_at - make_interval("
                "secs => :s), verification_due_at = verification_due_at - make_interval("
                "secs => :s) WHERE id = :id"
            ),
            {"s": days * 86400, "id": victim_id},
        )


async def scalar(db: AsyncEngine, sql: str, **params: Any) -> Any:
    async with db.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")

"""Synthetic data and small helpers shared by intake's integration tests.

All tests of a session share one database, so each test that counts or lists works in a ward
of its own (``tests.support.fresh_ward``) or filters by the ids it created.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.jurisdiction import province_of
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from testkit.intake import resident_key
from tests.support import outbox_event as decrypt_event

HANOI = "01"
HAI_BA_TRUNG = "00256"  # Phường Hai Bà Trưng, Hà Nội
HCMC = "79"
VUNG_TAU = "26506"  # Phường Vũng Tàu, province 79
assert province_of(HAI_BA_TRUNG) == HANOI and province_of(VUNG_TAU) == HCMC


def random_mobile() -> str:
    """A Vietnamese mobile number, local format, unique enough for one session."""
    return "09" + "".join(str(secrets.randbelow(10)) for _ in range(8))


def random_cccd() -> str:
    return "0" + "".join(str(secrets.randbelow(10)) for _ in range(11))


_counter = itertools.count(1)


def tip_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "hotline",
        "description": f"Synthetic tip {next(_counter)}: a broker promises restaurant work abroad.",
        "incident_ward_code": HAI_BA_TRUNG,
    }
    body.update(overrides)
    return body


async def file_tip(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/tips", json=tip_body(**overrides), headers={**resident_key(), **(headers or {})}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


CLASSIFICATION = {"trafficking_related": "yes", "priority": "normal"}


async def classify(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/tips/{tip_id}/classification", json={**CLASSIFICATION, **overrides}, headers=headers
    )
    assert response.status_code == 200, response.text
    summary: dict[str, Any] = response.json()
    return summary


async def verify(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str, outcome: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/tips/{tip_id}/verification", json={"outcome": outcome, **extra}, headers=headers
    )


async def outbox_events(db: AsyncEngine, key: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of the outbox rows of one aggregate, oldest first."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT type, event FROM intake.outbox WHERE key = :key ORDER BY seq"),
            {"key": key},
        )
        return [(row.type, decrypt_event("intake", row.event)["data"]) for row in rows]


async def outbox_types(db: AsyncEngine, key: str) -> list[str]:
    return [t for t, _ in await outbox_events(db, key)]


async def set_clock(
    db: AsyncEngine, tip_id: str | UUID, *, received_at: datetime, due_at: datetime
) -> None:
    """Move a tip's receipt and deadline, as if it had been filed earlier."""
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE intake.tips SET received_at = :received, resolution_due_at = :due"
                " WHERE id = :id"
            ),
            {"received": received_at, "due": due_at, "id": str(tip_id)},
        )


async def tip_row(db: AsyncEngine, tip_id: str) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(text("SELECT * FROM intake.tips WHERE id = :id"), {"id": tip_id})
        ).one()


_addresses = itertools.count(1)


def fresh_address(prefix: str = "10") -> str:
    """An IPv4 address no other test of this session uses: the receipt limits are kept in the
    session's database, so two tests sharing an address would share a budget."""
    n = next(_addresses) + secrets.randbelow(1 << 12) * (1 << 12)
    return f"{prefix}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@asynccontextmanager
async def clients(
    settings: IntakeSettings, *addresses: str, raise_app_exceptions: bool = True
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app, and one client per address (the rate limits key on the client address)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        opened = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(
                    app=app, client=(address, 40000), raise_app_exceptions=raise_app_exceptions
                ),
                base_url="http://testserver",
            )
            for address in addresses
        ]
        try:
            yield opened
        finally:
            for client in opened:
                await client.aclose()


async def lookup(client: httpx.AsyncClient, code: str) -> httpx.Response:
    """The reporter's view of their receipt (the code travels in the body)."""
    return await client.post("/v1/receipts/lookup", json={"receipt_code": code})


async def add_message(
    client: httpx.AsyncClient, code: str, body: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/v1/receipts/messages",
        json={"receipt_code": code, "body": body},
        headers={**resident_key(), **(headers or {})},
    )


async def advance(db: AsyncEngine, tip_id: str | UUID, by: timedelta) -> None:
    """As if ``by`` had passed for one tip alone: its receipt, its deadline and its watches'
    clocks move that much into the past (a scan at the real now then finds what would be due
    then; other tips of the session are left where they are)."""
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE intake.tips SET received_at = received_at - make_interval(secs => :by),"
                " resolution_due_at = resolution_due_at - make_interval(secs => :by)"
                " WHERE id = :id"
            ),
            {"by": by.total_seconds(), "id": str(tip_id)},
        )
        await conn.execute(
            text(
                "UPDATE intake.deadline_watches SET due_at = due_at - make_interval(secs => :by),"
                " armed_at = armed_at - make_interval(secs => :by),"
                " fire_at = fire_at - make_interval(secs => :by) WHERE record_id = :id"
            ),
            {"by": by.total_seconds(), "id": str(tip_id)},
        )


async def deadline_signals(db: AsyncEngine, tip_id: str | UUID) -> list[dict[str, Any]]:
    """The deadline events of one tip in the outbox, oldest first: the payload with ``signal``
    (approaching or missed) added."""
    return [
        {**data, "signal": kind.split(".")[-2]}
        for kind, data in await outbox_events(db, str(tip_id))
        if ".deadline." in kind
    ]


async def watches(db: AsyncEngine, tip_id: str | UUID) -> dict[str, Any]:
    """The tip's deadline watches, by kind."""
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM intake.deadline_watches WHERE record_id = :id"),
            {"id": str(tip_id)},
        )
        return {row.deadline_kind: row for row in rows}

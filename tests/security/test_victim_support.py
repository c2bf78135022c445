"""Security review (issue 13), victim_support's findings, each pinned by a test that failed on the
code before its fix:

* High 2: a reception links to a person already received only within the receiving
  jurisdiction; a match elsewhere creates a record here, changes nothing there, says nothing in
  the answer, and tells the owning jurisdiction by an event; the two offices link their records by
  an explicit, audited proposal and decision.
* Low: an NGO's delivery batch (and single support) checks consent and enrollment before it
  locks a person, so an NGO cannot lock (slow or block) people it may not touch.
* Low: birth year, age, sex, hometown ward and the minor flag are not in clear at rest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.victim_support.app import create_app
from services.victim_support.settings import VictimSupportSettings
from tests.integration.victim_support.support import (
    PROGRAMS_WARD,
    TODAY,
    consent,
    identify,
    new_org,
    ngo,
    receive,
)
from tests.support import running

pytestmark = [pytest.mark.integration, pytest.mark.security]


@pytest.fixture
async def victim_support(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings_for(VictimSupportSettings))) as client:
        yield client


# NGO delivery batches: consent before the lock

ANSWER_WITHIN_SECONDS = 20  # far beyond a batch of two items; a batch that waits never answers


async def _program(client: httpx.AsyncClient, org: str) -> str:
    response = await client.post(
        "/v1/programs",
        headers=ngo(org),
        json={
            "name": "Lock probe (synthetic)",
            "org": org,
            "support_types": ["medical"],
            "period": {"start": f"{TODAY.year - 1}-01-01", "end": f"{TODAY.year + 1}-12-31"},
        },
    )
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    return pid


async def _enrolled(client: httpx.AsyncClient, pid: str, org: str) -> str:
    vid: str = (await receive(client, PROGRAMS_WARD))["id"]
    await identify(client, vid)
    await consent(client, vid, org)
    response = await client.post(
        f"/v1/programs/{pid}/enrollments",
        headers=ngo(org),
        json={"victim_id": vid, "external_id": f"e-{uuid.uuid4().hex[:8]}"},
    )
    assert response.status_code == 201, response.text
    return vid


def _delivery(vid: str) -> dict[str, Any]:
    return {
        "external_id": f"d-{uuid.uuid4().hex[:10]}",
        "victim_id": vid,
        "type": "medical",
        "amount_vnd": 100_000,
        "delivered_on": TODAY.isoformat(),
    }


async def _while_locked(db: AsyncEngine, victim_id: str, call: Any) -> httpx.Response:
    """Run ``call`` while another transaction holds the person's row lock (a social worker's
    action in progress), and give its answer, or fail if it waits for the lock."""
    async with db.connect() as conn:
        await conn.begin()
        await conn.execute(
            text("SELECT 1 FROM victim_support.victims WHERE id = :id FOR UPDATE"),
            {"id": victim_id},
        )
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN_SECONDS)
            assert task in done, "the NGO's request waited for a lock on a person it may not touch"
        finally:
            await conn.rollback()
        response: httpx.Response = await task
    return response


async def test_a_batch_naming_a_person_without_consent_does_not_wait_for_that_persons_lock(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await _program(victim_support, org)
    served = await _enrolled(victim_support, pid, org)
    stranger: str = (await receive(victim_support, PROGRAMS_WARD))["id"]
    response = await _while_locked(
        db,
        stranger,
        victim_support.post(
            f"/v1/programs/{pid}/deliveries:batch",
            headers=ngo(org),
            json={"items": [_delivery(stranger), _delivery(served)]},
        ),
    )
    assert response.status_code == 207, response.text
    refused, created = response.json()["results"]
    assert refused["status"] == "rejected"
    assert refused["errors"] == [{"field": "victim_id", "message": "not enrolled in this program"}]
    assert created["status"] == "created"


async def test_an_ngo_support_for_a_person_without_consent_does_not_wait_for_the_lock(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    org = new_org()
    pid = await _program(victim_support, org)
    stranger: str = (await receive(victim_support, PROGRAMS_WARD))["id"]
    response = await _while_locked(
        db,
        stranger,
        victim_support.post(
            f"/v1/victims/{stranger}/supports",
            headers=ngo(org),
            json={
                "type": "medical",
                "provided_on": TODAY.isoformat(),
                "provider_org": org,
                "program_id": pid,
            },
        ),
    )
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "no consenting person enrolled in this program with this id"

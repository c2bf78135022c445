"""Findings of the security review in casework: tips squatted by a hand-opened case, and the
timeline's legal facts (reasons, venue) stored in clear."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.casework.conftest import auth, casework, casework_settings  # noqa: F401
from tests.integration.casework.support import (
    HAI_BA_TRUNG,
    HANOI,
    INVESTIGATOR,
    Auth,
    Casework,
    fresh_ward,
    known_tip,
)

pytestmark = [pytest.mark.integration, pytest.mark.security]

HCMC_WARD = "26734"


async def _cases_for(client: httpx.AsyncClient, auth: Auth, tip_id: str) -> list[object]:
    response = await client.get(
        "/v1/cases", params={"tip_id": tip_id}, headers=auth(INVESTIGATOR, HANOI)
    )
    assert response.status_code == 200
    return list(response.json()["items"])


async def _open(
    client: httpx.AsyncClient, auth: Auth, tip_id: str, ward: str = HAI_BA_TRUNG
) -> httpx.Response:
    return await client.post(
        "/v1/cases",
        json={"title": "Vụ án giả lập", "ward_code": ward, "summary": "x", "tip_id": tip_id},
        headers=auth(INVESTIGATOR, HANOI),
    )


async def test_a_case_cannot_squat_a_tip_casework_does_not_know(
    casework: httpx.AsyncClient, auth: Auth
) -> None:
    tip_id = str(uuid4())
    response = await _open(casework, auth, tip_id)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "tip_id", "message": "no tip known to casework in your jurisdiction"}
    ]
    assert await _cases_for(casework, auth, tip_id) == []


async def test_a_case_cannot_squat_another_provinces_tip_and_learns_nothing_of_it(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await known_tip(db, HCMC_WARD, "79")
    response = await _open(casework, auth, tip_id)
    unknown = await _open(casework, auth, str(uuid4()))
    assert response.status_code == 422
    assert response.json()["errors"] == unknown.json()["errors"]
    assert response.json()["detail"] == unknown.json()["detail"]
    assert await _cases_for(casework, auth, tip_id) == []


async def test_a_case_for_a_known_tip_opens_only_in_the_tips_ward(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await known_tip(db, HAI_BA_TRUNG, HANOI)
    elsewhere = await _open(casework, auth, tip_id, ward=fresh_ward())
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"] == [
        {"field": "ward_code", "message": "must be the ward of the tip"}
    ]
    opened = await _open(casework, auth, tip_id)
    assert opened.status_code == 201, opened.text
    (case,) = await _cases_for(casework, auth, tip_id)
    assert isinstance(case, dict) and case["tip_id"] == tip_id


async def test_timeline_facts_and_trial_venue_are_encrypted_at_rest(
    casework: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    cw = Casework(casework, auth)
    venue = "Nhà văn hoá tổ dân phố 7 (synthetic venue)"
    ground = "Người tố giác Trần Thị Giả Lập rút đơn (synthetic)"
    declined = await cw.open()
    await cw.step(declined["id"], "decline", legal_ground=ground)
    tried = await cw.case_in("indicted")
    await cw.step(tried["id"], "schedule_trial", venue=venue)
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    "SELECT details FROM casework.case_events WHERE case_id IN (:a, :b)"
                    " UNION ALL SELECT trial_venue FROM casework.cases WHERE id = :b"
                ),
                {"a": UUID(declined["id"]), "b": UUID(tried["id"])},
            )
        ).scalars()
        dump = "\n".join(str(v) for v in stored)
    assert dump, "no timeline rows stored"
    for secret in (venue, ground, "Giả Lập", "synthetic"):
        assert secret not in dump
    assert (await cw.get(tried["id"]))["facts"]["trial_venue"] == venue
    timeline = (await cw.get(declined["id"]))["timeline"]
    (decline,) = [e for e in timeline if e["action"] == "decline"]
    assert decline["details"]["legal_ground"] == ground

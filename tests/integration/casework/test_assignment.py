"""``POST /v1/cases/{id}/assignment`` (DESIGN §6, §11): a case given to an investigator whose
jurisdiction covers its ward, as the directory of officers says; the same 422 for anyone else;
the refusals every action of a case answers with; audited and emitted; the same assignee again
changes nothing; ``assignee`` on the case and as a filter of the list.

The running app's directory is replaced, for this module, by a seeded one of its own people.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import issue_dev_token
from libs.common.directory import SeededDirectory
from libs.common.jurisdiction import wards_of
from services.casework.settings import CaseworkSettings
from tests.integration.casework.support import (
    HAI_BA_TRUNG,
    HANOI,
    INVESTIGATOR,
    Auth,
    Casework,
    outbox_events,
    outbox_types,
)
from tests.integration.deadline_support import watch_of

pytestmark = pytest.mark.integration

OTHER_WARD = next(w for w in wards_of(HANOI) if w != HAI_BA_TRUNG)
PEOPLE = [
    {"sub": "cw-inv-hanoi", "roles": ["investigator"], "jurisdiction": [HANOI]},
    {"sub": "cw-inv-ward", "roles": ["investigator"], "jurisdiction": [HAI_BA_TRUNG]},
    {"sub": "cw-inv-other-ward", "roles": ["investigator"], "jurisdiction": [OTHER_WARD]},
    {"sub": "cw-inv-hcmc", "roles": ["investigator"], "jurisdiction": ["79"]},
    {"sub": "cw-io-hanoi", "roles": ["intake_officer"], "jurisdiction": [HANOI]},
    {"sub": "cw-inv-gone", "roles": ["investigator"], "jurisdiction": [HANOI], "enabled": False},
]
INELIGIBLE = ["cw-nobody", "cw-inv-other-ward", "cw-inv-hcmc", "cw-io-hanoi", "cw-inv-gone"]


@pytest.fixture(scope="module", autouse=True)
def directory(casework_app: FastAPI) -> Iterator[None]:
    before = casework_app.state.directory
    casework_app.state.directory = SeededDirectory.of(PEOPLE)
    yield
    casework_app.state.directory = before


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


def token(settings: CaseworkSettings, sub: str, role: str, *where: str) -> dict[str, str]:
    issued = issue_dev_token(settings, roles=[role], jurisdiction=where or (HANOI,), sub=sub)
    return {"Authorization": f"Bearer {issued}"}


async def assign(
    client: httpx.AsyncClient, case_id: str, sub: str, headers: dict[str, str], **extra: str
) -> httpx.Response:
    return await client.post(
        f"/v1/cases/{case_id}/assignment", json={"sub": sub}, headers={**headers, **extra}
    )


async def audit_of(db: AsyncEngine, case_id: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT actor, action, record_type, purpose, details FROM casework.audit_log"
                " WHERE record_id = :id AND action = 'assign' ORDER BY seq"
            ),
            {"id": case_id},
        )
        return [dict(r._mapping) for r in rows]


# Given ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["cw-inv-hanoi", "cw-inv-ward"])
async def test_an_investigator_of_the_cases_ward_is_given_the_case(
    cw: Casework, casework_settings: CaseworkSettings, db: AsyncEngine, sub: str
) -> None:
    case = await cw.case_in("investigating")
    caller = token(casework_settings, "cw-lead", INVESTIGATOR)

    response = await assign(cw.client, case["id"], sub, caller, **{"If-Match": '"3"'})

    assert response.status_code == 200, response.text
    assert (response.json()["assignee"], response.json()["version"]) == (sub, 4)
    assert (await cw.get(case["id"]))["assignee"] == sub
    (event,) = await outbox_events(db, case["id"], "casework.case.assigned")
    assert event["data"] == {
        "record_type": "case",
        "record_id": case["id"],
        "assignee": sub,
        "previous": None,
        "assigned_by": "cw-lead",
        "jurisdiction": {"ward_code": HAI_BA_TRUNG, "province_code": HANOI},
        "assigned_at": event["data"]["assigned_at"],
    }
    assert await audit_of(db, case["id"]) == [
        {
            "actor": "cw-lead",
            "action": "assign",
            "record_type": "case",
            "purpose": "case assignment",
            "details": {"assignee": sub, "previous": None},
        }
    ]
    watch = await watch_of(db, "casework", case["id"])
    assert watch is not None and watch["assignee"] == sub  # its signals name the assignee


async def test_a_supervisor_gives_a_case_and_a_prosecutor_may_not(
    cw: Casework, casework_settings: CaseworkSettings
) -> None:
    case = await cw.open()
    refused = await assign(cw.client, case["id"], "cw-inv-hanoi", cw.as_("prosecutor"))
    assert refused.status_code == 403
    given = await assign(cw.client, case["id"], "cw-inv-hanoi", cw.as_("supervisor"))
    assert given.status_code == 200, given.text
    assert given.json()["assignee"] == "cw-inv-hanoi"


async def test_the_assignee_of_a_case_opened_later_in_a_stage_is_on_its_watch(
    cw: Casework, db: AsyncEngine
) -> None:
    case = await cw.open()
    assert (await assign(cw.client, case["id"], "cw-inv-ward", cw.as_(INVESTIGATOR))).is_success
    await cw.step(case["id"], "initiate")
    watch = await watch_of(db, "casework", case["id"])
    assert watch is not None and watch["assignee"] == "cw-inv-ward"


# Refused ----------------------------------------------------------------------------------------


async def test_anyone_but_an_investigator_of_the_ward_gets_one_and_the_same_422(
    cw: Casework, db: AsyncEngine
) -> None:
    case = await cw.open()
    answers = []
    for sub in INELIGIBLE:
        response = await assign(cw.client, case["id"], sub, cw.as_(INVESTIGATOR))
        assert response.status_code == 422, (sub, response.text)
        body = response.json()
        answers.append({k: v for k, v in body.items() if k not in ("instance", "correlation_id")})
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["errors"] == [
        {
            "field": "sub",
            "message": "not an investigator of the case's jurisdiction",
            "code": "assignee_not_eligible",
        }
    ]
    assert (await cw.get(case["id"]))["assignee"] is None
    assert await outbox_types(db, case["id"]) == ["casework.case.opened"]
    assert await audit_of(db, case["id"]) == []


async def test_the_refusal_is_in_vietnamese_when_asked(cw: Casework) -> None:
    case = await cw.open()
    response = await assign(
        cw.client, case["id"], "cw-nobody", cw.as_(INVESTIGATOR), **{"Accept-Language": "vi"}
    )
    assert response.json()["errors"][0]["message"] == (
        "Không phải điều tra viên thuộc địa bàn của vụ án"
    )
    assert response.json()["detail"] == "sub không chỉ tới điều tra viên nào có thể nhận vụ án này"


async def test_refusals_come_in_the_order_of_every_action_of_a_case(
    cw: Casework, casework_settings: CaseworkSettings
) -> None:
    """404, then 403 outside the jurisdiction, then 412, then 409: all before the assignee is
    judged, so an ineligible sub tells nothing of the case."""
    case = await cw.open()
    me = cw.as_(INVESTIGATOR)
    missing = await assign(cw.client, "0190a000-0000-7000-8000-000000000000", "cw-nobody", me)
    assert missing.status_code == 404
    elsewhere = token(casework_settings, "cw-far", INVESTIGATOR, OTHER_WARD)
    assert (await assign(cw.client, case["id"], "cw-nobody", elsewhere)).status_code == 403
    stale = await assign(cw.client, case["id"], "cw-nobody", me, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    closed = await cw.case_in("closed")
    refused = await assign(cw.client, closed["id"], "cw-inv-hanoi", me)
    assert (refused.status_code, refused.json()["detail"]) == (409, "the case is closed")
    assert (await assign(cw.client, case["id"], "cw-nobody", me)).status_code == 422


# The same again, and lists ----------------------------------------------------------------------


async def test_the_same_assignee_again_changes_nothing(cw: Casework, db: AsyncEngine) -> None:
    case = await cw.open()
    first = await assign(cw.client, case["id"], "cw-inv-hanoi", cw.as_(INVESTIGATOR))
    again = await assign(cw.client, case["id"], "cw-inv-hanoi", cw.as_("supervisor"))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await outbox_types(db, case["id"]) == ["casework.case.opened", "casework.case.assigned"]
    assert len(await audit_of(db, case["id"])) == 1


async def test_a_case_given_to_another_moves_between_their_lists(
    cw: Casework, casework_settings: CaseworkSettings, db: AsyncEngine
) -> None:
    case = await cw.open()
    await assign(cw.client, case["id"], "cw-inv-ward", cw.as_(INVESTIGATOR))
    moved = await assign(cw.client, case["id"], "cw-inv-hanoi", cw.as_(INVESTIGATOR))
    assert moved.json()["assignee"] == "cw-inv-hanoi"
    events = await outbox_events(db, case["id"], "casework.case.assigned")
    assert [(e["data"]["assignee"], e["data"]["previous"]) for e in events] == [
        ("cw-inv-ward", None),
        ("cw-inv-hanoi", "cw-inv-ward"),
    ]

    async def listed(headers: dict[str, str], assignee: str, sub: str) -> list[str]:
        response = await cw.client.get(
            "/v1/cases", params={"assignee": assignee, "limit": 200}, headers=headers
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert {c["assignee"] for c in items} <= {sub}  # theirs only
        return [c["id"] for c in items]

    hanoi = token(casework_settings, "cw-inv-hanoi", INVESTIGATOR)
    ward = token(casework_settings, "cw-inv-ward", INVESTIGATOR, HAI_BA_TRUNG)
    supervisor = cw.as_("supervisor")
    assert case["id"] in await listed(hanoi, "me", "cw-inv-hanoi")
    assert case["id"] in await listed(supervisor, "cw-inv-hanoi", "cw-inv-hanoi")
    assert case["id"] not in await listed(ward, "me", "cw-inv-ward")
    assert case["id"] not in await listed(supervisor, "cw-inv-ward", "cw-inv-ward")

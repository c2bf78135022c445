"""Triage through the API: classification, verification, extensions of the legal deadline,
optimistic concurrency, and the events each change writes to the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    HAI_BA_TRUNG,
    classify,
    file_tip,
    outbox_events,
    outbox_types,
    random_cccd,
    random_mobile,
    set_clock,
    tip_row,
    verify,
)

pytestmark = pytest.mark.integration

PREFIX = "vn.ctip.intake.tip."


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
async def tip(intake: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, Any]:
    return await file_tip(intake, officer)


@pytest.fixture
async def triaged(intake: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, Any]:
    created = await file_tip(
        intake,
        officer,
        persons=[
            {
                "role": "victim",
                "full_name": "Lò Thị Mai",
                "date_of_birth": "2009-04-02",
                "sex": "female",
                "phone": random_mobile(),
                "id_number": random_cccd(),
                "hometown_ward_code": HAI_BA_TRUNG,
                "notes": "only the officer may read this",
            }
        ],
        destination_country="CN",
    )
    await classify(intake, officer, created["id"], exploitation_types=["forced_marriage"])
    return created


# Classification ----------------------------------------------------------------------------------


async def test_filing_writes_intake_tip_received(tip: dict[str, Any], db: AsyncEngine) -> None:
    ((kind, data),) = await outbox_events(db, tip["id"])
    assert kind == PREFIX + "received.v1"
    assert data["status"] == "received" and data["incident_ward_code"] == HAI_BA_TRUNG


async def test_classification_moves_a_received_tip_to_triaged_and_emits_classified(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, tip: dict[str, Any]
) -> None:
    summary = await classify(
        intake,
        officer,
        tip["id"],
        trafficking_related="unclear",
        priority="high",
        exploitation_types=["forced_labour", "forced_begging"],
        assigned_to="officer-hn-1",  # an intake officer of Ha Noi in deploy/local/directory.json
        notes="call the reporter back",
    )
    assert summary["status"] == "triaged"
    assert summary["priority"] == "high" and summary["trafficking_related"] == "unclear"
    assert summary["exploitation_types"] == ["forced_begging", "forced_labour"]
    assert summary["assigned_to"] == summary["assignee"] == "officer-hn-1"
    assert summary["version"] == 3  # classified, then assigned
    events = await outbox_events(db, tip["id"])
    assert [t for t, _ in events] == [
        PREFIX + "received.v1",
        PREFIX + "classified.v1",
        PREFIX + "assigned.v1",
    ]
    classified = events[1][1]
    assert classified["priority"] == "high" and classified["status"] == "triaged"
    assert "notes" not in classified and "call the reporter" not in str(classified)


async def test_classification_naming_an_ineligible_officer_is_refused_and_changes_nothing(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, tip: dict[str, Any]
) -> None:
    """``assigned_to`` goes through the assignment's check: a sub the directory does not know
    as an intake officer of the place refuses the whole classification."""
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        headers=officer,
        json={"trafficking_related": "yes", "priority": "high", "assigned_to": "officer-7"},
    )
    assert response.status_code == 422, response.text
    assert [e["code"] for e in response.json()["errors"]] == ["assignee_not_eligible"]
    again = (await intake.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    assert again["status"] == "received" and again["version"] == 1
    assert again["assignee"] is None and again["priority"] is None
    assert [t for t, _ in await outbox_events(db, tip["id"])] == [PREFIX + "received.v1"]


async def test_classification_notes_are_shown_to_officers(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any]
) -> None:
    await classify(intake, officer, tip["id"], notes="call the reporter back")
    record = (await intake.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    assert record["classification_notes"] == "call the reporter back"


async def test_a_triaged_tip_can_be_reclassified(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, triaged: dict[str, Any]
) -> None:
    summary = await classify(intake, officer, triaged["id"], priority="urgent")
    assert summary["status"] == "triaged" and summary["priority"] == "urgent"
    assert (await outbox_types(db, triaged["id"])).count(PREFIX + "classified.v1") == 2


async def test_classification_can_locate_an_unlocated_tip(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    unlocated = await file_tip(intake, officer, incident_ward_code=None)
    summary = await classify(intake, officer, unlocated["id"], incident_ward_code=HAI_BA_TRUNG)
    assert summary["incident_ward_code"] == HAI_BA_TRUNG


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trafficking_related": "maybe"}, "trafficking_related"),
        ({"priority": "asap"}, "priority"),
        ({"incident_ward_code": "99999"}, "incident_ward_code"),
        ({"exploitation_types": ["slavery"]}, "exploitation_types.0"),
    ],
)
async def test_an_invalid_classification_is_422_naming_the_field(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    tip: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={"trafficking_related": "yes", "priority": "normal", **change},
        headers=officer,
    )
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_classifying_an_unknown_tip_is_404(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    response = await intake.post(
        f"/v1/tips/{uuid.uuid4()}/classification",
        json={"trafficking_related": "yes", "priority": "normal"},
        headers=officer,
    )
    assert response.status_code == 404


# Verification ------------------------------------------------------------------------------------


async def test_verification_before_classification_is_409_listing_the_allowed_actions(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, tip: dict[str, Any]
) -> None:
    response = await verify(intake, officer, tip["id"], "substantiated")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["allowed_actions"] == [
        "assign",
        "attach_file",
        "classify",
        "extend",
        "message_reporter",
        "reporter_message",
    ]
    assert (await tip_row(db, tip["id"])).status == "received"
    assert await outbox_types(db, tip["id"]) == [PREFIX + "received.v1"]


async def test_substantiated_verifies_the_tip_and_emits_verified_with_the_persons(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, triaged: dict[str, Any]
) -> None:
    response = await verify(intake, officer, triaged["id"], "substantiated", notes="confirmed")
    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    events = await outbox_events(db, triaged["id"])
    assert [t for t, _ in events][-1] == PREFIX + "verified.v1"
    verified = events[-1][1]
    assert verified["outcome"] == "substantiated" and verified["status"] == "verified"
    assert verified["destination_country"] == "CN"
    assert verified["exploitation_types"] == ["forced_marriage"]
    (person,) = verified["persons"]
    assert person["full_name"] == "Lò Thị Mai"
    assert person["date_of_birth"] == "2009-04-02"
    assert person["phone"].startswith("+84") and len(person["id_number"]) == 12
    assert "notes" not in person
    assert PREFIX + "closed.v1" not in [t for t, _ in events]


async def test_a_verified_tip_records_the_outcome_and_the_resolution_time(
    intake: httpx.AsyncClient, officer: dict[str, str], triaged: dict[str, Any]
) -> None:
    await verify(intake, officer, triaged["id"], "substantiated", notes="confirmed")
    record = (await intake.get(f"/v1/tips/{triaged['id']}", headers=officer)).json()
    assert record["verification_outcome"] == "substantiated"
    assert record["verification_notes"] == "confirmed"
    assert record["resolved_at"] is not None
    assert record["overdue"] is False and record["due_soon"] is False


async def test_an_investigator_of_the_ward_can_verify(
    intake: httpx.AsyncClient, auth: Auth, triaged: dict[str, Any]
) -> None:
    response = await verify(
        intake, auth("investigator", HAI_BA_TRUNG), triaged["id"], "substantiated"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("outcome", ["unsubstantiated", "referred"])
async def test_an_outcome_that_is_not_substantiated_closes_the_tip_without_persons(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    triaged: dict[str, Any],
    outcome: str,
) -> None:
    response = await verify(intake, officer, triaged["id"], outcome)
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    events = await outbox_events(db, triaged["id"])
    assert [t for t, _ in events][-2:] == [PREFIX + "verified.v1", PREFIX + "closed.v1"]
    assert events[-2][1]["persons"] == []
    assert events[-1][1]["outcome"] == outcome


async def test_a_duplicate_names_another_existing_tip_and_closes(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, triaged: dict[str, Any]
) -> None:
    original = await file_tip(intake, officer)
    response = await verify(
        intake, officer, triaged["id"], "duplicate", duplicate_of=original["id"]
    )
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    record = (await intake.get(f"/v1/tips/{triaged['id']}", headers=officer)).json()
    assert record["duplicate_of"] == original["id"]
    events = await outbox_events(db, triaged["id"])
    assert events[-2][1]["duplicate_of"] == original["id"]


@pytest.mark.parametrize("duplicate_of", ["self", "unknown", "outside"])
async def test_a_duplicate_without_another_visible_tip_is_422_and_nothing_changes(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    auth: Auth,
    db: AsyncEngine,
    triaged: dict[str, Any],
    duplicate_of: str,
) -> None:
    body: dict[str, Any] = {"outcome": "duplicate"}
    if duplicate_of == "self":
        body["duplicate_of"] = triaged["id"]
    elif duplicate_of == "unknown":
        body["duplicate_of"] = str(uuid.uuid4())
    elif duplicate_of == "outside":
        other = await file_tip(intake, auth("intake_officer", "79"), incident_ward_code="26506")
        body["duplicate_of"] = other["id"]
    response = await intake.post(
        f"/v1/tips/{triaged['id']}/verification", json=body, headers=officer
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["duplicate_of"]
    row = await tip_row(db, triaged["id"])
    assert (row.status, row.version) == ("triaged", 2)


@pytest.mark.parametrize("outcome", ["substantiated", "unsubstantiated"])
async def test_a_finished_tip_cannot_be_verified_or_classified_again(
    intake: httpx.AsyncClient, officer: dict[str, str], triaged: dict[str, Any], outcome: str
) -> None:
    await verify(intake, officer, triaged["id"], outcome)
    again = await verify(intake, officer, triaged["id"], "referred")
    reclassify = await intake.post(
        f"/v1/tips/{triaged['id']}/classification",
        json={"trafficking_related": "no", "priority": "low"},
        headers=officer,
    )
    assert (again.status_code, reclassify.status_code) == (409, 409)
    assert "verify" not in again.json()["allowed_actions"]


async def test_a_duplicate_without_duplicate_of_is_422(
    intake: httpx.AsyncClient, officer: dict[str, str], triaged: dict[str, Any]
) -> None:
    response = await verify(intake, officer, triaged["id"], "duplicate")
    assert response.status_code == 422
    assert "duplicate_of" in response.json()["errors"][0]["message"]


# If-Match ----------------------------------------------------------------------------------------


async def test_a_stale_if_match_is_412_and_nothing_changes(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, triaged: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/tips/{triaged['id']}/verification",
        json={"outcome": "substantiated"},
        headers={**officer, "If-Match": "1"},
    )
    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    row = await tip_row(db, triaged["id"])
    assert (row.status, row.version, row.verified_at) == ("triaged", 2, None)
    assert PREFIX + "verified.v1" not in await outbox_types(db, triaged["id"])


@pytest.mark.parametrize("if_match", ["1", '"1"', 'W/"1"'])
async def test_a_current_if_match_is_accepted_in_any_etag_form(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any], if_match: str
) -> None:
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={"trafficking_related": "yes", "priority": "normal"},
        headers={**officer, "If-Match": if_match},
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


async def test_an_if_match_that_is_not_a_version_is_422(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={"trafficking_related": "yes", "priority": "normal"},
        headers={**officer, "If-Match": "abc"},
    )
    assert response.status_code == 422


# Extensions of the deadline ----------------------------------------------------------------------


async def extend(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str, kind: str
) -> httpx.Response:
    return await client.post(
        f"/v1/tips/{tip_id}/extension",
        json={"kind": kind, "reason": "several suspects in two provinces"},
        headers=headers,
    )


async def test_a_complex_case_moves_the_deadline_to_two_months_after_receipt(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, tip: dict[str, Any]
) -> None:
    response = await extend(intake, officer, tip["id"], "complex_case")
    assert response.status_code == 200
    due = at(response.json()["resolution_due_at"])
    assert due == at(tip["received_at"]) + relativedelta(months=2)
    assert (await tip_row(db, tip["id"])).resolution_due_at == due
    record = (await intake.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    (extension,) = record["extensions"]
    assert extension["kind"] == "complex_case"
    assert at(extension["previous_due_at"]) == at(tip["resolution_due_at"])
    assert at(extension["new_due_at"]) == due
    assert extension["reason"] == "several suspects in two provinces"
    assert (await outbox_events(db, tip["id"]))[-1] == (
        PREFIX + "deadline_extended.v1",
        {"tip_id": tip["id"], "kind": "complex_case", "resolution_due_at": extension["new_due_at"]},
    )


async def test_the_procuracy_adds_two_months_on_top_of_the_complex_period(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any]
) -> None:
    await extend(intake, officer, tip["id"], "complex_case")
    response = await extend(intake, officer, tip["id"], "procuracy")
    assert response.status_code == 200
    assert at(response.json()["resolution_due_at"]) == at(tip["received_at"]) + relativedelta(
        months=4
    )


async def test_the_procuracy_adds_two_months_on_top_of_the_20_days(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any]
) -> None:
    response = await extend(intake, officer, tip["id"], "procuracy")
    assert at(response.json()["resolution_due_at"]) == at(tip["resolution_due_at"]) + relativedelta(
        months=2
    )


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("complex_case", "complex_case", "already granted"),
        ("procuracy", "procuracy", "already granted"),
        ("procuracy", "complex_case", "cannot follow the procuracy"),
    ],
)
async def test_an_extension_the_law_does_not_allow_is_409_with_the_reason(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    tip: dict[str, Any],
    first: str,
    second: str,
    reason: str,
) -> None:
    granted = await extend(intake, officer, tip["id"], first)
    response = await extend(intake, officer, tip["id"], second)
    assert response.status_code == 409
    assert reason in response.json()["detail"]
    row = await tip_row(db, tip["id"])
    assert row.resolution_due_at == at(granted.json()["resolution_due_at"])
    assert row.extensions == [first]


async def test_an_extension_within_5_days_of_the_deadline_is_409_with_the_reason(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, tip: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    await set_clock(
        db, tip["id"], received_at=now - timedelta(days=16), due_at=now + timedelta(days=4)
    )
    response = await extend(intake, officer, tip["id"], "complex_case")
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "at least 5 days before the deadline" in detail and "Art. 147(3)" in detail
    assert (await tip_row(db, tip["id"])).extensions == []


async def test_an_extension_of_a_finished_tip_is_409(
    intake: httpx.AsyncClient, officer: dict[str, str], triaged: dict[str, Any]
) -> None:
    await verify(intake, officer, triaged["id"], "referred")
    response = await extend(intake, officer, triaged["id"], "complex_case")
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["message_reporter"]


async def test_an_extension_needs_a_reason(
    intake: httpx.AsyncClient, officer: dict[str, str], tip: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/tips/{tip['id']}/extension", json={"kind": "complex_case"}, headers=officer
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]

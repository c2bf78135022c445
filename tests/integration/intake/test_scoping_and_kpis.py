"""Who may do what where (roles and jurisdiction), and the plan's intake figures over a period
and a ward, each with its numerator and denominator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from testkit.intake import resident_key
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    CLASSIFICATION,
    HAI_BA_TRUNG,
    VUNG_TAU,
    classify,
    file_tip,
    set_clock,
    tip_row,
    verify,
)
from tests.support import fresh_ward

pytestmark = pytest.mark.integration


async def listed_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    response = await client.get("/v1/tips", params={"limit": 200}, headers=headers)
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


# Authentication and roles ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/tips", "/v1/missing-persons", "/v1/kpis"])
async def test_reading_without_a_token_is_401_problem_json(
    intake: httpx.AsyncClient, path: str
) -> None:
    response = await intake.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


@pytest.mark.parametrize("authorization", ["Bearer not.a.token", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_a_bad_authorization_header_is_401(
    intake: httpx.AsyncClient, authorization: str
) -> None:
    response = await intake.get("/v1/tips", headers={"Authorization": authorization})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "role", ["ngo", "social_worker", "prosecutor", "court_clerk", "admin", "auditor"]
)
async def test_roles_outside_intake_cannot_read_tips(
    intake: httpx.AsyncClient, auth: Auth, role: str
) -> None:
    tip = await file_tip(intake)
    headers = auth(role, "01", org="ngo-1" if role == "ngo" else None)
    assert (await intake.get("/v1/tips", headers=headers)).status_code == 403
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=headers)).status_code == 403


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("supervisor", "classification", CLASSIFICATION),
        ("supervisor", "extension", {"kind": "complex_case", "reason": "many suspects"}),
        ("supervisor", "verification", {"outcome": "referred"}),
        ("investigator", "classification", CLASSIFICATION),
        ("investigator", "extension", {"kind": "complex_case", "reason": "many suspects"}),
    ],
)
async def test_a_role_without_the_action_is_403_and_nothing_changes(
    intake: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    role: str,
    action: str,
    body: dict[str, Any],
) -> None:
    tip = await file_tip(intake)
    response = await intake.post(
        f"/v1/tips/{tip['id']}/{action}", json=body, headers=auth(role, "01")
    )
    assert response.status_code == 403
    assert (await tip_row(db, tip["id"])).version == 1


# Jurisdiction ------------------------------------------------------------------------------------


async def test_an_officer_of_another_province_cannot_know_the_tip_exists(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    tip = await file_tip(intake)
    saigon = auth("intake_officer", "79")
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=saigon)).status_code == 404
    assert tip["id"] not in await listed_ids(intake, saigon)


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("classification", CLASSIFICATION),
        ("extension", {"kind": "complex_case", "reason": "many suspects"}),
        ("messages", {"body": "hello"}),
    ],
)
async def test_an_officer_of_another_province_cannot_act_on_the_tip(
    intake: httpx.AsyncClient, auth: Auth, db: AsyncEngine, action: str, body: dict[str, Any]
) -> None:
    tip = await file_tip(intake)
    response = await intake.post(
        f"/v1/tips/{tip['id']}/{action}", json=body, headers=auth("intake_officer", "79")
    )
    assert response.status_code == 403
    assert (await tip_row(db, tip["id"])).status == "received"


async def test_an_officer_of_a_ward_sees_that_ward_only(
    intake: httpx.AsyncClient, officer: dict[str, str], auth: Auth
) -> None:
    here = await file_tip(intake, officer)
    elsewhere = await file_tip(intake, officer, incident_ward_code=fresh_ward())
    ward_officer = auth("intake_officer", HAI_BA_TRUNG)
    assert (await intake.get(f"/v1/tips/{here['id']}", headers=ward_officer)).status_code == 200
    assert (
        await intake.get(f"/v1/tips/{elsewhere['id']}", headers=ward_officer)
    ).status_code == 404
    ids = await listed_ids(intake, ward_officer)
    assert here["id"] in ids and elsewhere["id"] not in ids


async def test_unlocated_tips_are_the_triage_provinces_queue(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    """Tips without a ward go to the intake officers of CTIP_INTAKE_TRIAGE_PROVINCE (01 in
    tests), not to every intake officer in the country."""
    tip = await file_tip(intake, incident_ward_code=None)
    triage, elsewhere = auth("intake_officer", "01"), auth("intake_officer", "79")
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=triage)).status_code == 200
    assert tip["id"] in await listed_ids(intake, triage)
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=elsewhere)).status_code == 404
    assert tip["id"] not in await listed_ids(intake, elsewhere)


@pytest.mark.parametrize("role", ["investigator", "supervisor"])
async def test_unlocated_tips_are_not_shown_to_other_readers(
    intake: httpx.AsyncClient, auth: Auth, role: str
) -> None:
    tip = await file_tip(intake, incident_ward_code=None)
    reader = auth(role, "01")
    assert (await intake.get(f"/v1/tips/{tip['id']}", headers=reader)).status_code == 404
    assert tip["id"] not in await listed_ids(intake, reader)


async def test_a_located_tip_becomes_visible_to_the_investigators_of_its_ward(
    intake: httpx.AsyncClient, officer: dict[str, str], auth: Auth
) -> None:
    description = "Synthetic: a broker in the market recruits girls for karaoke work."
    tip = await file_tip(intake, incident_ward_code=None, description=description)
    ward_investigator = auth("investigator", HAI_BA_TRUNG)
    before = await intake.get(f"/v1/tips/{tip['id']}", headers=ward_investigator)
    assert before.status_code == 404
    await classify(intake, officer, tip["id"], incident_ward_code=HAI_BA_TRUNG)
    response = await intake.get(f"/v1/tips/{tip['id']}", headers=ward_investigator)
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["id"], record["incident_ward_code"]) == (tip["id"], HAI_BA_TRUNG)
    assert record["description"] == description
    assert tip["id"] in await listed_ids(intake, ward_investigator)


async def test_classification_cannot_move_a_located_tip_outside_the_officers_jurisdiction(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    tip = await file_tip(intake, incident_ward_code=HAI_BA_TRUNG)
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={**CLASSIFICATION, "incident_ward_code": VUNG_TAU},
        headers=officer,
    )
    assert response.status_code == 403
    row = await tip_row(db, tip["id"])
    assert (row.status, row.incident_ward_code) == ("received", HAI_BA_TRUNG)


async def test_triage_places_an_unlocated_tip_where_it_happened_even_in_another_province(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> None:
    tip = await file_tip(intake, incident_ward_code=None)
    response = await intake.post(
        f"/v1/tips/{tip['id']}/classification",
        json={**CLASSIFICATION, "incident_ward_code": VUNG_TAU},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    row = await tip_row(db, tip["id"])
    assert (row.status, row.incident_ward_code, row.province_code) == ("triaged", VUNG_TAU, "79")


# KPIs --------------------------------------------------------------------------------------------


@pytest.fixture
async def kpi_ward(intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine) -> str:
    """A ward with a controlled set of seven tips and two missing-person reports:

    substantiated on time (CN, sexual exploitation); unsubstantiated on time (MY, forced labour);
    triaged (CN, forced labour and begging); received; overdue; due soon; referred after its
    deadline. One report open, one resolved.
    """
    ward = fresh_ward()
    now = datetime.now(UTC)

    async def tip(**fields: Any) -> str:
        created = await file_tip(intake, officer, incident_ward_code=ward, **fields)
        return str(created["id"])

    substantiated = await tip(exploitation_types=["sexual_exploitation"], destination_country="CN")
    unsubstantiated = await tip(exploitation_types=["forced_labour"], destination_country="MY")
    triaged = await tip(destination_country="CN")
    await tip()
    overdue, due_soon, late = await tip(), await tip(), await tip()
    for tip_id in (substantiated, unsubstantiated, late):
        await classify(intake, officer, tip_id)
    await classify(intake, officer, triaged, exploitation_types=["forced_labour", "forced_begging"])
    await verify(intake, officer, substantiated, "substantiated")
    await verify(intake, officer, unsubstantiated, "unsubstantiated")
    await verify(intake, officer, late, "referred")
    await set_clock(db, overdue, received_at=now - timedelta(days=25), due_at=now - timedelta(1))
    await set_clock(db, due_soon, received_at=now - timedelta(days=17), due_at=now + timedelta(3))
    await set_clock(db, late, received_at=now - timedelta(days=40), due_at=now - timedelta(20))
    for outcome in (None, "found_safe"):
        created = await intake.post(
            "/v1/missing-persons",
            json={
                "full_name": "Lò Thị Mai",
                "sex": "female",
                "age": 15,
                "last_seen_at": "2026-01-05T18:00:00+07:00",
                "last_seen_ward_code": ward,
            },
            headers=resident_key(),
        )
        if outcome:
            await intake.post(
                f"/v1/missing-persons/{created.json()['id']}/resolution",
                json={"outcome": outcome},
                headers=officer,
            )
    return ward


async def kpis(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/kpis", params=params, headers=headers)
    assert response.status_code == 200, response.text
    figures: dict[str, Any] = response.json()
    return figures


def figure(value: float | None, numerator: int, denominator: int) -> dict[str, Any]:
    return {"value": value, "numerator": numerator, "denominator": denominator}


def today() -> date:
    return datetime.now(UTC).date()


def weeks_ago() -> str:
    """A period start before every backdated tip of :func:`kpi_ward`."""
    return (today() - timedelta(days=45)).isoformat()


async def test_kpis_count_the_ward_over_the_period_with_numerators_and_denominators(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    start, end = weeks_ago(), today().isoformat()
    figures = await kpis(
        intake, auth("supervisor", "01"), ward_code=kpi_ward, to=end, **{"from": start}
    )
    assert figures["ward_code"] == kpi_ward
    assert (figures["period_from"], figures["period_to"]) == (start, end)
    assert figures["tips_received"] == 7
    assert figures["classified_ratio"] == figure(0.5714, 4, 7)
    assert figures["verified_ratio"] == figure(0.4286, 3, 7)
    # Due outcomes: three resolved (two on time, one late) and one open past its deadline.
    assert figures["resolved_within_deadline_ratio"] == figure(0.5, 2, 4)
    assert (figures["overdue"], figures["due_soon"]) == (1, 1)
    assert (figures["missing_persons_reported"], figures["missing_persons_open"]) == (2, 1)


async def test_kpi_hotspots_by_ward_exploitation_type_and_destination(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    figures = await kpis(
        intake, auth("supervisor", "01"), ward_code=kpi_ward, **{"from": weeks_ago()}
    )
    assert figures["hotspots"] == {
        "by_ward": [{"ward_code": kpi_ward, "tips": 7, "substantiated": 1}],
        "by_exploitation_type": {
            "forced_labour": 2,
            "sexual_exploitation": 1,
            "forced_begging": 1,
        },
        "by_destination_country": {"CN": 2, "MY": 1},
        "unplaced": {"tips": 0, "substantiated": 0},
    }


async def test_kpis_count_only_tips_received_in_the_period(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    figures = await kpis(
        intake, auth("supervisor", "01"), ward_code=kpi_ward, **{"from": today().isoformat()}
    )
    assert figures["tips_received"] == 4
    assert figures["classified_ratio"] == figure(0.75, 3, 4)
    assert figures["verified_ratio"] == figure(0.5, 2, 4)
    assert figures["resolved_within_deadline_ratio"] == figure(1.0, 2, 2)


async def test_overdue_and_due_soon_count_open_tips_whatever_the_period(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    figures = await kpis(
        intake, auth("supervisor", "01"), ward_code=kpi_ward, **{"from": today().isoformat()}
    )
    assert (figures["overdue"], figures["due_soon"]) == (1, 1)


async def test_a_tip_resolved_at_its_deadline_is_on_time_and_a_microsecond_later_is_late(
    intake: httpx.AsyncClient, auth: Auth, db: AsyncEngine
) -> None:
    ward, officer = fresh_ward("79"), auth("intake_officer", "79")  # Hà Nội's are all taken
    resolved = []
    for _ in range(2):
        tip_id = str((await file_tip(intake, officer, incident_ward_code=ward))["id"])
        await classify(intake, officer, tip_id)
        await verify(intake, officer, tip_id, "unsubstantiated")
        resolved.append(tip_id)
    at_deadline, just_after = resolved
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE intake.tips SET resolution_due_at = resolved_at"
                " - CASE WHEN id = :late THEN interval '1 microsecond' ELSE interval '0' END"
                " WHERE id IN (:on_time, :late)"
            ),
            {"on_time": at_deadline, "late": just_after},
        )
    figures = await kpis(intake, auth("supervisor", "79"), ward_code=ward)
    assert figures["resolved_within_deadline_ratio"] == figure(0.5, 1, 2)


async def test_a_period_with_nothing_to_count_has_null_ratios(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    later = (today() + timedelta(days=30)).isoformat()
    figures = await kpis(
        intake, auth("supervisor", "01"), ward_code=kpi_ward, to=later, **{"from": later}
    )
    assert figures["tips_received"] == 0
    for name in ("classified_ratio", "verified_ratio", "resolved_within_deadline_ratio"):
        assert figures[name] == figure(None, 0, 0)
    assert figures["hotspots"] == {
        "by_ward": [],
        "by_exploitation_type": {},
        "by_destination_country": {},
        "unplaced": {"tips": 0, "substantiated": 0},
    }


@pytest.mark.parametrize(
    ("role", "ward_level"),
    [("intake_officer", False), ("investigator", False), ("supervisor", True)],
    ids=[
        "intake-officer-of-the-province",
        "investigator-of-the-province",
        "supervisor-of-the-ward",
    ],
)
async def test_officers_read_the_kpis_of_their_jurisdiction(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str, role: str, ward_level: bool
) -> None:
    headers = auth(role, kpi_ward if ward_level else "01")
    figures = await kpis(intake, headers, ward_code=kpi_ward, **{"from": weeks_ago()})
    assert figures["tips_received"] == 7


async def test_a_province_wide_kpi_includes_the_ward(
    intake: httpx.AsyncClient, auth: Auth, kpi_ward: str
) -> None:
    figures = await kpis(intake, auth("supervisor", "01"), **{"from": weeks_ago()})
    wards = {w["ward_code"]: w["tips"] for w in figures["hotspots"]["by_ward"]}
    assert wards[kpi_ward] == 7
    assert figures["tips_received"] >= 7


@pytest.mark.parametrize(
    ("caller", "ward"),
    [
        (("supervisor", "01"), VUNG_TAU),
        (("supervisor", HAI_BA_TRUNG), "00070"),
        (("intake_officer", "79"), HAI_BA_TRUNG),
        (("supervisor", "01"), "99999"),
    ],
    ids=["other-province", "other-ward", "officer-elsewhere", "unknown-ward"],
)
async def test_kpis_of_a_ward_outside_the_jurisdiction_are_403(
    intake: httpx.AsyncClient, auth: Auth, caller: tuple[str, ...], ward: str
) -> None:
    response = await intake.get("/v1/kpis", params={"ward_code": ward}, headers=auth(*caller))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["ngo", "social_worker"])
async def test_kpis_are_not_for_other_roles(
    intake: httpx.AsyncClient, auth: Auth, role: str
) -> None:
    response = await intake.get("/v1/kpis", headers=auth(role, "01", org="ngo-1"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params",
    [{"from": "yesterday"}, {"to": "2026-13-01"}, {"ward_code": "256"}],
)
async def test_kpis_with_a_malformed_query_are_422(
    intake: httpx.AsyncClient, auth: Auth, params: dict[str, str]
) -> None:
    response = await intake.get("/v1/kpis", params=params, headers=auth("supervisor", "01"))
    assert response.status_code == 422


async def test_tips_not_yet_placed_are_counted_on_a_line_of_their_own(
    intake: httpx.AsyncClient, auth: Auth, officer: dict[str, str]
) -> None:
    """Was: a tip without a ward was in no hotspot line, and the dashboard's sum fell short."""
    supervisor = auth("supervisor", "01")
    before = (await kpis(intake, supervisor, **{"from": weeks_ago()}))["hotspots"]["unplaced"]
    await file_tip(intake, officer, incident_ward_code=None)
    after = (await kpis(intake, supervisor, **{"from": weeks_ago()}))["hotspots"]["unplaced"]
    assert after == {"tips": before["tips"] + 1, "substantiated": before["substantiated"]}


async def test_a_national_supervisor_narrows_the_figures_to_one_province(
    intake: httpx.AsyncClient, auth: Auth
) -> None:
    """``province_code`` (what the plan report of one province asks): the figures a supervisor
    of that province alone sees, not the caller's whole jurisdiction."""
    await file_tip(intake, incident_ward_code=VUNG_TAU)
    national = auth("supervisor", "01", "79")
    since = {"from": weeks_ago()}
    whole = await kpis(intake, national, **since)
    hanoi = await kpis(intake, national, province_code="01", **since)
    hcmc = await kpis(intake, national, province_code="79", **since)
    assert hanoi == {**await kpis(intake, auth("supervisor", "01"), **since)}
    assert hcmc["tips_received"] >= 1
    assert whole["tips_received"] == hanoi["tips_received"] + hcmc["tips_received"]
    assert hanoi["tips_received"] < whole["tips_received"]


@pytest.mark.parametrize(
    ("jurisdiction", "params"),
    [
        (("79",), {"province_code": "01"}),  # another province
        (("01", "79"), {"province_code": "79", "ward_code": HAI_BA_TRUNG}),  # a ward outside it
        ((HAI_BA_TRUNG,), {"province_code": "01"}),  # wider than a ward's supervisor
    ],
)
async def test_a_province_outside_the_callers_jurisdiction_is_refused(
    intake: httpx.AsyncClient, auth: Auth, jurisdiction: tuple[str, ...], params: dict[str, str]
) -> None:
    response = await intake.get(
        "/v1/kpis", params=params, headers=auth("supervisor", *jurisdiction)
    )
    assert response.status_code == 403

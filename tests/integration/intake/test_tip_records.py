"""Reading tips: the full record and who sees what of it, the audit of each read, the list with
its filters and pages, and possible duplicates found through blind indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.platform import platform_of
from services.intake.models import metadata as intake_metadata
from testkit.intake import resident_key
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    HAI_BA_TRUNG,
    classify,
    file_tip,
    random_cccd,
    random_mobile,
    set_clock,
)
from tests.support import fresh_ward

platform = platform_of(intake_metadata)

pytestmark = pytest.mark.integration


def full_tip(phone: str, cccd: str, reporter_phone: str) -> dict[str, Any]:
    return {
        "channel": "walk_in",
        "description": "Synthetic: a neighbour says her niece was taken across the border.",
        "incident_ward_code": HAI_BA_TRUNG,
        "occurred_on": "2026-01-02",
        "exploitation_types": ["forced_marriage"],
        "destination_country": "CN",
        "persons": [
            {
                "role": "victim",
                "full_name": "Lò Thị Mai",
                "age": 16,
                "sex": "female",
                "phone": phone,
                "id_number": cccd,
                "hometown_ward_code": HAI_BA_TRUNG,
                "notes": "has a scar on the left hand",
            },
            {"role": "suspect", "full_name": "Vàng A Dế", "sex": "male"},
        ],
        "reporter": {"name": "Hà Thị Lan", "phone": reporter_phone, "email": "lan@example.vn"},
    }


@pytest.fixture
async def full(intake: httpx.AsyncClient) -> dict[str, Any]:
    """A tip with two persons and a reporter, plus the raw values it was filed with."""
    phone, cccd, reporter_phone = random_mobile(), random_cccd(), random_mobile()
    body = full_tip(
        f"{phone[:4]} {phone[4:7]} {phone[7:]}", f"{cccd[:6]} {cccd[6:]}", reporter_phone
    )
    response = await intake.post("/v1/tips", json=body, headers=resident_key())
    assert response.status_code == 201, response.text
    return {**response.json(), "phone": phone, "cccd": cccd, "reporter_phone": reporter_phone}


async def test_an_officer_sees_persons_with_decrypted_normalised_contacts_and_the_reporter(
    intake: httpx.AsyncClient, officer: dict[str, str], full: dict[str, Any]
) -> None:
    tip = (await intake.get(f"/v1/tips/{full['id']}", headers=officer)).json()
    victim, suspect = tip["persons"]
    assert victim["full_name"] == "Lò Thị Mai"
    assert victim["phone"] == "+84" + full["phone"][1:]
    assert victim["id_number"] == full["cccd"]
    assert victim["age"] == 16 and victim["notes"] == "has a scar on the left hand"
    assert suspect == {**suspect, "role": "suspect", "full_name": "Vàng A Dế", "phone": None}
    assert tip["reporter"] == {
        "name": "Hà Thị Lan",
        "phone": "+84" + full["reporter_phone"][1:],
        "email": "lan@example.vn",
    }
    assert tip["anonymous"] is False
    assert "taken across the border" in tip["description"]
    assert tip["messages"] == [] and tip["extensions"] == []
    assert tip["status"] == "received" and tip["destination_country"] == "CN"


async def test_an_investigator_of_the_ward_sees_the_full_record(
    intake: httpx.AsyncClient, auth: Auth, full: dict[str, Any]
) -> None:
    response = await intake.get(
        f"/v1/tips/{full['id']}", headers=auth("investigator", HAI_BA_TRUNG)
    )
    assert response.status_code == 200
    assert response.json()["persons"][0]["id_number"] == full["cccd"]


async def test_a_supervisor_sees_names_only(
    intake: httpx.AsyncClient, auth: Auth, full: dict[str, Any]
) -> None:
    tip = (await intake.get(f"/v1/tips/{full['id']}", headers=auth("supervisor", "01"))).json()
    assert [p["full_name"] for p in tip["persons"]] == ["Lò Thị Mai", "Vàng A Dế"]
    for person in tip["persons"]:
        for hidden in ("phone", "id_number", "notes", "date_of_birth", "age"):
            assert person[hidden] is None
    assert tip["description"] is None
    assert tip["reporter"] is None
    assert tip["messages"] == []
    assert full["phone"][1:] not in str(tip) and full["cccd"] not in str(tip)


async def test_the_database_holds_no_plaintext_name_phone_or_id(
    intake: httpx.AsyncClient, db: AsyncEngine, full: dict[str, Any]
) -> None:
    async with db.connect() as conn:
        persons = (
            await conn.execute(
                text("SELECT t::text AS raw FROM intake.tip_persons t WHERE tip_id = :id"),
                {"id": full["id"]},
            )
        ).all()
        tip = (
            await conn.execute(
                text("SELECT t::text AS raw FROM intake.tips t WHERE id = :id"), {"id": full["id"]}
            )
        ).scalar_one()
    assert len(persons) == 2
    stored = " ".join(p.raw for p in persons) + tip
    for secret in ("Lò Thị Mai", "Vàng A Dế", "Hà Thị Lan", "lan@example.vn", "scar"):
        assert secret not in stored
    for digits in (full["phone"][1:], full["cccd"], full["reporter_phone"][1:]):
        assert digits not in stored


async def test_each_read_is_audited_with_its_purpose_and_the_chain_verifies(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, full: dict[str, Any]
) -> None:
    purposes = [f"verify the account {uuid.uuid4().hex[:6]}", "prepare the case file"]
    for purpose in purposes:
        response = await intake.get(
            f"/v1/tips/{full['id']}", headers={**officer, "X-Purpose": purpose}
        )
        assert response.status_code == 200
    await intake.get(f"/v1/tips/{full['id']}", headers=officer)
    async with db.connect() as conn:
        entries = (
            await conn.execute(
                text(
                    "SELECT actor, roles, action, purpose, details FROM intake.audit_log"
                    " WHERE record_type = 'tip' AND record_id = :id ORDER BY seq"
                ),
                {"id": full["id"]},
            )
        ).all()
    assert [e.purpose for e in entries] == [*purposes, "case handling"]
    assert {(e.action, e.roles, e.details["view"]) for e in entries} == {
        ("read", "intake_officer", "full")
    }
    async with AsyncSession(db) as session:
        report = await platform.audit.verify_chain(session)
    assert report.ok, report


async def test_a_supervisor_read_is_audited_as_names_only(
    intake: httpx.AsyncClient, auth: Auth, db: AsyncEngine, full: dict[str, Any]
) -> None:
    await intake.get(
        f"/v1/tips/{full['id']}",
        headers={**auth("supervisor", "01"), "X-Purpose": "monthly review"},
    )
    async with db.connect() as conn:
        details = (
            await conn.execute(
                text(
                    "SELECT details FROM intake.audit_log WHERE record_id = :id"
                    " AND purpose = 'monthly review'"
                ),
                {"id": full["id"]},
            )
        ).scalar_one()
    assert details["view"] == "names_only"


async def test_a_purpose_too_short_to_mean_anything_is_422_and_nothing_is_read(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, full: dict[str, Any]
) -> None:
    response = await intake.get(f"/v1/tips/{full['id']}", headers={**officer, "X-Purpose": "x"})
    assert response.status_code == 422
    assert "X-Purpose" in [e["field"] for e in response.json()["errors"]]
    async with db.connect() as conn:
        entries = (
            await conn.execute(
                text("SELECT count(*) FROM intake.audit_log WHERE record_id = :id"),
                {"id": full["id"]},
            )
        ).scalar_one()
    assert entries == 0


@pytest.mark.parametrize(
    ("reporter", "anonymous"),
    [(None, True), ({}, True), ({"email": "lan@example.vn"}, False)],
    ids=["none", "empty", "email-only"],
)
async def test_a_tip_is_anonymous_unless_the_reporter_leaves_a_contact(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    reporter: dict[str, str] | None,
    anonymous: bool,
) -> None:
    tip = await file_tip(intake, **({} if reporter is None else {"reporter": reporter}))
    record = (await intake.get(f"/v1/tips/{tip['id']}", headers=officer)).json()
    assert record["anonymous"] is anonymous
    assert (record["reporter"] is None) is anonymous


async def test_an_unknown_tip_is_404(intake: httpx.AsyncClient, officer: dict[str, str]) -> None:
    response = await intake.get(f"/v1/tips/{uuid.uuid4()}", headers=officer)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# The list ----------------------------------------------------------------------------------------


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await client.get("/v1/tips", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_list_filters_by_status_and_priority(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    received = await file_tip(intake, officer, incident_ward_code=ward)
    urgent = await file_tip(intake, officer, incident_ward_code=ward)
    low = await file_tip(intake, officer, incident_ward_code=ward)
    await classify(intake, officer, urgent["id"], priority="urgent")
    await classify(intake, officer, low["id"], priority="low")
    assert await listed(intake, officer, ward_code=ward, status="received") == [received["id"]]
    assert set(await listed(intake, officer, ward_code=ward, status="triaged")) == {
        urgent["id"],
        low["id"],
    }
    assert await listed(intake, officer, ward_code=ward, priority="urgent") == [urgent["id"]]


async def test_the_list_filters_by_ward(intake: httpx.AsyncClient, officer: dict[str, str]) -> None:
    here, there = fresh_ward(), fresh_ward()
    mine = await file_tip(intake, officer, incident_ward_code=here)
    await file_tip(intake, officer, incident_ward_code=there)
    assert await listed(intake, officer, ward_code=here) == [mine["id"]]


async def test_the_list_items_carry_no_personal_data(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    await file_tip(
        intake,
        officer,
        incident_ward_code=ward,
        persons=[{"role": "victim", "full_name": "Lò Thị Mai", "phone": random_mobile()}],
        reporter={"name": "Hà Thị Lan"},
    )
    response = await intake.get("/v1/tips", params={"ward_code": ward}, headers=officer)
    (item,) = response.json()["items"]
    assert "persons" not in item and "description" not in item and "reporter" not in item
    assert "Lò Thị Mai" not in response.text and "Hà Thị Lan" not in response.text


@pytest.fixture
async def clock_ward(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine
) -> dict[str, str]:
    """A ward with tips at every point of the clock: overdue, due soon, on time, and closed late."""
    ward = fresh_ward()
    now = datetime.now(UTC)
    tips = {
        name: (await file_tip(intake, officer, incident_ward_code=ward))["id"]
        for name in ("overdue", "due_soon", "on_time", "closed_late")
    }
    await set_clock(
        db, tips["overdue"], received_at=now - timedelta(days=25), due_at=now - timedelta(days=5)
    )
    await set_clock(
        db, tips["due_soon"], received_at=now - timedelta(days=17), due_at=now + timedelta(days=3)
    )
    await classify(intake, officer, tips["closed_late"])
    assert (
        await intake.post(
            f"/v1/tips/{tips['closed_late']}/verification",
            json={"outcome": "unsubstantiated"},
            headers=officer,
        )
    ).status_code == 200
    await set_clock(
        db,
        tips["closed_late"],
        received_at=now - timedelta(days=40),
        due_at=now - timedelta(days=20),
    )
    return {"ward": ward, **tips}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "true"}, {"overdue"}),
        ({"overdue": "false"}, {"due_soon", "on_time", "closed_late"}),
        ({"due_soon": "true"}, {"due_soon"}),
        ({"due_soon": "false"}, {"overdue", "on_time", "closed_late"}),
    ],
)
async def test_the_list_filters_by_the_legal_clock_for_open_tips(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    clock_ward: dict[str, str],
    params: dict[str, str],
    expected: set[str],
) -> None:
    ids = await listed(intake, officer, ward_code=clock_ward["ward"], **params)
    assert set(ids) == {clock_ward[name] for name in expected}


async def test_the_list_shows_overdue_and_due_soon_flags(
    intake: httpx.AsyncClient, officer: dict[str, str], clock_ward: dict[str, str]
) -> None:
    response = await intake.get(
        "/v1/tips", params={"ward_code": clock_ward["ward"]}, headers=officer
    )
    flags = {i["id"]: (i["overdue"], i["due_soon"]) for i in response.json()["items"]}
    assert flags == {
        clock_ward["overdue"]: (True, False),
        clock_ward["due_soon"]: (False, True),
        clock_ward["on_time"]: (False, False),
        clock_ward["closed_late"]: (False, False),
    }


async def test_pages_follow_next_cursor_newest_first_without_duplicates(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    created = [(await file_tip(intake, officer, incident_ward_code=ward))["id"] for _ in range(5)]
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"ward_code": ward, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = (await intake.get("/v1/tips", params=params, headers=officer)).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [tip for page in pages for tip in page] == list(reversed(created))


async def test_a_full_last_page_is_followed_by_an_empty_one(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    for _ in range(2):
        await file_tip(intake, officer, incident_ward_code=ward)
    first = (
        await intake.get("/v1/tips", params={"ward_code": ward, "limit": 2}, headers=officer)
    ).json()
    assert first["next_cursor"] is not None
    second = (
        await intake.get(
            "/v1/tips",
            params={"ward_code": ward, "limit": 2, "cursor": first["next_cursor"]},
            headers=officer,
        )
    ).json()
    assert second == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "!!!",
        "WyJ4Il0",  # ["x"]
        "WyJ5ZXN0ZXJkYXkiLCJub3QtYS11dWlkIl0",  # ["yesterday","not-a-uuid"]
        "eyJhIjoxfQ",  # {"a":1}
    ],
)
async def test_a_bad_cursor_is_422(
    intake: httpx.AsyncClient, officer: dict[str, str], cursor: str
) -> None:
    response = await intake.get("/v1/tips", params={"cursor": cursor}, headers=officer)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "201", "many"])
async def test_a_limit_outside_1_to_200_is_422(
    intake: httpx.AsyncClient, officer: dict[str, str], limit: str
) -> None:
    response = await intake.get("/v1/tips", params={"limit": limit}, headers=officer)
    assert response.status_code == 422
    assert "limit" in [e["field"] for e in response.json()["errors"]]


# Possible duplicates -----------------------------------------------------------------------------


async def duplicates_of(
    client: httpx.AsyncClient, headers: dict[str, str], tip_id: str
) -> dict[str, list[str]]:
    tip = (await client.get(f"/v1/tips/{tip_id}", headers=headers)).json()
    return {d["tip_id"]: d["reasons"] for d in tip["possible_duplicates"]}


def victim(**fields: Any) -> list[dict[str, Any]]:
    return [{"role": "victim", **fields}]


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ({"phone": "{p1}"}, {"phone": "{p2}"}, "phone"),
        ({"id_number": "{id1}"}, {"id_number": "{id2}"}, "id_number"),
        (
            {"full_name": "{name}", "age": 17},
            {"full_name": "{folded}", "age": 17},
            "name_birth_year_ward",
        ),
        (
            {"full_name": "{name}", "date_of_birth": "2009-04-02"},
            {"full_name": "{reordered}", "age": "{age_2009}"},
            "name_birth_year_ward",
        ),
    ],
    ids=["phone-written-differently", "id-number", "name-without-diacritics", "name-reordered"],
)
async def test_two_tips_naming_the_same_person_show_each_other_as_possible_duplicates(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    first: dict[str, Any],
    second: dict[str, Any],
    reason: str,
) -> None:
    ward = fresh_ward()
    phone, cccd = random_mobile(), random_cccd()
    given = uuid.uuid4().hex[:6]
    values = {
        "p1": f"{phone[:4]} {phone[4:7]} {phone[7:]}",
        "p2": "+84" + phone[1:],
        "id1": cccd,
        "id2": f"{cccd[:3]}-{cccd[3:6]}-{cccd[6:]}",
        "name": f"Lò Thị Mai {given}",
        "folded": f"LO THI MAI {given}",
        "reordered": f"{given} Mai Lo Thi",
        "age_2009": datetime.now(UTC).year - 2009,
    }

    def fill(person: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (values[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v)
            for k, v in person.items()
        }

    a = await file_tip(intake, officer, incident_ward_code=ward, persons=victim(**fill(first)))
    b = await file_tip(intake, officer, incident_ward_code=ward, persons=victim(**fill(second)))
    assert await duplicates_of(intake, officer, a["id"]) == {b["id"]: [reason]}
    assert await duplicates_of(intake, officer, b["id"]) == {a["id"]: [reason]}


async def test_a_person_matching_on_several_identifiers_lists_every_reason(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    person = {
        "full_name": f"Sùng Thị Dua {uuid.uuid4().hex[:6]}",
        "age": 19,
        "phone": random_mobile(),
        "id_number": random_cccd(),
    }
    a = await file_tip(intake, officer, incident_ward_code=ward, persons=victim(**person))
    b = await file_tip(intake, officer, incident_ward_code=ward, persons=victim(**person))
    assert await duplicates_of(intake, officer, b["id"]) == {
        a["id"]: ["id_number", "name_birth_year_ward", "phone"]
    }


@pytest.mark.parametrize(
    "change",
    [{"age": 30}, {"ward": "other"}, {"full_name": "Lò Thị Mây"}],
    ids=["another-birth-year", "another-ward", "another-name"],
)
async def test_the_same_name_alone_is_not_a_duplicate(
    intake: httpx.AsyncClient, officer: dict[str, str], change: dict[str, Any]
) -> None:
    ward, other_ward = fresh_ward(), fresh_ward()
    suffix = uuid.uuid4().hex[:6]
    base = {"full_name": f"Lò Thị Mai {suffix}", "age": 17}
    second = {**base, **change}
    if "full_name" in change:
        second["full_name"] = f"{change['full_name']} {suffix}"
    second_ward = other_ward if second.pop("ward", None) else ward
    a = await file_tip(intake, officer, incident_ward_code=ward, persons=victim(**base))
    b = await file_tip(intake, officer, incident_ward_code=second_ward, persons=victim(**second))
    assert a["id"] not in await duplicates_of(intake, officer, b["id"])


async def test_a_different_person_has_no_possible_duplicates(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    await file_tip(
        intake,
        officer,
        incident_ward_code=ward,
        persons=victim(full_name="Giàng Thị Pà", age=20, phone=random_mobile()),
    )
    b = await file_tip(
        intake,
        officer,
        incident_ward_code=ward,
        persons=victim(
            full_name=f"Mùa A Chứ {uuid.uuid4().hex[:6]}",
            age=31,
            phone=random_mobile(),
            id_number=random_cccd(),
        ),
    )
    assert await duplicates_of(intake, officer, b["id"]) == {}


async def test_possible_duplicates_outside_the_readers_jurisdiction_are_not_shown(
    intake: httpx.AsyncClient, officer: dict[str, str], auth: Auth
) -> None:
    phone = random_mobile()
    hanoi = await file_tip(intake, officer, persons=victim(phone=phone))
    elsewhere = await file_tip(
        intake,
        auth("intake_officer", "79"),
        incident_ward_code="26506",
        persons=victim(phone=phone),
    )
    assert await duplicates_of(intake, officer, hanoi["id"]) == {}
    assert await duplicates_of(intake, auth("intake_officer", "01", "79"), hanoi["id"]) == {
        elsewhere["id"]: ["phone"]
    }

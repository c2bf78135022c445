"""Parties of a case (encrypted at rest, reads audited, victims sent on to victim_support), the
search for related cases across the jurisdiction, and rings with their graph."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.casework.support import (
    CLERK,
    HAI_BA_TRUNG,
    HCMC,
    INVESTIGATOR,
    PROSECUTOR,
    Auth,
    Casework,
    outbox_events,
    outbox_types,
    random_cccd,
    random_mobile,
)
from tests.support import fresh_ward

pytestmark = pytest.mark.integration


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


@pytest.fixture
def hcmc(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth, province=HCMC)


def _spaced(phone: str) -> str:
    """``0912345678`` as ``+84 912-345-678``: the same number written another way."""
    return f"+84 {phone[1:4]}-{phone[4:7]}-{phone[7:]}"


async def _related(cw: Casework, case_id: str, headers: dict[str, str] | None = None) -> Any:
    response = await cw.client.get(
        f"/v1/cases/{case_id}/related", headers=headers or cw.as_(INVESTIGATOR)
    )
    assert response.status_code == 200, response.text
    return {r["case_id"]: r["shared"] for r in response.json()}


# Parties -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "is_minor"),
    [
        ({"age": 15}, True),
        ({"age": 17}, True),
        ({"age": 18}, False),
        ({"date_of_birth": "1990-05-01"}, False),
        ({}, None),
    ],
    ids=["15", "17", "18", "born-1990", "age-unknown"],
)
async def test_linking_a_victim_emits_victim_linked_with_is_minor(
    cw: Casework, db: AsyncEngine, person: dict[str, Any], is_minor: bool | None
) -> None:
    case = await cw.open()
    party = await cw.add_person(case["id"], role="victim", full_name="Chang Thị Dính", **person)

    events = await outbox_events(db, case["id"], "casework.case.victim_linked")

    assert len(events) == 1
    data = events[0]["data"]
    assert (data["party_id"], data["case_id"], data["is_minor"]) == (
        party["id"],
        case["id"],
        is_minor,
    )
    assert (data["ward_code"], data["province_code"]) == (HAI_BA_TRUNG, "01")


@pytest.mark.parametrize("role", ["suspect", "witness"])
async def test_a_suspect_or_witness_emits_no_victim_event(
    cw: Casework, db: AsyncEngine, role: str
) -> None:
    case = await cw.open()
    await cw.add_person(case["id"], role=role, full_name="Hầu A Lềnh")
    assert await outbox_types(db, case["id"]) == ["casework.case.opened"]


async def test_adding_a_person_bumps_the_case_version(cw: Casework) -> None:
    case = await cw.open()
    await cw.add_person(case["id"], role="witness", full_name="Ly Thị Cở")
    assert (await cw.get(case["id"]))["version"] == case["version"] + 1


async def test_personal_data_is_not_stored_in_clear(cw: Casework, db: AsyncEngine) -> None:
    case = await cw.open()
    phone, id_number = random_mobile(), random_cccd()
    name = "Vàng Thị Chíu Khẩn"
    party = await cw.add_person(
        case["id"],
        role="victim",
        full_name=name,
        phone=phone,
        id_number=id_number,
        notes="Được hứa việc làm ở nhà hàng (giả lập).",
        date_of_birth="2001-09-09",
    )

    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT p::text FROM casework.parties p WHERE id = :id"), {"id": party["id"]}
            )
        ).scalar_one()
        indexed = " ".join(
            (
                await conn.execute(
                    text("SELECT digest FROM casework.party_index WHERE party_id = :id"),
                    {"id": party["id"]},
                )
            ).scalars()
        )
    for secret in (name, "Vàng", "Chíu", phone, phone[1:], id_number, "nhà hàng", "2001-09-09"):
        assert secret not in stored, secret
        assert secret not in indexed, secret


async def test_reading_a_case_with_persons_writes_an_audit_entry_with_the_purpose(
    cw: Casework, db: AsyncEngine
) -> None:
    case = await cw.open()
    await cw.add_person(case["id"], role="victim", full_name="Sùng Thị Say", age=16)
    purpose = f"file {uuid.uuid4().hex[:8]}: preparing an interview"

    response = await cw.client.get(
        f"/v1/cases/{case['id']}", headers={**cw.as_(PROSECUTOR), "X-Purpose": purpose}
    )

    assert response.status_code == 200
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT actor, roles, action, record_type, purpose FROM casework.audit_log "
                    "WHERE record_id = :id ORDER BY seq"
                ),
                {"id": case["id"]},
            )
        ).all()
    assert [tuple(r) for r in rows] == [("dev-user", PROSECUTOR, "read", "case.parties", purpose)]


async def test_a_purpose_too_short_to_say_anything_is_422(cw: Casework) -> None:
    case = await cw.open()
    response = await cw.client.get(
        f"/v1/cases/{case['id']}", headers={**cw.as_(INVESTIGATOR), "X-Purpose": "x"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "person",
    [
        {"role": "victim"},
        {"role": "victim", "full_name": "A", "age": 15, "date_of_birth": "2011-01-01"},
        {"role": "victim", "full_name": "A", "phone": "not a phone"},
        {"role": "victim", "full_name": "x" * 201},
        {"role": "victim", "full_name": "A", "notes": "x" * 5001},
        {"role": "victim", "full_name": "A", "hometown_ward_code": "99999"},
        {"role": "judge", "full_name": "A"},
        {"role": "victim", "full_name": "A", "is_minor": True},
    ],
    ids=["no-identity", "dob-and-age", "phone", "long-name", "long-notes", "ward", "role", "extra"],
)
async def test_a_malformed_person_is_422_and_adds_nothing(
    cw: Casework, person: dict[str, Any]
) -> None:
    case = await cw.open()
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons", json=person, headers=cw.as_(INVESTIGATOR)
    )
    assert response.status_code == 422, response.text
    assert (await cw.get(case["id"]))["persons"] == []


async def test_the_same_idempotency_key_adds_a_person_once(cw: Casework, db: AsyncEngine) -> None:
    case = await cw.open()
    headers = {**cw.as_(INVESTIGATOR), "Idempotency-Key": str(uuid.uuid4())}
    body = {"role": "victim", "full_name": "Thò Thị Mỉ", "age": 14}

    first = await cw.client.post(f"/v1/cases/{case['id']}/persons", json=body, headers=headers)
    again = await cw.client.post(f"/v1/cases/{case['id']}/persons", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert len((await cw.get(case["id"]))["persons"]) == 1
    assert len(await outbox_events(db, case["id"], "casework.case.victim_linked")) == 1


@pytest.mark.parametrize("birth", [{"age": 40}, {"date_of_birth": "1980-01-15"}])
async def test_a_suspect_with_a_name_and_a_birth_year_can_be_added(
    cw: Casework, birth: dict[str, Any]
) -> None:
    case = await cw.open()
    response = await cw.client.post(
        f"/v1/cases/{case['id']}/persons",
        json={"role": "suspect", "full_name": "Đèo Văn Khang", **birth},
        headers=cw.as_(INVESTIGATOR),
    )
    assert response.status_code == 201, response.text

    read = await cw.get(case["id"])
    assert read["version"] == case["version"] + 1
    [suspect] = read["persons"]
    assert suspect["id"] == response.json()["id"]
    assert {k: suspect[k] for k in ("role", "full_name", "age", "date_of_birth")} == {
        "role": "suspect",
        "full_name": "Đèo Văn Khang",
        "age": None,
        "date_of_birth": None,
        **birth,
    }


# Related cases -----------------------------------------------------------------------------------


async def test_a_suspect_with_the_same_name_and_birth_year_relates_two_cases(
    cw: Casework,
) -> None:
    a, b, unrelated = await cw.open(), await cw.open(), await cw.open()
    await cw.add_person(
        a["id"], role="suspect", full_name="Nguyễn Văn Hùng", date_of_birth="1980-03-04"
    )
    await cw.add_person(
        b["id"], role="suspect", full_name="nguyen  van HUNG", date_of_birth="1980-11-30"
    )
    await cw.add_person(
        unrelated["id"], role="suspect", full_name="Nguyễn Văn Hùng", date_of_birth="1981-03-04"
    )

    related = await _related(cw, a["id"])

    assert related.get(b["id"]) == ["suspect_name_birth_year"]
    assert unrelated["id"] not in related


async def test_a_phone_written_differently_relates_two_cases(cw: Casework) -> None:
    a, b, unrelated = await cw.open(), await cw.open(fresh_ward()), await cw.open()
    phone = random_mobile()
    await cw.add_person(a["id"], role="witness", full_name="Lò Văn Pọm", phone=phone)
    await cw.add_person(b["id"], role="suspect", full_name="Tòng Văn Ún", phone=_spaced(phone))
    await cw.add_person(unrelated["id"], role="suspect", full_name="Lò Văn Pọm")

    related = await _related(cw, a["id"])

    assert related.get(b["id"]) == ["phone"]
    assert unrelated["id"] not in related
    assert a["id"] not in related


async def test_a_shared_id_number_relates_two_cases_both_ways(cw: Casework) -> None:
    a, b = await cw.open(), await cw.open()
    id_number = random_cccd()
    await cw.add_person(a["id"], role="victim", full_name="Hoàng Thị Nhung", id_number=id_number)
    await cw.add_person(
        b["id"],
        role="suspect",
        full_name="Người khác",
        id_number=f"{id_number[:3]}-{id_number[3:]}",
    )

    assert (await _related(cw, a["id"])).get(b["id"]) == ["id_number"]
    assert (await _related(cw, b["id"])).get(a["id"]) == ["id_number"]


async def test_a_case_sharing_a_phone_and_an_id_lists_both(cw: Casework) -> None:
    a, b = await cw.open(), await cw.open()
    phone, id_number = random_mobile(), random_cccd()
    await cw.add_person(a["id"], role="suspect", phone=phone, id_number=id_number)
    await cw.add_person(b["id"], role="suspect", phone=phone, id_number=id_number)
    assert (await _related(cw, a["id"])).get(b["id"]) == ["id_number", "phone"]


async def test_a_related_case_in_another_province_is_not_shown(
    cw: Casework, hcmc: Casework
) -> None:
    a = await cw.open()
    elsewhere = await hcmc.open()
    phone = random_mobile()
    await cw.add_person(a["id"], role="suspect", full_name="Mã Seo Chứ", phone=phone)
    await hcmc.add_person(elsewhere["id"], role="suspect", full_name="Mã Seo Chứ", phone=phone)

    assert elsewhere["id"] not in await _related(cw, a["id"])
    assert a["id"] not in await _related(hcmc, elsewhere["id"])


async def test_a_national_investigator_sees_related_cases_in_both_provinces(
    cw: Casework, hcmc: Casework, auth: Auth
) -> None:
    a = await cw.open()
    elsewhere = await hcmc.open()
    id_number = random_cccd()
    await cw.add_person(a["id"], role="suspect", id_number=id_number)
    await hcmc.add_person(elsewhere["id"], role="suspect", id_number=id_number)

    related = await _related(cw, a["id"], headers=auth(INVESTIGATOR, "01", "79"))

    assert related.get(elsewhere["id"]) == ["id_number"]


@pytest.mark.parametrize("role", [PROSECUTOR, CLERK, "supervisor"])
async def test_only_an_investigator_searches_related_cases(cw: Casework, role: str) -> None:
    case = await cw.open()
    response = await cw.client.get(f"/v1/cases/{case['id']}/related", headers=cw.as_(role))
    assert response.status_code == 403


async def test_related_cases_of_a_case_in_another_province_are_404(
    cw: Casework, hcmc: Casework
) -> None:
    case = await hcmc.open()
    response = await cw.client.get(f"/v1/cases/{case['id']}/related", headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 404


# Rings -------------------------------------------------------------------------------------------


async def _ring(cw: Casework, case_ids: list[str], **fields: Any) -> httpx.Response:
    return await cw.client.post(
        "/v1/rings",
        json={"name": f"Đường dây giả lập {uuid.uuid4().hex[:6]}", "case_ids": case_ids, **fields},
        headers=cw.as_(INVESTIGATOR),
    )


async def _graph(cw: Casework, ring_id: str) -> dict[str, Any]:
    response = await cw.client.get(f"/v1/rings/{ring_id}/graph", headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_ring_groups_cases_and_takes_more(cw: Casework, db: AsyncEngine) -> None:
    a, b, c = await cw.open(), await cw.open(), await cw.open()

    created = await _ring(cw, [a["id"], b["id"]], description="Tuyến biên giới (giả lập)")
    assert created.status_code == 201, created.text
    ring = created.json()
    assert sorted(x["id"] for x in ring["cases"]) == sorted([a["id"], b["id"]])
    assert ring["province_code"] == "01"

    added = await cw.client.post(
        f"/v1/rings/{ring['id']}/cases",
        json={"case_ids": [c["id"], a["id"]]},
        headers=cw.as_(INVESTIGATOR),
    )
    assert added.status_code == 200, added.text

    read = await cw.client.get(f"/v1/rings/{ring['id']}", headers=cw.as_(INVESTIGATOR))
    assert read.status_code == 200
    assert sorted(x["id"] for x in read.json()["cases"]) == sorted([a["id"], b["id"], c["id"]])
    updates = await outbox_events(db, ring["id"], "casework.ring.updated")
    assert len(updates) == 2
    assert sorted(updates[-1]["data"]["case_ids"]) == sorted([a["id"], b["id"], c["id"]])


async def test_a_ring_with_a_case_outside_the_jurisdiction_is_422(
    cw: Casework, hcmc: Casework
) -> None:
    mine, theirs = await cw.open(), await hcmc.open()
    response = await _ring(cw, [mine["id"], theirs["id"]])
    assert response.status_code == 422, response.text


async def test_the_ring_graph_joins_cases_persons_phones_and_places(cw: Casework) -> None:
    a, b = await cw.open(), await cw.open(fresh_ward())
    shared_id, phone = random_cccd(), random_mobile()
    for case in (a, b):
        await cw.add_person(
            case["id"], role="suspect", full_name="Phàn Văn Tỉn", id_number=shared_id
        )
    await cw.add_person(
        a["id"],
        role="victim",
        full_name="Triệu Thị Mùi",
        age=15,
        phone=phone,
        hometown_ward_code=HAI_BA_TRUNG,
    )
    ring = (await _ring(cw, [a["id"], b["id"]])).json()

    graph = await _graph(cw, ring["id"])

    kinds = {n["kind"] for n in graph["nodes"]}
    assert kinds == {"case", "person", "phone", "place"}
    suspects = [n for n in graph["nodes"] if n["kind"] == "person" and n["label"] == "Phàn Văn Tỉn"]
    assert len(suspects) == 1
    linked = {
        e["source"]
        for e in graph["edges"]
        if e["target"] == suspects[0]["id"] and e["kind"] == "suspect"
    }
    assert linked == {f"case:{a['id']}", f"case:{b['id']}"}
    phones = [n for n in graph["nodes"] if n["kind"] == "phone"]
    assert [p["label"] for p in phones] == ["…" + phone[-3:]]
    assert phone[1:] not in str(graph)
    places = {n["id"] for n in graph["nodes"] if n["kind"] == "place"}
    assert {f"place:{a['ward_code']}", f"place:{b['ward_code']}"} <= places


async def test_a_suspect_known_by_id_in_one_case_and_by_name_in_another_is_one_node(
    cw: Casework,
) -> None:
    a, b = await cw.open(), await cw.open()
    await cw.add_person(
        a["id"],
        role="suspect",
        full_name="Bàn Văn Sáng",
        date_of_birth="1979-02-02",
        id_number=random_cccd(),
    )
    await cw.add_person(
        b["id"], role="suspect", full_name="Ban Van Sang", date_of_birth="1979-06-06"
    )
    assert (await _related(cw, a["id"])).get(b["id"]) == ["suspect_name_birth_year"]
    ring = (await _ring(cw, [a["id"], b["id"]])).json()

    graph = await _graph(cw, ring["id"])

    assert len([n for n in graph["nodes"] if n["kind"] == "person"]) == 1


async def test_the_ring_graph_draws_as_svg_with_labels_escaped(cw: Casework) -> None:
    case = await cw.open(title="<script>alert('x')</script> Vụ án")
    await cw.add_person(case["id"], role="suspect", full_name="<img src=x onerror=alert(1)>")
    ring = (await _ring(cw, [case["id"]])).json()

    response = await cw.client.get(
        f"/v1/rings/{ring['id']}/graph", params={"format": "svg"}, headers=cw.as_(INVESTIGATOR)
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg")
    assert "<script>" not in response.text and "<img" not in response.text


async def test_reading_the_ring_graph_is_audited(cw: Casework, db: AsyncEngine) -> None:
    case = await cw.open()
    ring = (await _ring(cw, [case["id"]])).json()
    await _graph(cw, ring["id"])
    async with db.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM casework.audit_log "
                "WHERE record_type = 'ring.graph' AND record_id = :id"
            ),
            {"id": ring["id"]},
        )
        assert found.scalar_one() == 1


@pytest.mark.parametrize("path", ["", "/graph", "/graph?format=svg"])
async def test_a_ring_of_another_province_is_404_for_a_reader(
    cw: Casework, hcmc: Casework, path: str
) -> None:
    ring = (await _ring(hcmc, [(await hcmc.open())["id"]])).json()
    response = await cw.client.get(f"/v1/rings/{ring['id']}{path}", headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 404


async def test_adding_to_a_ring_of_another_province_is_forbidden(
    cw: Casework, hcmc: Casework
) -> None:
    ring = (await _ring(hcmc, [(await hcmc.open())["id"]])).json()
    mine = await cw.open()
    response = await cw.client.post(
        f"/v1/rings/{ring['id']}/cases",
        json={"case_ids": [mine["id"]]},
        headers=cw.as_(INVESTIGATOR),
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", [PROSECUTOR, CLERK, "supervisor"])
async def test_only_an_investigator_works_with_rings(cw: Casework, role: str) -> None:
    case = await cw.open()
    created = await cw.client.post(
        "/v1/rings", json={"name": "Ổ nhóm giả lập", "case_ids": [case["id"]]}, headers=cw.as_(role)
    )
    assert created.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"name": "ab"},
        {"name": "x" * 201},
        {"name": "Ổ nhóm", "case_ids": ["not-a-uuid"]},
        {"name": "Ổ nhóm", "case_ids": [str(uuid.uuid4())]},
        {"name": "Ổ nhóm", "province_code": "79"},
    ],
    ids=["short-name", "long-name", "bad-id", "unknown-case", "extra"],
)
async def test_a_malformed_ring_is_422(cw: Casework, body: dict[str, Any]) -> None:
    response = await cw.client.post("/v1/rings", json=body, headers=cw.as_(INVESTIGATOR))
    assert response.status_code == 422, response.text

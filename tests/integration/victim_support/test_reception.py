"""Reception: by hand and, exactly once, from casework's victim_linked; a person already received
is linked, not duplicated; the 3-day verification clock and the overdue filter; jurisdiction;
supervisors without personal data; audited reads; encryption at rest."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.events import CloudEvent
from libs.common.kafka import ensure_topics
from libs.contracts.casework import VictimLinked
from services.victim_support.settings import VictimSupportSettings
from testkit import victim_support as bodies
from tests.integration.victim_support.support import (
    OTHER_PROVINCE,
    OTHER_PROVINCE_WARD,
    PROBLEM_JSON,
    RECEPTION_WARD,
    SETTINGS,
    backdate,
    identify,
    read,
    receive,
    reception,
    scalar,
    supervisor,
    synthetic_id_number,
    synthetic_name,
    worker,
)
from tests.support import bearer, eventually, fresh_ward

pytestmark = pytest.mark.integration
WARD = RECEPTION_WARD


async def count_victims(db: AsyncEngine) -> int:
    return int(await scalar(db, "SELECT count(*) FROM victim_support.victims"))


async def listed(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> Any:
    response = await client.get(f"/v1/victims?{query}", headers=headers or worker())
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


# By hand


async def test_a_person_received_by_hand_is_under_verification(
    victim_support: httpx.AsyncClient,
) -> None:
    victim = await receive(victim_support, WARD)
    assert victim["status"] == "under_verification"
    assert victim["source"] == "rescued"
    assert victim["province_code"] == "01"
    assert victim["overdue"] is False
    assert victim["version"] == 1


async def test_verification_is_due_three_days_after_reception(
    victim_support: httpx.AsyncClient,
) -> None:
    received_at = datetime(2026, 1, 30, 22, 15, tzinfo=UTC)
    victim = await receive(victim_support, WARD, received_at=received_at.isoformat())
    assert datetime.fromisoformat(victim["received_at"]) == received_at
    assert datetime.fromisoformat(victim["verification_due_at"]) == received_at + timedelta(days=3)


@pytest.mark.parametrize(
    ("person", "is_minor"),
    [
        ({"date_of_birth": (date.today() - timedelta(days=365 * 12)).isoformat()}, True),
        ({"date_of_birth": "1990-07-01"}, False),
        ({"age": 16}, True),
        ({"age": 18}, False),
        ({}, None),
    ],
    ids=["child_by_dob", "adult_by_dob", "child_by_age", "adult_by_age", "unknown"],
)
async def test_a_minor_is_flagged_from_the_date_of_birth_or_age_when_not_given(
    victim_support: httpx.AsyncClient, person: dict[str, Any], is_minor: bool | None
) -> None:
    body = reception(WARD)
    body["person"] = {"full_name": synthetic_name(), **person}
    response = await victim_support.post("/v1/victims", headers=worker(), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["is_minor"] is is_minor


async def test_an_explicit_minor_flag_is_kept(victim_support: httpx.AsyncClient) -> None:
    victim = await receive(
        victim_support, WARD, is_minor=True, person={"full_name": synthetic_name()}
    )
    assert victim["is_minor"] is True


async def test_a_reception_in_a_ward_outside_the_jurisdiction_is_forbidden(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    before = await count_victims(db)
    response = await victim_support.post(
        "/v1/victims", headers=worker(OTHER_PROVINCE), json=reception(WARD)
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert await count_victims(db) == before


@pytest.mark.parametrize("role", ["ngo", "supervisor", "investigator", "admin"])
async def test_only_a_social_worker_receives_a_person(
    victim_support: httpx.AsyncClient, role: str
) -> None:
    response = await victim_support.post(
        "/v1/victims", headers=bearer(SETTINGS, role, "01", org="ngo-x"), json=reception(WARD)
    )
    assert response.status_code == 403


async def test_a_reception_without_a_token_is_unauthorised(
    victim_support: httpx.AsyncClient,
) -> None:
    response = await victim_support.post("/v1/victims", json=reception(WARD))
    assert response.status_code == 401


# A person already received is linked


async def test_the_same_id_number_written_with_spaces_links_to_the_person_already_received(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    number = synthetic_id_number()
    first = await receive(
        victim_support, WARD, person={"full_name": synthetic_name(), "id_number": number}
    )
    before = await count_victims(db)
    spaced = " ".join(number[i : i + 3] for i in range(0, len(number), 3))
    again = await receive(
        victim_support,
        WARD,
        source="self_report",
        person={"full_name": synthetic_name(), "id_number": spaced},
    )
    assert again["id"] == first["id"]
    assert await count_victims(db) == before
    timeline = (await read(victim_support, first["id"]))["timeline"]
    assert [e["action"] for e in timeline] == ["receive", "linked"]
    assert timeline[1]["details"]["source"] == "self_report"


async def test_the_same_name_without_diacritics_and_date_of_birth_links_to_the_person(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    given = synthetic_name().split()[-1]
    first = await receive(
        victim_support,
        WARD,
        person={"full_name": f"Đặng Thị {given}", "date_of_birth": "2003-09-14"},
    )
    before = await count_victims(db)
    again = await receive(
        victim_support,
        WARD,
        person={"full_name": f"  DANG thi   {given.upper()} ", "date_of_birth": "2003-09-14"},
    )
    assert again["id"] == first["id"]
    assert await count_victims(db) == before
    actions = [e["action"] for e in (await read(victim_support, first["id"]))["timeline"]]
    assert actions == ["receive", "linked"]


async def test_a_link_adds_the_case_and_the_needs_of_the_new_reception(
    victim_support: httpx.AsyncClient,
) -> None:
    number = synthetic_id_number()
    first = await receive(
        victim_support,
        WARD,
        needs=["medical"],
        person={"full_name": synthetic_name(), "id_number": number},
    )
    case_id = str(uuid.uuid4())
    again = await receive(
        victim_support,
        WARD,
        case_id=case_id,
        needs=["interpreter", "medical"],
        person={"full_name": synthetic_name(), "id_number": number},
    )
    assert again["id"] == first["id"]
    assert again["case_ids"] == [case_id]
    assert (await read(victim_support, first["id"]))["needs"] == ["interpreter", "medical"]


async def test_an_id_number_first_given_on_a_link_finds_the_person_next_time(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    name, number = synthetic_name(), synthetic_id_number()
    first = await receive(
        victim_support, WARD, person={"full_name": name, "date_of_birth": "2002-06-30"}
    )
    linked = await receive(
        victim_support,
        WARD,
        person={"full_name": name, "date_of_birth": "2002-06-30", "id_number": number},
    )
    assert linked["id"] == first["id"]
    before = await count_victims(db)
    again = await receive(
        victim_support, WARD, person={"full_name": synthetic_name(), "id_number": number}
    )
    assert again["id"] == first["id"]
    assert await count_victims(db) == before


@pytest.mark.parametrize(
    ("suffix", "date_of_birth"),
    [("", "2003-09-15"), (" Khác", "2003-09-14")],
    ids=["same_name_other_dob", "other_name_same_dob"],
)
async def test_a_different_person_is_received_as_new(
    victim_support: httpx.AsyncClient, db: AsyncEngine, suffix: str, date_of_birth: str
) -> None:
    name = synthetic_name()
    first = await receive(
        victim_support, WARD, person={"full_name": name, "date_of_birth": "2003-09-14"}
    )
    before = await count_victims(db)
    again = await receive(
        victim_support,
        WARD,
        person={"full_name": name + suffix, "date_of_birth": date_of_birth},
    )
    assert again["id"] != first["id"]
    assert await count_victims(db) == before + 1


# Exactly once from casework's victim_linked


def victim_linked(case_id: uuid.UUID, party_id: uuid.UUID, ward: str, **person: Any) -> CloudEvent:
    payload = VictimLinked(
        case_id=case_id,
        party_id=party_id,
        ward_code=ward,
        province_code="01",
        linked_at=datetime.now(UTC) - timedelta(minutes=10),
        exploitation_types=["forced_labour"],
        **person,
    )
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/ctip/casework",
        type="vn.ctip.casework.case.victim_linked.v1",
        subject=str(case_id),
        data=payload.model_dump(mode="json"),
    )


async def produce(settings: VictimSupportSettings, *events: CloudEvent) -> None:
    topic = settings.topic("casework.case.v1")
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, event.to_json_bytes(), key=str(event.subject).encode()
            )
    finally:
        await producer.stop()


async def handled(db: AsyncEngine, event_id: str) -> bool:
    return bool(
        await scalar(
            db,
            "SELECT count(*) FROM victim_support.inbox WHERE event_id = :id",
            id=event_id,
        )
    )


async def test_a_victim_linked_on_a_case_is_received_exactly_once(
    victim_support: httpx.AsyncClient, settings_for: Callable[..., Any], db: AsyncEngine
) -> None:
    settings = settings_for(VictimSupportSettings)
    ward = fresh_ward()
    case_id, party_id = uuid.uuid4(), uuid.uuid4()
    event = victim_linked(
        case_id, party_id, ward, full_name=synthetic_name(), date_of_birth=date(2000, 2, 2)
    )
    replay = event.model_copy(update={"id": str(uuid.uuid4())})
    await produce(settings, event, event, replay)
    await eventually(lambda: handled(db, replay.id))
    page = await listed(victim_support, "", worker(ward))
    assert len(page["items"]) == 1
    victim = page["items"][0]
    assert victim["status"] == "received"
    assert victim["source"] == "case"
    assert victim["case_ids"] == [str(case_id)]
    timeline = (await read(victim_support, victim["id"]))["timeline"]
    assert [e["action"] for e in timeline] == ["receive"]


async def test_a_victim_linked_on_a_case_who_was_received_by_hand_is_linked(
    victim_support: httpx.AsyncClient, settings_for: Callable[..., Any], db: AsyncEngine
) -> None:
    settings = settings_for(VictimSupportSettings)
    ward = fresh_ward()
    number = synthetic_id_number()
    by_hand = await receive(
        victim_support, ward, person={"full_name": synthetic_name(), "id_number": number}
    )
    before = await count_victims(db)
    case_id = uuid.uuid4()
    event = victim_linked(case_id, uuid.uuid4(), ward, full_name=synthetic_name(), id_number=number)
    await produce(settings, event)
    await eventually(lambda: handled(db, event.id))
    assert await count_victims(db) == before
    record = await read(victim_support, by_hand["id"])
    assert record["case_ids"] == [str(case_id)]
    assert record["status"] == "under_verification"
    assert record["timeline"][-1]["action"] == "linked"


# Lists and the overdue filter


async def test_a_presumed_victim_past_the_three_days_is_listed_as_overdue(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    ward = fresh_ward()
    late = await receive(victim_support, ward)
    on_time = await receive(victim_support, ward)
    await backdate(db, late["id"], days=4)
    assert ids(await listed(victim_support, "overdue=true", worker(ward))) == [late["id"]]
    assert ids(await listed(victim_support, "overdue=false", worker(ward))) == [on_time["id"]]
    assert (await read(victim_support, late["id"]))["overdue"] is True


async def test_an_identified_person_is_not_overdue_whatever_the_clock(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    ward = fresh_ward()
    victim = await receive(victim_support, ward)
    await identify(victim_support, victim["id"])
    await backdate(db, victim["id"], days=10)
    assert ids(await listed(victim_support, "overdue=true", worker(ward))) == []
    assert (await read(victim_support, victim["id"]))["overdue"] is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["repatriated", "rescued", "rescued_identified"]),
        ("source=repatriated", ["repatriated"]),
        ("source=rescued", ["rescued_identified", "rescued"]),
        ("status=identified", ["rescued_identified"]),
        ("status=under_verification", ["repatriated", "rescued"]),
        ("status=identified&source=repatriated", []),
    ],
    ids=["all", "source", "other_source", "status", "other_status", "both"],
)
async def test_the_list_filters_by_status_and_source(
    victim_support: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    ward = fresh_ward()
    made = {
        "repatriated": await receive(victim_support, ward, source="repatriated"),
        "rescued": await receive(victim_support, ward, source="rescued"),
        "rescued_identified": await receive(victim_support, ward, source="rescued"),
    }
    await identify(victim_support, made["rescued_identified"]["id"])
    page = await listed(victim_support, query, worker(ward))
    assert sorted(ids(page)) == sorted(made[name]["id"] for name in expected)


async def test_the_list_filters_by_case(victim_support: httpx.AsyncClient) -> None:
    ward = fresh_ward()
    case_id = str(uuid.uuid4())
    on_case = await receive(victim_support, ward, case_id=case_id)
    await receive(victim_support, ward, case_id=str(uuid.uuid4()))
    await receive(victim_support, ward)
    page = await listed(victim_support, f"case_id={case_id}", worker(ward))
    assert ids(page) == [on_case["id"]]


async def test_the_list_pages_with_a_cursor_newest_first_without_overlap(
    victim_support: httpx.AsyncClient,
) -> None:
    ward = fresh_ward()
    start = datetime.now(UTC) - timedelta(days=1)
    made = [
        await receive(victim_support, ward, received_at=(start + timedelta(minutes=i)).isoformat())
        for i in range(5)
    ]
    first = await listed(victim_support, "limit=2", worker(ward))
    second = await listed(victim_support, f"limit=2&cursor={first['next_cursor']}", worker(ward))
    third = await listed(victim_support, f"limit=2&cursor={second['next_cursor']}", worker(ward))
    assert ids(first) + ids(second) + ids(third) == [v["id"] for v in reversed(made)]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "status=lost",
        "source=unknown",
        "case_id=123",
        "overdue=perhaps",
        "cursor=%21%21%21",
    ],
)
async def test_a_bad_list_query_is_refused_as_a_problem(
    victim_support: httpx.AsyncClient, query: str
) -> None:
    response = await victim_support.get(f"/v1/victims?{query}", headers=worker())
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


# Jurisdiction


async def test_a_person_outside_the_jurisdiction_is_not_found_on_read(
    victim_support: httpx.AsyncClient,
) -> None:
    victim = await receive(victim_support, WARD)
    response = await victim_support.get(
        f"/v1/victims/{victim['id']}", headers=worker(OTHER_PROVINCE)
    )
    assert response.status_code == 404


async def test_a_person_outside_the_jurisdiction_is_not_listed(
    victim_support: httpx.AsyncClient,
) -> None:
    ward = fresh_ward()
    await receive(victim_support, ward)
    assert ids(await listed(victim_support, "", worker(fresh_ward()))) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "identification",
            {"outcome": "identified", "deciding_agency": "Công an", "document_ref": "QĐ-9"},
        ),
        ("protection", {"measures": ["safe_shelter"]}),
        ("consents", {"scope": "contact_family", "granted": True}),
        (
            "supports",
            {"type": "medical", "provided_on": "2026-01-02", "provider_org": "so-y-te"},
        ),
    ],
)
async def test_an_action_on_a_person_outside_the_jurisdiction_is_forbidden(
    victim_support: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    victim = await receive(victim_support, WARD)
    response = await victim_support.post(
        f"/v1/victims/{victim['id']}/{path}", headers=worker(OTHER_PROVINCE), json=body
    )
    assert response.status_code == 403
    assert (await read(victim_support, victim["id"]))["version"] == victim["version"]


async def test_a_worker_of_the_ward_itself_reads_the_person(
    victim_support: httpx.AsyncClient,
) -> None:
    person = {
        "full_name": synthetic_name(),
        "date_of_birth": "2001-05-06",
        "sex": "female",
        "phone": "+84912345678",
        "id_number": synthetic_id_number(),
        "hometown_ward_code": WARD,
        "notes": "Synthetic: found at the bus station.",
    }
    victim = await receive(victim_support, WARD, person=person)
    response = await victim_support.get(f"/v1/victims/{victim['id']}", headers=worker(WARD))
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["id"] == victim["id"]
    assert record["person"] == {**person, "age": None}


async def test_a_person_received_in_another_province_is_read_there(
    victim_support: httpx.AsyncClient,
) -> None:
    victim = await receive(victim_support, OTHER_PROVINCE_WARD, headers=worker(OTHER_PROVINCE))
    assert victim["province_code"] == OTHER_PROVINCE
    response = await victim_support.get(f"/v1/victims/{victim['id']}", headers=worker())
    assert response.status_code == 404


async def test_an_unknown_person_is_not_found(victim_support: httpx.AsyncClient) -> None:
    response = await victim_support.get(f"/v1/victims/{uuid.uuid4()}", headers=worker())
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


# Supervisors, audit, encryption


async def audit_entries(db: AsyncEngine, victim_id: str) -> int:
    return int(
        await scalar(
            db,
            "SELECT count(*) FROM victim_support.audit_log WHERE record_id = :id",
            id=victim_id,
        )
    )


async def test_a_supervisor_lists_people_without_personal_data(
    victim_support: httpx.AsyncClient,
) -> None:
    ward = fresh_ward()
    victim = await receive(victim_support, ward)
    page = await listed(victim_support, "", supervisor(ward))
    assert ids(page) == [victim["id"]]
    assert "person" not in page["items"][0]


async def test_a_supervisor_reads_figures_and_statuses_without_personal_data_or_audit(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    person = {
        "full_name": synthetic_name(),
        "phone": "+84912345678",
        "id_number": synthetic_id_number(),
        "notes": "Synthetic: found at the bus station.",
    }
    victim = await receive(victim_support, WARD, needs=["medical"], person=person)
    document_ref = f"QĐ-{uuid.uuid4().hex[:8]}"
    identified = await victim_support.post(
        f"/v1/victims/{victim['id']}/identification",
        headers=worker(),
        json=bodies.identification(document_ref),
    )
    assert identified.status_code == 200, identified.text
    response = await victim_support.get(f"/v1/victims/{victim['id']}", headers=supervisor())
    assert response.status_code == 200
    record = response.json()
    assert record["person"] is None
    assert record["status"] == "identified"
    assert record["needs"] == ["medical"]
    assert record["identification"]["document_ref"] is None
    for personal in (*person.values(), document_ref):
        assert personal not in response.text
    assert await audit_entries(db, victim["id"]) == 0


async def test_a_social_worker_read_is_audited_with_its_purpose(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    name = synthetic_name()
    victim = await receive(victim_support, WARD, person={"full_name": name})
    response = await victim_support.get(
        f"/v1/victims/{victim['id']}",
        headers={**worker(), "X-Purpose": "plan the shelter visit"},
    )
    assert response.json()["person"]["full_name"] == name
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT action, record_type, purpose, roles FROM victim_support.audit_log "
                    "WHERE record_id = :id"
                ),
                {"id": victim["id"]},
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("read", "victim", "plan the shelter visit", "social_worker")
    ]


@pytest.mark.parametrize("purpose", ["ab", "x" * 201], ids=["too_short", "too_long"])
async def test_a_read_with_a_meaningless_purpose_is_refused_and_not_audited(
    victim_support: httpx.AsyncClient, db: AsyncEngine, purpose: str
) -> None:
    victim = await receive(victim_support, WARD)
    response = await victim_support.get(
        f"/v1/victims/{victim['id']}", headers={**worker(), "X-Purpose": purpose}
    )
    assert response.status_code == 422
    assert await audit_entries(db, victim["id"]) == 0


async def test_the_database_holds_no_plaintext_personal_data(
    victim_support: httpx.AsyncClient, db: AsyncEngine
) -> None:
    person = {
        "full_name": synthetic_name(),
        "date_of_birth": "1999-12-31",
        "phone": "0912 555 014",
        "id_number": synthetic_id_number(),
        "notes": "met at the border gate (synthetic)",
    }
    victim = await receive(victim_support, WARD, person=person)
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT full_name, date_of_birth, phone, id_number, notes "
                    "FROM victim_support.victims WHERE id = :id"
                ),
                {"id": victim["id"]},
            )
        ).one()
        raw = " ".join(
            str(v)
            for v in (
                await conn.execute(
                    text("SELECT t::text FROM victim_support.victims t WHERE id = :id"),
                    {"id": victim["id"]},
                )
            ).scalars()
        )
    assert all(str(v).startswith("v1.") for v in row)
    for value in (person["full_name"], "1999-12-31", "912555014", person["id_number"], "border"):
        assert value not in raw

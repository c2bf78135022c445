"""The case lifecycle, end to end through the APIs: a substantiated tip
in intake opens its case in casework (exactly once, whatever Kafka redelivers), which is then
initiated, indicted, scheduled for trial, adjudicated and closed; and cases opened directly.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.casework.settings import CaseworkSettings
from tests.integration.casework.support import (
    CLERK,
    HAI_BA_TRUNG,
    HANOI,
    INVESTIGATOR,
    PROSECUTOR,
    Auth,
    Casework,
    body_for,
    cases_for_tip,
    known_tip,
    outbox_types,
    substantiate_tip,
    the_case_of,
    today,
)
from tests.support import eventually, fresh_ward
from tests.support import outbox_event as decrypt_event

pytestmark = pytest.mark.integration

VICTIM = {"role": "victim", "full_name": "Sùng Thị Mỷ", "age": 15, "sex": "female"}
SUSPECT = {
    "role": "suspect",
    "full_name": "Thào A Dế",
    "sex": "male",
    "phone": "0987 001 122",
}


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


# From a substantiated tip to a closed case -------------------------------------------------------


async def test_a_substantiated_tip_is_carried_through_every_stage_to_a_closed_case(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await substantiate_tip(intake, intake_auth, persons=[VICTIM, SUSPECT])
    opened = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip_id)
    case_id = opened["id"]
    assert (opened["status"], opened["ward_code"], opened["tip_id"]) == (
        "open",
        HAI_BA_TRUNG,
        tip_id,
    )

    read = await cw.get(case_id)
    persons = {p["role"]: p for p in read["persons"]}
    assert persons["victim"]["full_name"] == "Sùng Thị Mỷ"
    assert persons["victim"]["age"] == 15
    assert persons["suspect"]["full_name"] == "Thào A Dế"
    assert persons["suspect"]["phone"] == "+84987001122"
    suspect_id = persons["suspect"]["id"]

    refused = await cw.act(case_id, body_for("initiate", penal_code_article=150))
    assert refused.status_code == 422, refused.text
    assert "151" in refused.json()["detail"]

    initiated = await cw.step(case_id, "initiate", penal_code_article=151)
    assert (initiated["status"], initiated["penal_code_article"]) == ("investigating", 151)
    entered = _parse((await cw.get(case_id))["timeline"][-1]["at"])
    assert _parse(initiated["stage_due_at"]) == entered + relativedelta(months=4)

    indicted = await cw.step(
        case_id,
        "indict",
        defendants=[{"party_id": suspect_id, "charge_article": 151, "charge_clause": 1}],
    )
    assert indicted["status"] == "indicted"
    entered = _parse((await cw.get(case_id))["timeline"][-1]["at"])
    assert _parse(indicted["stage_due_at"]) == entered + relativedelta(months=2)

    trial_at = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0)
    scheduled = await cw.step(
        case_id, "schedule_trial", trial_type="mobile", scheduled_for=trial_at.isoformat()
    )
    assert (scheduled["status"], scheduled["trial_type"]) == ("trial_scheduled", "mobile")
    assert _parse(scheduled["stage_due_at"]) == trial_at

    sentence = {"party_id": suspect_id, "article": 151, "clause": 1, "imprisonment_months": 120}
    adjudicated = await cw.step(
        case_id, "record_verdict", outcome="convicted", sentences=[sentence]
    )
    assert (adjudicated["status"], adjudicated["stage_due_at"]) == ("adjudicated", None)

    closed = await cw.step(case_id, "close")
    assert closed["status"] == "closed"

    final = await cw.get(case_id)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in final["timeline"]] == [
        ("open", None, "open"),
        ("initiate", "open", "investigating"),
        ("indict", "investigating", "indicted"),
        ("schedule_trial", "indicted", "trial_scheduled"),
        ("record_verdict", "trial_scheduled", "adjudicated"),
        ("close", "adjudicated", "closed"),
    ]
    assert final["facts"]["verdict_outcome"] == "convicted"
    assert final["facts"]["sentences"][0]["party_id"] == suspect_id
    assert final["allowed_actions"] == []
    assert await outbox_types(db, case_id) == [
        "casework.case.opened",
        "casework.case.victim_linked",
        "casework.case.initiated",
        "casework.case.indicted",
        "casework.case.trial_scheduled",
        "casework.case.adjudicated",
        "casework.case.closed",
    ]


async def test_a_tip_whose_suspect_has_a_name_and_a_date_of_birth_opens_its_case(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth
) -> None:
    suspect = {**SUSPECT, "date_of_birth": "1985-04-02"}
    tip_id = await substantiate_tip(intake, intake_auth, persons=[VICTIM, suspect])
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip_id, timeout=20)
    roles = sorted(p["role"] for p in (await cw.get(case["id"]))["persons"])
    assert roles == ["suspect", "victim"]


async def test_the_case_opened_from_a_tip_records_who_opened_it_as_the_system(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth
) -> None:
    tip_id = await substantiate_tip(intake, intake_auth)
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip_id)
    timeline = (await cw.get(case["id"]))["timeline"]
    assert [(e["action"], e["by"]) for e in timeline] == [("open", "system")]


async def test_an_unsubstantiated_tip_opens_no_case(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await substantiate_tip(intake, intake_auth, outcome="unsubstantiated")

    async def recorded() -> Any:
        async with db.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT outcome FROM casework.tip_refs WHERE tip_id = :t"), {"t": tip_id}
                )
            ).scalar_one_or_none()

    assert await eventually(recorded, timeout=60) == "unsubstantiated"
    assert await cases_for_tip(cw.client, cw.as_(INVESTIGATOR), tip_id) == []


# Exactly once ------------------------------------------------------------------------------------


async def _intake_event(db: AsyncEngine, tip_id: str, short_type: str) -> dict[str, Any]:
    async with db.connect() as conn:
        event = (
            await conn.execute(
                text("SELECT event FROM intake.outbox WHERE key = :k AND type = :t"),
                {"k": tip_id, "t": f"vn.ctip.{short_type}.v1"},
            )
        ).scalar_one()
        return decrypt_event("intake", event)


async def test_a_redelivered_or_repeated_verification_opens_the_case_once(
    intake: httpx.AsyncClient,
    cw: Casework,
    intake_auth: Auth,
    casework_settings: CaseworkSettings,
    db: AsyncEngine,
) -> None:
    tip_id = await substantiate_tip(intake, intake_auth, persons=[VICTIM])
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip_id)
    verified = await _intake_event(db, tip_id, "intake.tip.verified")
    repeated = {**verified, "id": str(uuid.uuid4())}
    received = await _intake_event(db, tip_id, "intake.tip.received")
    marker_tip = str(uuid.uuid4())
    marker = {
        **received,
        "id": str(uuid.uuid4()),
        "subject": marker_tip,
        "data": {**received["data"], "tip_id": marker_tip},
    }

    producer = AIOKafkaProducer(bootstrap_servers=casework_settings.kafka_bootstrap)
    await producer.start()
    try:
        for value in (verified, repeated, marker):
            await producer.send_and_wait(
                casework_settings.topic("intake.tip.v1"),
                json.dumps(value).encode(),
                key=tip_id.encode(),
            )
    finally:
        await producer.stop()

    async def marker_seen() -> int:
        async with db.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM casework.tip_refs WHERE tip_id = :t"), {"t": marker_tip}
            )
            return int(found.scalar_one())

    await eventually(marker_seen, timeout=60)
    assert [c["id"] for c in await cases_for_tip(cw.client, cw.as_(INVESTIGATOR), tip_id)] == [
        case["id"]
    ]
    assert await outbox_types(db, case["id"]) == [
        "casework.case.opened",
        "casework.case.victim_linked",
    ]
    assert len((await cw.get(case["id"]))["persons"]) == 1
    async with db.connect() as conn:
        handled = await conn.execute(
            text("SELECT count(*) FROM casework.inbox WHERE event_id = :id"),
            {"id": verified["id"]},
        )
        assert handled.scalar_one() == 1


# Opened directly ---------------------------------------------------------------------------------


async def test_an_investigator_opens_a_case_directly(cw: Casework, db: AsyncEngine) -> None:
    response = await cw.client.post(
        "/v1/cases",
        json={"title": "Vụ án mở trực tiếp", "ward_code": HAI_BA_TRUNG, "summary": "Giả lập."},
        headers=cw.as_(INVESTIGATOR),
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["status"], created["version"], created["tip_id"]) == ("open", 1, None)
    assert created["stage_due_at"] is None
    assert await outbox_types(db, created["id"]) == ["casework.case.opened"]


@pytest.mark.parametrize(
    ("jurisdiction", "ward"),
    [("79", HAI_BA_TRUNG), (HAI_BA_TRUNG, "00004"), ("00004", HAI_BA_TRUNG)],
    ids=["other-province", "other-ward-of-a-ward-officer", "ward-officer-elsewhere"],
)
async def test_opening_a_case_in_a_ward_outside_ones_jurisdiction_is_forbidden(
    casework: httpx.AsyncClient, auth: Auth, jurisdiction: str, ward: str
) -> None:
    response = await casework.post(
        "/v1/cases",
        json={"title": "Vụ án ngoài địa bàn", "ward_code": ward},
        headers=auth(INVESTIGATOR, jurisdiction),
    )
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("role", [PROSECUTOR, CLERK, "supervisor", "intake_officer"])
async def test_only_an_investigator_opens_a_case(
    casework: httpx.AsyncClient, auth: Auth, role: str
) -> None:
    response = await casework.post(
        "/v1/cases",
        json={"title": "Vụ án giả lập", "ward_code": HAI_BA_TRUNG},
        headers=auth(role, HANOI),
    )
    assert response.status_code == 403


async def test_a_second_case_for_the_same_tip_is_a_conflict(cw: Casework, db: AsyncEngine) -> None:
    tip_id = await known_tip(db)
    first = await cw.open(tip_id=tip_id)

    again = await cw.client.post(
        "/v1/cases",
        json={"title": "Một vụ nữa", "ward_code": HAI_BA_TRUNG, "tip_id": tip_id},
        headers=cw.as_(INVESTIGATOR),
    )

    assert again.status_code == 409, again.text
    assert [c["id"] for c in await cases_for_tip(cw.client, cw.as_(INVESTIGATOR), tip_id)] == [
        first["id"]
    ]


async def test_concurrent_openings_for_one_tip_give_one_case_and_conflicts(
    cw: Casework, db: AsyncEngine
) -> None:
    body = {"title": "Mở đồng thời", "ward_code": HAI_BA_TRUNG, "tip_id": await known_tip(db)}
    responses = await asyncio.gather(
        *[cw.client.post("/v1/cases", json=body, headers=cw.as_(INVESTIGATOR)) for _ in range(3)],
        return_exceptions=True,
    )
    statuses = sorted(str(getattr(r, "status_code", type(r).__name__)) for r in responses)
    assert statuses == ["201", "409", "409"]


async def test_opening_directly_a_case_for_a_tip_whose_case_is_open_is_a_conflict(
    intake: httpx.AsyncClient, cw: Casework, intake_auth: Auth, db: AsyncEngine
) -> None:
    tip_id = await substantiate_tip(intake, intake_auth)
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip_id)
    direct = await cw.client.post(
        "/v1/cases",
        json={"title": "Mở tay cho tin báo đã có vụ", "ward_code": HAI_BA_TRUNG, "tip_id": tip_id},
        headers=cw.as_(INVESTIGATOR),
    )
    assert direct.status_code == 409
    assert len(await cases_for_tip(cw.client, cw.as_(INVESTIGATOR), tip_id)) == 1
    assert case["status"] == "open"


async def test_the_same_idempotency_key_and_body_replays_the_first_case(cw: Casework) -> None:
    key = str(uuid.uuid4())
    ward = fresh_ward()
    body = {"title": "Vụ án có khóa lặp", "ward_code": ward}
    headers = {**cw.as_(INVESTIGATOR), "Idempotency-Key": key}

    first = await cw.client.post("/v1/cases", json=body, headers=headers)
    second = await cw.client.post("/v1/cases", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    listed = await cw.client.get(
        "/v1/cases", params={"ward_code": ward}, headers=cw.as_(INVESTIGATOR)
    )
    assert [c["id"] for c in listed.json()["items"]] == [first.json()["id"]]


async def test_the_same_idempotency_key_with_another_body_is_a_conflict(cw: Casework) -> None:
    headers = {**cw.as_(INVESTIGATOR), "Idempotency-Key": str(uuid.uuid4())}
    first = await cw.client.post(
        "/v1/cases", json={"title": "Vụ án A", "ward_code": HAI_BA_TRUNG}, headers=headers
    )
    second = await cw.client.post(
        "/v1/cases", json={"title": "Vụ án B", "ward_code": HAI_BA_TRUNG}, headers=headers
    )
    assert (first.status_code, second.status_code) == (201, 409)


async def test_a_case_lists_by_status_and_ward(cw: Casework) -> None:
    ward = fresh_ward()
    opened = await cw.open(ward)
    initiated = await cw.open(ward)
    await cw.step(initiated["id"], "initiate")

    listed = await cw.client.get(
        "/v1/cases",
        params={"ward_code": ward, "status": "investigating"},
        headers=cw.as_(PROSECUTOR),
    )

    assert listed.status_code == 200
    ids = [c["id"] for c in listed.json()["items"]]
    assert ids == [initiated["id"]]
    assert opened["id"] not in ids


async def test_the_case_list_pages_with_a_cursor(cw: Casework) -> None:
    ward = fresh_ward()
    created = [(await cw.open(ward))["id"] for _ in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"ward_code": ward, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await cw.client.get("/v1/cases", params=params, headers=cw.as_(CLERK))).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == 3


async def test_initiation_is_dated_by_its_decision(cw: Casework) -> None:
    case = await cw.open()
    await cw.step(case["id"], "initiate", decision_number="88/QĐ-KTVA", decided_on=today())
    facts = (await cw.get(case["id"]))["facts"]
    assert (facts["initiation_decision"], facts["initiated_on"]) == ("88/QĐ-KTVA", today())

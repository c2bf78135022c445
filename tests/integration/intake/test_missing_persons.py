"""Missing-person reports (đơn trình báo mất tích): public filing, officers' list and record,
resolution, the events for interagency, and the possible matches it sends back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.context import Context, context_factory
from libs.common.crypto import BlindIndex
from libs.common.events import CloudEvent, event_type, kafka_headers
from libs.common.platform import platform_of
from libs.contracts.interagency import FoundPerson, MatchFound, MatchReason
from services.intake.consumers import on_match_found
from services.intake.models import metadata
from services.intake.settings import IntakeSettings
from testkit.intake import resident_key
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    HAI_BA_TRUNG,
    VUNG_TAU,
    outbox_events,
    random_cccd,
    random_mobile,
)
from tests.support import eventually, fresh_ward

pytestmark = pytest.mark.integration

PREFIX = "vn.ctip.intake.missing_person."
# What a missing_person alert may carry (plus what intake adds for routing
# and matching: the province, the phone and when it was reported).
ALERT_FIELDS = {
    "missing_person_id",
    "full_name",
    "sex",
    "date_of_birth",
    "age",
    "last_seen_at",
    "last_seen_ward_code",
    "hometown_ward_code",
    "distinguishing_marks",
    "id_number",
}


def report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "Lò Thị Mai",
        "sex": "female",
        "date_of_birth": "2009-08-20",
        "last_seen_at": "2026-01-05T18:00:00+07:00",
        "last_seen_ward_code": HAI_BA_TRUNG,
        "hometown_ward_code": HAI_BA_TRUNG,
        "id_number": random_cccd(),
        "phone": random_mobile(),
        "distinguishing_marks": "mole under the right eye",
        "circumstances": "left for a job interview in Lào Cai and did not come back",
        "reporter": {"name": "Lò Văn Páo", "phone": "0987 654 321", "email": "pao@example.vn"},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def filed(intake: httpx.AsyncClient) -> dict[str, Any]:
    body = report()
    response = await intake.post("/v1/missing-persons", json=body, headers=resident_key())
    assert response.status_code == 201, response.text
    return {**response.json(), "body": body}


async def test_anyone_can_report_a_missing_person_and_gets_a_receipt(
    intake: httpx.AsyncClient,
) -> None:
    response = await intake.post("/v1/missing-persons", json=report(), headers=resident_key())
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "open"
    assert len(body["receipt_code"]) == 16 and body["receipt_code"].isdigit()
    uuid.UUID(body["id"])


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"full_name": None}, ["full_name"]),
        ({"sex": "f"}, ["sex"]),
        ({"last_seen_at": "2999-01-01T00:00:00"}, ["last_seen_at"]),
        ({"last_seen_at": "2999-01-01T00:00:00Z"}, ["last_seen_at"]),
        ({"last_seen_ward_code": "99999"}, ["last_seen_ward_code"]),
        ({"phone": "12", "id_number": "12"}, ["id_number", "phone"]),
        ({"reporter": {"email": "nope"}}, ["reporter.email"]),
        ({"hair": "black"}, ["hair"]),
    ],
)
async def test_an_invalid_report_is_422_naming_the_fields_and_nothing_is_stored(
    intake: httpx.AsyncClient, db: AsyncEngine, change: dict[str, Any], fields: list[str]
) -> None:
    body = {k: v for k, v in {**report(), **change}.items() if v is not None}
    async with db.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM intake.missing_persons"))).scalar()
    response = await intake.post("/v1/missing-persons", json=body, headers=resident_key())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in response.json()["errors"]) == fields
    async with db.connect() as conn:
        after = (await conn.execute(text("SELECT count(*) FROM intake.missing_persons"))).scalar()
    assert after == before


@pytest.mark.parametrize("change", [{"age": 16}, {"date_of_birth": None}], ids=["both", "neither"])
async def test_a_report_needs_exactly_one_of_date_of_birth_or_age(
    intake: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    body = {k: v for k, v in {**report(), **change}.items() if v is not None}
    response = await intake.post("/v1/missing-persons", json=body, headers=resident_key())
    assert response.status_code == 422
    # a family filing reads it in Vietnamese, unless its app asks for English
    message = "Hãy cho biết ngày sinh hoặc tuổi, chỉ một trong hai"
    assert response.json()["errors"][0]["message"] == message
    english = await intake.post("/v1/missing-persons", json=body, headers={"accept-language": "en"})
    assert "exactly one of date_of_birth or age" in english.json()["errors"][0]["message"]


async def test_the_date_of_birth_or_age_error_names_the_fields(
    intake: httpx.AsyncClient,
) -> None:
    response = await intake.post("/v1/missing-persons", json=report(age=16), headers=resident_key())
    assert response.json()["errors"][0]["field"] in {"date_of_birth", "age"}


async def test_the_report_is_stored_encrypted(
    intake: httpx.AsyncClient, db: AsyncEngine, filed: dict[str, Any]
) -> None:
    async with db.connect() as conn:
        raw = (
            await conn.execute(
                text("SELECT m::text FROM intake.missing_persons m WHERE id = :id"),
                {"id": filed["id"]},
            )
        ).scalar_one()
    for secret in ("Lò Thị Mai", "Lò Văn Páo", "mole", "Lào Cai", filed["body"]["id_number"]):
        assert secret not in raw
    assert filed["body"]["phone"][1:] not in raw


# Officers ----------------------------------------------------------------------------------------


async def test_officers_list_reports_of_their_jurisdiction_with_filters(
    intake: httpx.AsyncClient, officer: dict[str, str], auth: Auth
) -> None:
    ward = fresh_ward()
    first = (
        await intake.post(
            "/v1/missing-persons", json=report(last_seen_ward_code=ward), headers=resident_key()
        )
    ).json()
    second = (
        await intake.post(
            "/v1/missing-persons", json=report(last_seen_ward_code=ward), headers=resident_key()
        )
    ).json()
    await intake.post(
        f"/v1/missing-persons/{first['id']}/resolution",
        json={"outcome": "found_safe"},
        headers=officer,
    )

    async def ids(headers: dict[str, str], **params: str) -> list[str]:
        response = await intake.get(
            "/v1/missing-persons", params={"ward_code": ward, **params}, headers=headers
        )
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert await ids(officer) == [second["id"], first["id"]]
    assert await ids(officer, status="open") == [second["id"]]
    assert await ids(officer, status="resolved") == [first["id"]]
    assert await ids(auth("supervisor", "01")) == [second["id"], first["id"]]
    assert await ids(auth("intake_officer", "79")) == []


async def test_the_list_carries_no_names_or_contacts(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    await intake.post(
        "/v1/missing-persons", json=report(last_seen_ward_code=ward), headers=resident_key()
    )
    response = await intake.get("/v1/missing-persons", params={"ward_code": ward}, headers=officer)
    (item,) = response.json()["items"]
    assert item["birth_year"] == 2009 and item["possible_match_count"] == 0
    assert "Lò" not in response.text and "phone" not in item and "full_name" not in item


async def test_an_officer_reads_the_full_report(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    record = (await intake.get(f"/v1/missing-persons/{filed['id']}", headers=officer)).json()
    body = filed["body"]
    assert record["full_name"] == "Lò Thị Mai" and record["date_of_birth"] == "2009-08-20"
    assert record["phone"] == "+84" + body["phone"][1:]
    assert record["id_number"] == body["id_number"]
    assert record["circumstances"] == body["circumstances"]
    assert record["reporter"] == {
        "name": "Lò Văn Páo",
        "phone": "+84987654321",
        "email": "pao@example.vn",
    }
    assert record["status"] == "open" and record["possible_matches"] == []


async def test_a_supervisor_reads_names_only(
    intake: httpx.AsyncClient, auth: Auth, filed: dict[str, Any]
) -> None:
    record = (
        await intake.get(f"/v1/missing-persons/{filed['id']}", headers=auth("supervisor", "01"))
    ).json()
    assert record["full_name"] == "Lò Thị Mai"
    for hidden in ("phone", "id_number", "circumstances", "distinguishing_marks", "reporter"):
        assert record[hidden] is None


async def test_each_read_of_a_report_is_audited_with_its_purpose(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, filed: dict[str, Any]
) -> None:
    await intake.get(
        f"/v1/missing-persons/{filed['id']}", headers={**officer, "X-Purpose": "call the family"}
    )
    async with db.connect() as conn:
        entries = (
            await conn.execute(
                text(
                    "SELECT action, purpose FROM intake.audit_log"
                    " WHERE record_type = 'missing_person' AND record_id = :id"
                ),
                {"id": filed["id"]},
            )
        ).all()
    assert [tuple(e) for e in entries] == [("read", "call the family")]


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        (("intake_officer", "79"), 404),
        (("investigator", VUNG_TAU), 404),
        # A token whose jurisdiction holds no valid code is refused (issue 13, Medium 4).
        (("intake_officer",), 401),
    ],
    ids=["other-province", "other-ward", "no-jurisdiction"],
)
async def test_a_report_outside_the_jurisdiction_is_404(
    intake: httpx.AsyncClient,
    auth: Auth,
    filed: dict[str, Any],
    caller: tuple[str, ...],
    status: int,
) -> None:
    response = await intake.get(f"/v1/missing-persons/{filed['id']}", headers=auth(*caller))
    assert response.status_code == status


@pytest.mark.parametrize("role", ["ngo", "social_worker", "prosecutor"])
async def test_other_roles_cannot_read_reports(
    intake: httpx.AsyncClient, auth: Auth, filed: dict[str, Any], role: str
) -> None:
    assert (await intake.get("/v1/missing-persons", headers=auth(role, "01"))).status_code == 403
    detail = await intake.get(f"/v1/missing-persons/{filed['id']}", headers=auth(role, "01"))
    assert detail.status_code == 403


# Resolution --------------------------------------------------------------------------------------


async def test_a_resolution_records_the_outcome_and_emits_resolved(
    intake: httpx.AsyncClient, officer: dict[str, str], db: AsyncEngine, filed: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/missing-persons/{filed['id']}/resolution",
        json={"outcome": "found_victim", "notes": "handed over at the border gate"},
        headers=officer,
    )
    assert response.status_code == 200
    summary = response.json()
    assert (summary["status"], summary["outcome"], summary["version"]) == (
        "resolved",
        "found_victim",
        2,
    )
    kind, data = (await outbox_events(db, filed["id"]))[-1]
    assert kind == PREFIX + "resolved.v1"
    assert data["outcome"] == "found_victim" and "notes" not in data
    record = (await intake.get(f"/v1/missing-persons/{filed['id']}", headers=officer)).json()
    assert record["resolution_notes"] == "handed over at the border gate"
    assert record["resolved_at"] is not None


async def test_a_second_resolution_is_409(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    url = f"/v1/missing-persons/{filed['id']}/resolution"
    await intake.post(url, json={"outcome": "found_safe"}, headers=officer)
    again = await intake.post(url, json={"outcome": "withdrawn"}, headers=officer)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_a_stale_if_match_on_resolution_is_412(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/missing-persons/{filed['id']}/resolution",
        json={"outcome": "found_safe"},
        headers={**officer, "If-Match": "7"},
    )
    assert response.status_code == 412


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        (("supervisor", "01"), 403),
        (("intake_officer", "79"), 403),
        ((), 401),
    ],
)
async def test_only_officers_of_the_place_resolve(
    intake: httpx.AsyncClient,
    auth: Auth,
    filed: dict[str, Any],
    caller: tuple[str, ...],
    status: int,
) -> None:
    response = await intake.post(
        f"/v1/missing-persons/{filed['id']}/resolution",
        json={"outcome": "found_safe"},
        headers=auth(*caller) if caller else {},
    )
    assert response.status_code == status


async def test_resolving_an_unknown_report_is_404(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    response = await intake.post(
        f"/v1/missing-persons/{uuid.uuid4()}/resolution",
        json={"outcome": "found_safe"},
        headers=officer,
    )
    assert response.status_code == 404


async def test_an_unknown_outcome_is_422(
    intake: httpx.AsyncClient, officer: dict[str, str], filed: dict[str, Any]
) -> None:
    response = await intake.post(
        f"/v1/missing-persons/{filed['id']}/resolution",
        json={"outcome": "gave_up"},
        headers=officer,
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["outcome"]


# The event for interagency -----------------------------------------------------------------------


async def test_reported_carries_the_alert_fields_and_no_reporter_data(
    db: AsyncEngine, filed: dict[str, Any]
) -> None:
    ((kind, data),) = await outbox_events(db, filed["id"])
    assert kind == PREFIX + "reported.v1"
    body = filed["body"]
    assert ALERT_FIELDS - {"age"} <= set(data)
    assert set(data) - ALERT_FIELDS <= {"province_code", "phone", "reported_at"}
    assert data["full_name"] == body["full_name"]
    assert data["id_number"] == body["id_number"]
    assert data["last_seen_ward_code"] == HAI_BA_TRUNG and data["province_code"] == "01"
    text_of = str(data)
    for private in ("Lò Văn Páo", "pao@example.vn", "987654321", "job interview"):
        assert private not in text_of


# Possible matches from interagency ---------------------------------------------------------------


def match_event(missing_person_id: str, *, score: float = 0.91) -> CloudEvent:
    match = MatchFound(
        match_id=uuid.uuid4(),
        missing_person_id=uuid.UUID(missing_person_id),
        alert_id=uuid.uuid4(),
        partner_code="20",
        score=score,
        reasons=[
            MatchReason(field="full_name", detail="same name without diacritics", weight=0.5),
            MatchReason(field="date_of_birth", detail="same birth year", weight=0.3),
        ],
        found=FoundPerson(
            full_name="Lo Thi Mai",
            sex="female",
            age=16,
            found_place="Cửa khẩu Hữu Nghị",
            nationality="VN",
        ),
        found_at=datetime.now(UTC) - timedelta(hours=2),
    )
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/ctip/interagency",
        type=event_type("interagency.match.found"),
        subject=missing_person_id,
        data=match.model_dump(mode="json"),
    )


async def produce(settings: IntakeSettings, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                settings.topic("interagency.match.v1"),
                event.to_json_bytes(),
                key=(event.subject or "").encode(),
                headers=kafka_headers(event),
            )
    finally:
        await producer.stop()


async def matches(
    client: httpx.AsyncClient, headers: dict[str, str], mp_id: str
) -> list[dict[str, Any]]:
    record = (await client.get(f"/v1/missing-persons/{mp_id}", headers=headers)).json()
    found: list[dict[str, Any]] = record["possible_matches"]
    return found


async def test_a_match_found_by_interagency_shows_as_a_possible_match(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    intake_settings: IntakeSettings,
    filed: dict[str, Any],
) -> None:
    event = match_event(filed["id"])
    await produce(intake_settings, event)
    (shown,) = await eventually(lambda: matches(intake, officer, filed["id"]))
    assert shown["match_id"] == event.data["match_id"]
    assert shown["alert_id"] == event.data["alert_id"]
    assert shown["partner_code"] == "20" and shown["score"] == 0.91
    assert [r["field"] for r in shown["reasons"]] == ["full_name", "date_of_birth"]
    assert shown["found"] == {
        "full_name": "Lo Thi Mai",
        "sex": "female",
        "age": 16,
        "found_place": "Cửa khẩu Hữu Nghị",
        "nationality": "VN",
    }
    listed = (
        await intake.get(
            "/v1/missing-persons", params={"ward_code": HAI_BA_TRUNG, "limit": 200}, headers=officer
        )
    ).json()["items"]
    assert {i["id"]: i["possible_match_count"] for i in listed}[filed["id"]] == 1


async def test_a_redelivered_match_is_shown_once(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    intake_settings: IntakeSettings,
    filed: dict[str, Any],
) -> None:
    event = match_event(filed["id"], score=0.8)
    later = match_event(filed["id"], score=0.7)
    await produce(intake_settings, event, event, later)
    # Same key, same partition: once the later match shows, the redelivery has been handled.
    shown = await eventually(
        lambda: matches_including(intake, officer, filed["id"], later.data["match_id"])
    )
    assert [m["match_id"] for m in shown] == [event.data["match_id"], later.data["match_id"]]


async def matches_including(
    client: httpx.AsyncClient, headers: dict[str, str], mp_id: str, match_id: str
) -> list[dict[str, Any]] | None:
    found = await matches(client, headers, mp_id)
    return found if any(m["match_id"] == match_id for m in found) else None


@pytest.fixture
def as_consumer(
    intake_settings: IntakeSettings,
) -> Callable[[AsyncSession], Context[IntakeSettings]]:
    """The context intake's ``EventConsumer`` hands a handler, over the given transaction."""
    key = intake_settings.blind_index_key.get_secret_value()
    return context_factory(intake_settings, platform_of(metadata), BlindIndex.from_b64(key))


async def test_the_same_match_handled_twice_is_recorded_once(
    intake: httpx.AsyncClient,
    officer: dict[str, str],
    db: AsyncEngine,
    filed: dict[str, Any],
    as_consumer: Callable[[AsyncSession], Context[IntakeSettings]],
) -> None:
    event = match_event(filed["id"])
    payload = MatchFound.model_validate(event.data)
    for _ in range(2):
        async with AsyncSession(db) as session, session.begin():
            await on_match_found(as_consumer(session), event, payload)
    assert len(await matches(intake, officer, filed["id"])) == 1


async def test_a_match_for_an_unknown_report_is_ignored(
    db: AsyncEngine, as_consumer: Callable[[AsyncSession], Context[IntakeSettings]]
) -> None:
    event = match_event(str(uuid.uuid4()))
    async with AsyncSession(db) as session, session.begin():
        await on_match_found(as_consumer(session), event, MatchFound.model_validate(event.data))
    async with db.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM intake.possible_matches WHERE id = :id"),
                {"id": event.data["match_id"]},
            )
        ).scalar_one()
    assert count == 0


async def test_a_supervisor_sees_the_score_but_not_the_found_person(
    intake: httpx.AsyncClient,
    auth: Auth,
    db: AsyncEngine,
    filed: dict[str, Any],
    as_consumer: Callable[[AsyncSession], Context[IntakeSettings]],
) -> None:
    event = match_event(filed["id"])
    async with AsyncSession(db) as session, session.begin():
        await on_match_found(as_consumer(session), event, MatchFound.model_validate(event.data))
    (shown,) = await matches(intake, auth("supervisor", "01"), filed["id"])
    assert shown["score"] == 0.91 and shown["found"] == {}


async def test_officers_list_the_reports_awaiting_review(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    ward = fresh_ward()
    pending = (
        await intake.post(
            "/v1/missing-persons", json=report(last_seen_ward_code=ward), headers=resident_key()
        )
    ).json()
    published = (
        await intake.post(
            "/v1/missing-persons",
            json=report(last_seen_ward_code=ward, publish=True),
            headers=officer,
        )
    ).json()

    async def ids(publication: str) -> list[str]:
        response = await intake.get(
            "/v1/missing-persons",
            params={"ward_code": ward, "publication": publication},
            headers=officer,
        )
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert await ids("pending") == [pending["id"]]
    assert await ids("published") == [published["id"]]
    assert await ids("held") == []

"""Partners' signed alerts: 202 for a good signature, 401 for anything unproven, one effect per
webhook-id, strict allow-lists (422) and a size limit (413)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.webhooks import generate_secret
from testkit.interagency import partner_event, person_found, post_signed
from tests.integration.interagency.conftest import PartnerHandle, Register
from tests.support import outbox_event as decrypt_event

pytestmark = pytest.mark.integration


@pytest.fixture
async def partner(register: Register) -> PartnerHandle:
    return await register()


async def inbound_alerts(db: AsyncEngine, code: str) -> list[Any]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, alert_type, data FROM interagency.alerts"
                " WHERE direction = 'in' AND partner_code = :c"
            ),
            {"c": code},
        )
        return list(rows)


async def received_events(db: AsyncEngine, alert_id: str) -> list[dict[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT event FROM interagency.outbox WHERE key = :k AND type = :t"),
            {"k": alert_id, "t": "vn.ctip.interagency.alert.received.v1"},
        )
        return [decrypt_event("interagency", row.event) for row in rows]


async def test_a_well_signed_alert_is_accepted_and_stored_encrypted(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine, officer: dict[str, str]
) -> None:
    body = partner_event(partner.code, person_found(full_name="Pham Thi Synthetic"))
    response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted.keys() == {"alert_id"}
    (row,) = await inbound_alerts(db, partner.code)
    assert str(row.id) == accepted["alert_id"]
    assert "Synthetic" not in row.data and row.data.startswith("v1.")
    (event,) = await received_events(db, accepted["alert_id"])
    assert event["data"]["alert_type"] == "person_found"
    assert event["data"]["partner_code"] == partner.code
    assert event["data"]["full_name"] is None  # person fields travel only for handovers

    read = (await interagency.get(f"/v1/alerts/{accepted['alert_id']}", headers=officer)).json()
    assert read["direction"] == "in" and read["partner_code"] == partner.code
    assert read["data"]["full_name"] == "Pham Thi Synthetic"


async def test_a_repeated_webhook_id_has_no_second_effect(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine
) -> None:
    body = partner_event(partner.code, person_found())
    first = await post_signed(
        interagency, partner.code, partner.inbound_secret, body, webhook_id="msg_retry_1"
    )
    second = await post_signed(
        interagency, partner.code, partner.inbound_secret, body, webhook_id="msg_retry_1"
    )
    assert first.status_code == second.status_code == 202
    assert second.content == first.content  # the replay answers exactly as the first did
    assert second.headers["content-type"] == first.headers["content-type"]
    assert len(await inbound_alerts(db, partner.code)) == 1
    assert len(await received_events(db, first.json()["alert_id"])) == 1


async def test_a_victim_handover_event_carries_what_victim_support_needs(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine
) -> None:
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Synthetic",
        "sex": "female",
        "age": 16,
        "nationality": "VN",
        "handover_at": "2026-11-20T09:00:00+07:00",
        "receiving_province_code": "01",
        "needs": ["medical"],
    }
    body = partner_event(partner.code, data)
    response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    assert response.status_code == 202, response.text
    (event,) = await received_events(db, response.json()["alert_id"])
    payload = event["data"]
    assert payload["alert_type"] == "victim_handover"
    assert payload["full_name"] == "Lò Thị Synthetic"
    assert payload["receiving_province_code"] == "01"
    assert payload["needs"] == ["medical"]
    assert payload["handover_at"].startswith("2026-11-20T02:00:00")


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["type"].startswith("https://")
    return problem


async def test_a_signature_with_another_secret_is_401(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine
) -> None:
    body = partner_event(partner.code, person_found())
    _problem(await post_signed(interagency, partner.code, generate_secret(), body), 401)
    # our own outbound secret for them is not theirs to sign with
    _problem(await post_signed(interagency, partner.code, partner.outbound_secret, body), 401)
    assert await inbound_alerts(db, partner.code) == []


async def test_a_signature_valid_for_another_partner_is_401(
    interagency: httpx.AsyncClient, register: Register, db: AsyncEngine
) -> None:
    one, other = await register(), await register()
    body = partner_event(one.code, person_found())
    response = await post_signed(interagency, one.code, other.inbound_secret, body)
    _problem(response, 401)
    misdirected = partner_event(other.code, person_found())
    response = await post_signed(
        interagency, other.code, other.inbound_secret, misdirected, path_code=one.code
    )
    _problem(response, 401)
    assert await inbound_alerts(db, one.code) == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
async def test_a_stale_or_future_timestamp_is_401(
    interagency: httpx.AsyncClient, partner: PartnerHandle, skew: int
) -> None:
    body = partner_event(partner.code, person_found())
    response = await post_signed(
        interagency, partner.code, partner.inbound_secret, body, timestamp=int(time.time()) + skew
    )
    assert "tolerance" in _problem(response, 401)["detail"]


async def test_a_tampered_body_is_401(
    interagency: httpx.AsyncClient, partner: PartnerHandle
) -> None:
    body = partner_event(partner.code, person_found())
    from libs.common.webhooks import signed_headers

    headers = signed_headers([partner.inbound_secret], "msg_t", int(time.time()), body)
    tampered = body.replace(b"Lo Thi Mai", b"Lo Thi Lan")
    response = await interagency.post(
        f"/v1/inbound/{partner.code}", content=tampered, headers=headers
    )
    _problem(response, 401)


async def test_missing_signature_headers_are_401(
    interagency: httpx.AsyncClient, partner: PartnerHandle
) -> None:
    body = partner_event(partner.code, person_found())
    response = await interagency.post(f"/v1/inbound/{partner.code}", content=body)
    _problem(response, 401)


async def test_an_unknown_partner_is_401(interagency: httpx.AsyncClient) -> None:
    body = partner_event("94", person_found())
    _problem(await post_signed(interagency, "nope", generate_secret(), body), 401)


@pytest.mark.parametrize(
    "data",
    [
        person_found(reporter_name="never accepted"),
        person_found(notes="free text about the person"),
        {"alert_type": "gossip", "full_name": "X"},
        person_found(sex="robot"),
        person_found(date_of_birth="2009-01-01"),  # with age: one or the other
    ],
)
async def test_data_outside_the_allow_list_is_422(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine, data: dict[str, Any]
) -> None:
    body = partner_event(partner.code, data)
    problem = _problem(
        await post_signed(interagency, partner.code, partner.inbound_secret, body), 422
    )
    assert problem["errors"]
    assert await inbound_alerts(db, partner.code) == []


async def test_a_person_found_with_nothing_to_match_on_is_422_naming_what_is_missing(
    interagency: httpx.AsyncClient, partner: PartnerHandle, db: AsyncEngine
) -> None:
    body = partner_event(partner.code, {"alert_type": "person_found"})
    problem = _problem(
        await post_signed(interagency, partner.code, partner.inbound_secret, body), 422
    )
    assert problem["errors"] == [
        {
            "field": "data.person_found",
            "message": "Value error, give at least one of full_name, id_number or phone",
            "code": "person_found.unmatchable",
        }
    ]
    assert await inbound_alerts(db, partner.code) == []


async def test_a_rejected_alert_can_be_sent_again_fixed_with_the_same_webhook_id(
    interagency: httpx.AsyncClient, partner: PartnerHandle
) -> None:
    bad = partner_event(partner.code, person_found(notes="x"))
    good = partner_event(partner.code, person_found())
    first = await post_signed(
        interagency, partner.code, partner.inbound_secret, bad, webhook_id="msg_fix"
    )
    assert first.status_code == 422
    second = await post_signed(
        interagency, partner.code, partner.inbound_secret, good, webhook_id="msg_fix"
    )
    assert second.status_code == 202 and second.json().keys() == {"alert_id"}


async def test_a_cloudevent_from_another_source_or_type_is_422(
    interagency: httpx.AsyncClient, partner: PartnerHandle
) -> None:
    event = json.loads(partner_event(partner.code, person_found()))
    for change in (
        {"source": "/partners/79"},
        {"type": "vn.ctip.other.v1"},
        {"specversion": "0.3"},
    ):
        body = json.dumps({**event, **change}).encode()
        response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
        _problem(response, 422)
    not_json = await post_signed(interagency, partner.code, partner.inbound_secret, b"{oops")
    _problem(not_json, 422)


async def test_a_body_over_the_limit_is_413(
    interagency: httpx.AsyncClient, partner: PartnerHandle
) -> None:
    padding = "x" * (300 * 1024)
    body = partner_event(partner.code, person_found(found_place=padding))
    response = await post_signed(interagency, partner.code, partner.inbound_secret, body)
    _problem(response, 413)

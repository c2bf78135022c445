"""Outbound alerts through a real HTTP receiver: signatures, retries with the same webhook-id,
410, exhaustion and replay, Retry-After, per-partner isolation, outbound secret rotation."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.integration.interagency.conftest import COMPRESSED, PartnerHandle, Register
from tests.integration.interagency.support import Receiver, Script
from tests.support import eventually, partner_counts

pytestmark = pytest.mark.integration

DOC = {
    "title": "Circular on victim reception",
    "url": "https://example.org/c.pdf",
    "sha256": "b" * 64,
}


async def send_bulletin(
    client: httpx.AsyncClient, headers: dict[str, str], *codes: str, title: str = "Q3 situation"
) -> str:
    response = await client.post(
        "/v1/bulletins",
        json={
            "title": title,
            "summary": "Brokers recruit on social media for restaurant work across the border.",
            "period": "2026-Q3",
            "documents": [DOC],
            "partner_codes": list(codes),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def alert(client: httpx.AsyncClient, headers: dict[str, str], alert_id: str) -> Any:
    response = await client.get(f"/v1/alerts/{alert_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def delivery_status(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: str, code: str
) -> dict[str, Any]:
    record = await alert(client, headers, alert_id)
    (delivery,) = [d for d in record["deliveries"] if d["partner_code"] == code]
    return dict(delivery)


def status_is(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: str, code: str, status: str
):  # type: ignore[no-untyped-def]
    async def probe() -> dict[str, Any] | None:
        delivery = await delivery_status(client, headers, alert_id, code)
        return delivery if delivery["status"] == status else None

    return probe


async def test_a_bulletin_reaches_the_partner_signed_as_a_cloudevent(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    alert_id = await send_bulletin(interagency, officer, partner.code)
    delivered = await eventually(
        status_is(interagency, officer, alert_id, partner.code, "delivered")
    )

    (seen,) = receiver.of(partner.code)
    assert seen.verified_with == [partner.outbound_secret]
    assert seen.webhook_id == delivered["id"]
    assert seen.signature.startswith("v1,")
    event = seen.event
    assert event["specversion"] == "1.0"
    assert event["id"] == alert_id
    assert event["type"] == "vn.ctip.interagency.alert.v1"
    assert event["source"] == "/ctip/interagency"
    assert event["data"] == {
        "alert_type": "situation_bulletin",
        "title": "Q3 situation",
        "summary": "Brokers recruit on social media for restaurant work across the border.",
        "period": "2026-Q3",
        "documents": [DOC],
    }
    (attempt,) = delivered["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["outcome"] == "delivered"
    assert attempt["duration_ms"] >= 0

    listed = (
        await interagency.get(
            "/v1/bulletins", params={"partner_code": partner.code}, headers=officer
        )
    ).json()["items"]
    assert [b["id"] for b in listed] == [alert_id]
    assert listed[0]["documents"] == [DOC]


async def test_a_partner_answering_503_gets_the_alert_once_with_one_webhook_id(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    receiver.scripts[partner.code] = Script(statuses=[503, 503])
    before = await partner_counts(interagency, partner.code)
    alert_id = await send_bulletin(interagency, officer, partner.code)
    delivered = await eventually(
        status_is(interagency, officer, alert_id, partner.code, "delivered")
    )

    seen = receiver.of(partner.code)
    assert [r.answered for r in seen] == [503, 503, 200]
    assert {r.webhook_id for r in seen} == {delivered["id"]}
    assert all(r.verified_with for r in seen)
    assert [a["status_code"] for a in delivered["attempt_log"]] == [503, 503, 200]
    assert delivered["attempts"] == 3
    after = await partner_counts(interagency, partner.code)
    assert {k: after[k] - before[k] for k in after} == {
        "delivered": 1,
        "failed": 2,
        "gone": 0,
        "disabled_admin": 0,
        "disabled_gone": 0,
    }


async def test_a_partner_down_then_up_receives_everything_exactly_once(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    await receiver.stop()
    alert_ids = [
        await send_bulletin(interagency, officer, partner.code, title=f"Bulletin {i}")
        for i in range(3)
    ]

    async def refused_once() -> bool:
        records = [await delivery_status(interagency, officer, a, partner.code) for a in alert_ids]
        return all(r["attempts"] >= 1 for r in records)

    await eventually(refused_once, timeout=10)
    await receiver.start()
    for alert_id in alert_ids:
        await eventually(status_is(interagency, officer, alert_id, partner.code, "delivered"))

    delivered = receiver.of(partner.code, delivered_only=True)
    assert sorted(r.event["id"] for r in delivered) == sorted(alert_ids)
    assert set(Counter(r.webhook_id for r in delivered).values()) == {1}
    first = await delivery_status(interagency, officer, alert_ids[0], partner.code)
    assert first["attempt_log"][0]["status_code"] is None
    assert first["attempt_log"][0]["error"]


async def test_410_disables_the_partner_endpoint(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    receiver.scripts[partner.code] = Script(statuses=[410])
    before = await partner_counts(interagency, partner.code)
    alert_id = await send_bulletin(interagency, officer, partner.code)
    failed = await eventually(status_is(interagency, officer, alert_id, partner.code, "failed"))
    assert failed["attempts"] == 1 and failed["last_status_code"] == 410

    record = (await interagency.get(f"/v1/partners/{partner.code}", headers=admin)).json()
    assert record["status"] == "disabled"
    assert "410" in record["disabled_reason"]
    again = await interagency.post(
        "/v1/bulletins",
        json={"title": "t", "summary": "s", "period": "2026-Q4", "partner_codes": [partner.code]},
        headers=officer,
    )
    assert again.status_code == 422
    await asyncio.sleep(0.5)
    assert len(receiver.of(partner.code)) == 1
    after = await partner_counts(interagency, partner.code)
    assert {k: after[k] - before[k] for k in after} == {
        "delivered": 0,
        "failed": 0,
        "gone": 1,
        "disabled_admin": 0,
        "disabled_gone": 1,
    }


async def test_an_exhausted_delivery_is_kept_as_failed_and_can_be_replayed(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    attempts = len(COMPRESSED) + 1
    receiver.scripts[partner.code] = Script(statuses=[500] * attempts)
    alert_id = await send_bulletin(interagency, officer, partner.code)
    failed = await eventually(status_is(interagency, officer, alert_id, partner.code, "failed"))
    assert failed["attempts"] == attempts
    assert [a["status_code"] for a in failed["attempt_log"]] == [500] * attempts
    assert failed["failed_at"] is not None

    listed = (
        await interagency.get(
            "/v1/deliveries",
            params={"status": "failed", "partner_code": partner.code},
            headers=admin,
        )
    ).json()["items"]
    assert [d["id"] for d in listed] == [failed["id"]]
    assert (
        await interagency.get("/v1/deliveries", params={"status": "failed"}, headers=officer)
    ).status_code == 403

    replayed = await interagency.post(f"/v1/deliveries/{failed['id']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending" and replayed.json()["replays"] == 1
    delivered = await eventually(
        status_is(interagency, officer, alert_id, partner.code, "delivered")
    )
    assert len(delivered["attempt_log"]) == attempts + 1

    seen = receiver.of(partner.code)
    assert {r.webhook_id for r in seen} == {failed["id"]}
    assert [r.answered for r in seen].count(200) == 1
    again = await interagency.post(f"/v1/deliveries/{failed['id']}/replay", headers=admin)
    assert again.status_code == 409


async def test_retry_after_is_honoured_on_429(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    receiver.scripts[partner.code] = Script(statuses=[429], headers={"Retry-After": "2"})
    alert_id = await send_bulletin(interagency, officer, partner.code)
    await eventually(status_is(interagency, officer, alert_id, partner.code, "delivered"))
    first, second = receiver.of(partner.code)
    assert second.at - first.at >= 1.9  # the schedule alone would retry after ~0.2 s


async def test_a_slow_partner_does_not_delay_the_others(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    slow = await register()
    quick = await register()
    receiver.scripts[slow.code] = Script(delay=2.5)
    alert_id = await send_bulletin(interagency, officer, slow.code, quick.code)
    await eventually(status_is(interagency, officer, alert_id, quick.code, "delivered"))
    (slow_seen,) = receiver.of(slow.code)
    (quick_seen,) = receiver.of(quick.code)
    assert abs(quick_seen.at - slow_seen.at) < 1.0
    delivered_slow = await delivery_status(interagency, officer, alert_id, slow.code)
    assert delivered_slow["status"] == "pending"  # still waiting for the slow answer
    await eventually(status_is(interagency, officer, alert_id, slow.code, "delivered"))


async def test_during_an_outbound_rotation_we_sign_with_both_secrets(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    admin: dict[str, str],
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register()
    rotated = await interagency.post(
        f"/v1/partners/{partner.code}/rotate-secret", json={"direction": "outbound"}, headers=admin
    )
    new_secret = rotated.json()["outbound_secret"]
    receiver.secrets[partner.code] = [partner.outbound_secret, new_secret]
    alert_id = await send_bulletin(interagency, officer, partner.code)
    await eventually(status_is(interagency, officer, alert_id, partner.code, "delivered"))
    (seen,) = receiver.of(partner.code)
    assert len(seen.signature.split(" ")) == 2
    assert seen.verified_with == [partner.outbound_secret, new_secret]
    headers = {
        "webhook-id": seen.webhook_id,
        "webhook-timestamp": seen.timestamp,
        "webhook-signature": seen.signature,
    }
    Webhook(new_secret).verify(seen.body, headers)
    Webhook(partner.outbound_secret).verify(seen.body, headers)


# Officers' alerts ---------------------------------------------------------------------------------


async def test_a_suspect_alert_carries_only_its_allow_list(
    interagency: httpx.AsyncClient,
    auth: Any,
    register: Register,
    receiver: Receiver,
) -> None:
    partner = await register(alert_types=["suspect_alert"])
    investigator = auth("investigator", "01")
    response = await interagency.post(
        "/v1/alerts",
        json={
            "data": {
                "alert_type": "suspect_alert",
                "full_name": "Synthetic Broker",
                "aliases": ["Chị Hai"],
                "phones": ["0912 000 111"],
                "routes": ["Lào Cai border gate"],
                "case_reference": "HN-2026-017",
            },
            "partner_codes": [partner.code],
        },
        headers=investigator,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["partner_codes"] == [partner.code]
    await eventually(status_is(interagency, investigator, created["id"], partner.code, "delivered"))
    (seen,) = receiver.of(partner.code)
    assert seen.event["data"] == {
        "alert_type": "suspect_alert",
        "full_name": "Synthetic Broker",
        "aliases": ["Chị Hai"],
        "phones": ["+84912000111"],
        "routes": ["Lào Cai border gate"],
        "case_reference": "HN-2026-017",
        "contact_agency": "Interagency desk, anti-trafficking steering committee",
    }


async def test_a_victim_handover_goes_to_the_receiving_province(
    interagency: httpx.AsyncClient,
    auth: Any,
    register: Register,
    receiver: Receiver,
) -> None:
    home = await register(border_countries=[])
    social_worker = auth("social_worker", "01")
    data = {
        "alert_type": "victim_handover",
        "full_name": "Lò Thị Mai",
        "sex": "female",
        "age": 17,
        "handover_at": "2026-11-30T09:00:00+07:00",
        "receiving_province_code": home.code,
        "needs": ["medical", "psychological"],
    }
    response = await interagency.post("/v1/alerts", json={"data": data}, headers=social_worker)
    assert response.status_code == 201, response.text
    assert response.json()["partner_codes"] == [home.code]
    await eventually(
        status_is(interagency, social_worker, response.json()["id"], home.code, "delivered")
    )
    wrong = await interagency.post(
        "/v1/alerts", json={"data": data, "partner_codes": ["79"]}, headers=social_worker
    )
    assert wrong.status_code == 422


@pytest.mark.parametrize(
    "data",
    [
        {"alert_type": "suspect_alert", "full_name": "X", "notes": "free text"},
        {"alert_type": "suspect_alert", "full_name": "X", "reporter": {"name": "R"}},
        {"alert_type": "missing_person", "full_name": "X"},
    ],
)
async def test_officers_cannot_send_fields_or_types_outside_the_allow_list(
    interagency: httpx.AsyncClient, auth: Any, data: dict[str, Any]
) -> None:
    response = await interagency.post(
        "/v1/alerts", json={"data": data}, headers=auth("investigator", "01")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_supervisors_read_alerts_without_personal_details(
    interagency: httpx.AsyncClient,
    auth: Any,
    register: Register,
) -> None:
    partner: PartnerHandle = await register(alert_types=["suspect_alert"])
    created = await interagency.post(
        "/v1/alerts",
        json={
            "data": {
                "alert_type": "suspect_alert",
                "full_name": "Synthetic Broker",
                "phones": ["0912000222"],
                "id_number": "001209000999",
            },
            "partner_codes": [partner.code],
        },
        headers=auth("investigator", "01"),
    )
    alert_id = created.json()["id"]
    supervisor = auth("supervisor", "01")
    read = await alert(interagency, supervisor, alert_id)
    assert read["data"]["full_name"] == "Synthetic Broker"
    assert "phones" not in read["data"] and "id_number" not in read["data"]
    assert (await interagency.post("/v1/alerts", json={}, headers=supervisor)).status_code == 403

    listed = (
        await interagency.get(
            "/v1/alerts",
            params={
                "direction": "out",
                "partner_code": partner.code,
                "alert_type": "suspect_alert",
            },
            headers=supervisor,
        )
    ).json()
    assert [a["id"] for a in listed["items"]] == [alert_id]
    assert "data" not in listed["items"][0]


async def test_kpis_count_deliveries_with_numerator_and_denominator(
    interagency: httpx.AsyncClient,
    officer: dict[str, str],
    auth: Any,
    register: Register,
) -> None:
    partner = await register()
    alert_id = await send_bulletin(interagency, officer, partner.code)
    await eventually(status_is(interagency, officer, alert_id, partner.code, "delivered"))
    kpis = (await interagency.get("/v1/kpis", headers=auth("supervisor", "01"))).json()
    assert kpis["alerts_sent"]["situation_bulletin"] >= 1
    assert kpis["sent_by_partner"][partner.code] == 1
    figure = kpis["delivery_success_ratio"]
    assert figure["denominator"] >= figure["numerator"] >= 1
    assert figure["value"] == round(figure["numerator"] / figure["denominator"], 4)
    assert (await interagency.get("/v1/kpis", headers=auth("ngo"))).status_code == 403

"""One person from reception to reintegration, and an NGO program serving them under consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from libs.common.settings import ServiceSettings
from tests.support import bearer

pytestmark = pytest.mark.integration
WARD = "00256"


async def test_reception_to_reintegration_with_an_ngo_program(
    victim_support: httpx.AsyncClient,
) -> None:
    settings = ServiceSettings()
    worker = bearer(settings, "social_worker", "01")
    ngo = bearer(settings, "ngo", org="ngo-hoa-sen")
    received = await victim_support.post(
        "/v1/victims",
        headers=worker,
        json={
            "source": "border_handover",
            "received_at": (datetime.now(UTC) - timedelta(hours=5)).isoformat(),
            "ward_code": WARD,
            "person": {"full_name": "Lò Thị Mai", "date_of_birth": "2009-03-02", "sex": "female"},
            "needs": ["medical", "schooling"],
        },
    )
    assert received.status_code == 201, received.text
    victim = received.json()
    assert victim["status"] == "under_verification"
    assert victim["is_minor"] is True
    vid = victim["id"]

    early = await victim_support.post(
        f"/v1/victims/{vid}/supports",
        headers=worker,
        json={
            "type": "schooling",
            "provided_on": datetime.now(UTC).date().isoformat(),
            "provider_org": "so-y-te-ha-noi",
        },
    )
    assert early.status_code == 422, early.text
    assert early.json()["rule"] == "presumed_victim"

    ok = await victim_support.post(
        f"/v1/victims/{vid}/identification",
        headers=worker,
        json={"outcome": "identified", "deciding_agency": "Công an tỉnh", "document_ref": "QĐ-1"},
    )
    assert ok.json()["status"] == "identified"
    await victim_support.post(
        f"/v1/victims/{vid}/protection", headers=worker, json={"measures": ["safe_shelter"]}
    )
    await victim_support.post(
        f"/v1/victims/{vid}/consents",
        headers=worker,
        json={"scope": "share_with_ngo", "granted": True, "org": "ngo-hoa-sen"},
    )
    program = await victim_support.post(
        "/v1/programs",
        headers=ngo,
        json={
            "name": "Reintegration 2026",
            "org": "ngo-hoa-sen",
            "funder": "Synthetic Fund",
            "support_types": ["schooling", "psychological"],
            "period": {"start": "2026-01-01", "end": "2026-12-31"},
        },
    )
    assert program.status_code == 201, program.text
    pid = program.json()["id"]
    enrolled = await victim_support.post(
        f"/v1/programs/{pid}/enrollments", headers=ngo, json={"victim_id": vid, "external_id": "e1"}
    )
    assert enrolled.status_code == 201, enrolled.text
    today = datetime.now(UTC).date().isoformat()
    batch = await victim_support.post(
        f"/v1/programs/{pid}/deliveries:batch",
        headers=ngo,
        json={
            "items": [
                {
                    "external_id": "d1",
                    "victim_id": vid,
                    "type": "schooling",
                    "amount_vnd": 500000,
                    "delivered_on": today,
                },
                {
                    "external_id": "d2",
                    "victim_id": vid,
                    "type": "loan",
                    "amount_vnd": 1,
                    "delivered_on": today,
                },
                {
                    "external_id": "d3",
                    "victim_id": "not-a-uuid",
                    "type": "schooling",
                    "delivered_on": today,
                },
                {
                    "external_id": "d1",
                    "victim_id": vid,
                    "type": "schooling",
                    "amount_vnd": 500000,
                    "delivered_on": today,
                },
            ]
        },
    )
    assert batch.status_code == 207, batch.text
    body = batch.json()
    assert [r["status"] for r in body["results"]] == [
        "created",
        "rejected",
        "rejected",
        "duplicate",
    ]
    report = await victim_support.get(f"/v1/programs/{pid}/report", headers=ngo)
    assert report.json()["totals"] == {"deliveries": 1, "people": 1, "amount_vnd": 500000}
    xlsx = await victim_support.get(f"/v1/programs/{pid}/report?format=xlsx", headers=ngo)
    assert xlsx.content[:2] == b"PK"
    revoked = await victim_support.post(
        f"/v1/victims/{vid}/consents",
        headers=worker,
        json={"scope": "share_with_ngo", "granted": False, "org": "ngo-hoa-sen"},
    )
    assert revoked.status_code == 201
    seen = (await victim_support.get(f"/v1/programs/{pid}", headers=ngo)).json()
    assert seen["enrollments"][0]["person"] is None
    assert seen["enrollments"][0]["consent_active"] is False
    record = (await victim_support.get(f"/v1/victims/{vid}", headers=worker)).json()
    assert record["status"] == "supported"
    supervisor = bearer(settings, "supervisor", "01")
    assert (await victim_support.get(f"/v1/victims/{vid}", headers=supervisor)).json()[
        "person"
    ] is None
    done = await victim_support.post(
        f"/v1/victims/{vid}/reintegration",
        headers=worker,
        json={
            "checked_on": today,
            "situation": "back at school",
            "schooling": "in_school",
            "closed": True,
        },
    )
    assert done.json()["status"] == "closed"
    kpis = (await victim_support.get("/v1/kpis", headers=supervisor)).json()
    assert kpis["verified_ratio"]["denominator"] >= 1


async def test_needs_assessed_at_identification_are_added(
    victim_support: httpx.AsyncClient,
) -> None:
    worker = bearer(ServiceSettings(), "social_worker", "01")
    received = await victim_support.post(
        "/v1/victims",
        headers=worker,
        json={
            "source": "rescued",
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "ward_code": WARD,
            "person": {"full_name": "Hà Thị Synthetic", "age": 22},
            "needs": ["medical"],
        },
    )
    vid = received.json()["id"]
    await victim_support.post(
        f"/v1/victims/{vid}/identification",
        headers=worker,
        json={
            "outcome": "identified",
            "deciding_agency": "Công an tỉnh",
            "document_ref": "QĐ-2",
            "needs": ["vocational_training", "medical"],
        },
    )
    record = (await victim_support.get(f"/v1/victims/{vid}", headers=worker)).json()
    assert record["needs"] == ["medical", "vocational_training"]

"""``POST /v1/tips`` at the walking-skeleton stage: what it accepts, refuses and stores."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration

TIP = {
    "channel": "web",
    "description": "Synthetic: a recruiter offers factory jobs abroad and keeps passports.",
    "incident_ward_code": "00256",
}


async def count_tips(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM intake.tips"))).scalar_one())


async def test_an_anonymous_tip_gets_a_receipt_and_the_legal_deadline(
    intake: httpx.AsyncClient,
) -> None:
    response = await intake.post("/v1/tips", json=TIP)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received"
    assert len(body["receipt_code"]) == 16 and body["receipt_code"].isdigit()
    assert body["resolution_due_at"] > body["received_at"]
    assert response.headers["cache-control"] == "no-store"


async def test_the_description_and_receipt_are_not_stored_in_clear(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    created = (await intake.post("/v1/tips", json=TIP)).json()
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT t.description, r.code_hash FROM intake.tips t"
                    " JOIN intake.receipts r ON r.subject_id = t.id WHERE t.id = :id"
                ),
                {"id": created["id"]},
            )
        ).one()
    assert "passports" not in row.description
    assert row.description.startswith("v1.")
    assert created["receipt_code"] not in row.code_hash


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"description": "short"}, "description"),
        ({"description": "x" * 20001}, "description"),
        ({"incident_ward_code": "99999"}, "incident_ward_code"),
        ({"incident_ward_code": "01"}, "incident_ward_code"),
        ({"exploitation_types": ["witchcraft"]}, "exploitation_types.0"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_invalid_tips_are_refused_with_the_field_named_and_nothing_stored(
    intake: httpx.AsyncClient, db: AsyncEngine, change: dict[str, Any], field: str
) -> None:
    before = await count_tips(db)
    response = await intake.post("/v1/tips", json={**TIP, **change})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert await count_tips(db) == before


async def test_a_body_that_is_not_json_is_a_problem_not_a_crash(intake: httpx.AsyncClient) -> None:
    response = await intake.post(
        "/v1/tips", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_oversized_body_is_refused_with_413(intake: httpx.AsyncClient) -> None:
    response = await intake.post("/v1/tips", json={**TIP, "description": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_an_invalid_token_is_401_even_on_a_public_endpoint(
    intake: httpx.AsyncClient,
) -> None:
    response = await intake.post(
        "/v1/tips", json=TIP, headers={"Authorization": "Bearer not.a.token"}
    )
    assert response.status_code == 401


async def test_the_same_idempotency_key_and_body_replays_the_first_response(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = {"Idempotency-Key": "tip-replay-1"}
    first = await intake.post("/v1/tips", json=TIP, headers=headers)
    before = await count_tips(db)
    again = await intake.post("/v1/tips", json=TIP, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_tips(db) == before


async def test_the_same_idempotency_key_with_another_body_is_409(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = {"Idempotency-Key": "tip-conflict-1"}
    await intake.post("/v1/tips", json=TIP, headers=headers)
    before = await count_tips(db)
    other = await intake.post("/v1/tips", json={**TIP, "channel": "hotline"}, headers=headers)
    assert other.status_code == 409
    assert await count_tips(db) == before


async def test_health_readiness_and_metrics(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/healthz")).json()["status"] == "ok"
    ready = await intake.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    await intake.post("/v1/tips", json=TIP)
    metrics = (await intake.get("/metrics")).text
    assert 'ctip_http_requests_total{method="POST",route="/v1/tips",service="intake"' in metrics
    assert "ctip_outbox_pending" in metrics


async def test_the_openapi_document_is_served(intake: httpx.AsyncClient) -> None:
    spec = (await intake.get("/openapi.json")).json()
    assert "/v1/tips" in spec["paths"]

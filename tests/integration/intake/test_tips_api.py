"""``POST /v1/tips`` at the walking-skeleton stage: what it accepts, refuses and stores."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.crypto import BlindIndex
from libs.common.idempotency import IN_PROGRESS, KEY_PURPOSE, LOCK_CLASS, SCOPE_PURPOSE, lock_key
from services.intake.settings import IntakeSettings
from testkit.intake import resident_key

pytestmark = pytest.mark.integration

TIP = {
    "channel": "web",
    "description": "Synthetic: a recruiter offers factory jobs abroad and keeps passports.",
    "incident_ward_code": "00256",
}
MISSING_REPORT = {
    "full_name": "Lò Thị Mai",
    "sex": "female",
    "age": 16,
    "last_seen_at": "2026-01-05T18:00:00+07:00",
    "last_seen_ward_code": "00256",
}


async def count_tips(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM intake.tips"))).scalar_one())


async def test_an_anonymous_tip_gets_a_receipt_and_the_legal_deadline(
    intake: httpx.AsyncClient,
) -> None:
    response = await intake.post("/v1/tips", json=TIP, headers=resident_key())
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received"
    assert len(body["receipt_code"]) == 16 and body["receipt_code"].isdigit()
    assert body["resolution_due_at"] > body["received_at"]
    assert response.headers["cache-control"] == "no-store"


async def test_the_description_and_receipt_are_not_stored_in_clear(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    created = (await intake.post("/v1/tips", json=TIP, headers=resident_key())).json()
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
    response = await intake.post("/v1/tips", json={**TIP, **change}, headers=resident_key())
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
    response = await intake.post(
        "/v1/tips", json={**TIP, "description": "x" * (2 * 1024 * 1024)}, headers=resident_key()
    )
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
    headers = resident_key()
    first = await intake.post("/v1/tips", json=TIP, headers=headers)
    before = await count_tips(db)
    again = await intake.post("/v1/tips", json=TIP, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_tips(db) == before


async def test_a_replayed_filing_keeps_cache_control_no_store(intake: httpx.AsyncClient) -> None:
    """The replay carries the receipt code as much as the first answer: no cache may keep it."""
    headers = resident_key()
    for path, body in (("/v1/tips", TIP), ("/v1/missing-persons", MISSING_REPORT)):
        first = await intake.post(path, json=body, headers=headers)
        again = await intake.post(path, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["receipt_code"] == first.json()["receipt_code"]
        assert first.headers["cache-control"] == again.headers["cache-control"] == "no-store"


async def test_the_same_idempotency_key_with_another_body_is_409(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = resident_key()
    await intake.post("/v1/tips", json=TIP, headers=headers)
    before = await count_tips(db)
    other = await intake.post("/v1/tips", json={**TIP, "channel": "hotline"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["type"] == "https://ctip.gov.vn/problems/idempotency-key-reused"
    assert "retry-after" not in other.headers
    assert await count_tips(db) == before


async def test_health_readiness_and_metrics(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/healthz")).json()["status"] == "ok"
    ready = await intake.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    await intake.post("/v1/tips", json=TIP, headers=resident_key())
    metrics = (await intake.get("/metrics")).text
    assert 'ctip_http_requests_total{method="POST",route="/v1/tips",service="intake"' in metrics
    assert "ctip_outbox_pending" in metrics


async def test_the_openapi_document_is_served(intake: httpx.AsyncClient) -> None:
    spec = (await intake.get("/openapi.json")).json()
    assert "/v1/tips" in spec["paths"]


# A resident's Idempotency-Key ------------------------------------------------------------------

PREDICTABLE_KEYS = [
    "1",
    "tip-2026-01-05",
    "0f8fad5b-d9cb-11e0-9f3b-0800200c9a66",  # v1: time and the machine's address
    "6fa459ea-ee8a-3ca4-894e-db77e160355e",  # v3: a hash of a name anyone can hash again
    "00000000-0000-4000-8000-000000000000",  # the shape of a v4, and nothing random in it
    "0192f3a0-8b6c-7000-8000-000000000000",  # a v7 whose random part is zeros
    "00000000-0000-0000-0000-000000000000",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7-extra",
    "7C9E6679742540DE944BE07FC1F90AE7",  # a v4, but not written as a UUID is
    "7c9e6679-7425-40de-c44b-e07fc1f90ae7",  # not the RFC 9562 variant
]


@pytest.mark.parametrize(
    ("path", "body"), [("/v1/tips", TIP), ("/v1/missing-persons", MISSING_REPORT)]
)
async def test_an_anonymous_filing_without_an_idempotency_key_is_422_and_files_nothing(
    intake: httpx.AsyncClient, db: AsyncEngine, path: str, body: dict[str, Any]
) -> None:
    before = await count_tips(db)
    response = await intake.post(path, json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "Idempotency-Key",
            "message": "required: a UUID v4 or v7, new for each request",
            "code": "idempotency_key.missing",
        }
    ]
    assert await count_tips(db) == before


@pytest.mark.parametrize("key", PREDICTABLE_KEYS)
async def test_an_anonymous_filing_with_a_predictable_key_is_422(
    intake: httpx.AsyncClient, key: str
) -> None:
    response = await intake.post(
        "/v1/tips", json=TIP, headers={"Idempotency-Key": key, "Accept-Language": "en"}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "Idempotency-Key"
    assert error["message"] == "not a UUID v4 or v7, new for each request"


@pytest.mark.parametrize(
    "key",
    [
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",  # v4
        "7C9E6679-7425-40DE-944B-E07FC1F90AE7",  # v4 in capitals
        "0192f3a0-8b6c-7d2e-9f41-6a3b5c7d9e08",  # v7
    ],
)
async def test_an_anonymous_filing_with_a_random_uuid_is_accepted(
    intake: httpx.AsyncClient, key: str, db: AsyncEngine
) -> None:
    async with db.begin() as conn:  # a fixed key: make the test rerunnable on one database
        await conn.execute(text("DELETE FROM intake.idempotency_keys"))
    response = await intake.post("/v1/tips", json=TIP, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text


async def test_an_officer_keeps_any_key_or_none(
    intake: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    for headers in ({}, {"Idempotency-Key": "desk-2026-01-05-1"}):
        response = await intake.post("/v1/tips", json=TIP, headers={**officer, **headers})
        assert response.status_code == 201, response.text


async def test_a_retry_while_the_first_request_runs_is_told_to_wait(
    intake: httpx.AsyncClient, db: AsyncEngine, intake_settings: IntakeSettings
) -> None:
    """The first request holds its key's lock until it commits: a retry meanwhile gets a
    problem of its own with Retry-After (wait), not the 409 of a changed body."""
    headers = resident_key()
    index = BlindIndex.from_b64(intake_settings.blind_index_key.get_secret_value())
    scope = index.digest(SCOPE_PURPOSE, "POST /v1/tips anonymous")
    lock = lock_key(scope, index.digest(KEY_PURPOSE, headers["Idempotency-Key"]))
    before = await count_tips(db)
    async with db.connect() as first, first.begin():  # the first request, still running
        await first.execute(
            text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": LOCK_CLASS, "k": lock}
        )
        retry = await intake.post(
            "/v1/tips", json=TIP, headers={**headers, "Accept-Language": "en"}
        )
    assert retry.status_code == 409
    problem = retry.json()
    assert problem["type"] == "https://ctip.gov.vn/problems/idempotency-in-progress"
    assert problem["detail"] == IN_PROGRESS
    assert retry.headers["retry-after"] == "1"
    assert await count_tips(db) == before
    later = await intake.post("/v1/tips", json=TIP, headers=headers)
    assert later.status_code == 201


async def test_concurrent_retries_file_one_tip_and_each_answer_says_so(
    intake: httpx.AsyncClient, db: AsyncEngine
) -> None:
    headers = resident_key()
    before = await count_tips(db)
    answers = await asyncio.gather(
        *(intake.post("/v1/tips", json=TIP, headers=headers) for _ in range(5))
    )
    assert await count_tips(db) == before + 1
    codes = {a.json()["receipt_code"] for a in answers if a.status_code == 201}
    assert len(codes) == 1
    for answer in answers:
        assert answer.status_code == 201 or (
            answer.status_code == 409
            and answer.json()["type"].endswith("/idempotency-in-progress")
            and answer.headers["retry-after"] == "1"
        ), answer.text

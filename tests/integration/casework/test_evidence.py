"""Evidence files of cases: an officer's kept byte for byte with its chain of custody, the files
of the case's tip listed beside them (whether they came before or after the case opened) and
fetched from intake, every download audited, and no one else reaching a file. Files made on the
spot (``testkit/evidence.py``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.jurisdiction import wards_of
from services.casework.settings import CaseworkSettings
from testkit import evidence
from tests.integration.casework.support import (
    HAI_BA_TRUNG,
    HANOI,
    HCMC,
    INVESTIGATOR,
    PROSECUTOR,
    Auth,
    Casework,
    the_case_of,
)
from tests.support import eventually
from tests.support import outbox_event as decrypt_event

pytestmark = pytest.mark.integration

PURPOSE = {"X-Purpose": "prepare the indictment"}
OTHER_WARD = next(w for w in wards_of(HANOI) if w != HAI_BA_TRUNG)


@pytest.fixture
def cw(casework: httpx.AsyncClient, auth: Auth) -> Casework:
    return Casework(casework, auth)


async def send(
    client: httpx.AsyncClient,
    case_id: str,
    data: bytes,
    name: str,
    headers: dict[str, str],
) -> httpx.Response:
    files = {"file": (name, data, "application/octet-stream")}
    return await client.post(f"/v1/cases/{case_id}/evidence", files=files, headers=headers)


async def listed(cw: Casework, case_id: str, role: str = INVESTIGATOR) -> list[dict[str, Any]]:
    response = await cw.client.get(f"/v1/cases/{case_id}/evidence", headers=cw.as_(role))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def audited(db: AsyncEngine, schema: str, record_type: str, record_id: str) -> list[Any]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text(
                f"SELECT action, roles, purpose FROM {schema}.audit_log"
                " WHERE record_type = :type AND record_id = :id ORDER BY seq"
            ),
            {"type": record_type, "id": record_id},
        )
        return [(r.action, r.roles, r.purpose) for r in rows]


def anonymous() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def tip_from_the_public(intake: httpx.AsyncClient) -> dict[str, Any]:
    filed = await intake.post(
        "/v1/tips",
        json={
            "channel": "web",
            "description": "Synthetic tip: a broker posts job offers abroad; photo to follow.",
            "incident_ward_code": HAI_BA_TRUNG,
            "exploitation_types": ["forced_labour"],
        },
        headers=anonymous(),
    )
    assert filed.status_code == 201, filed.text
    return dict(filed.json())


async def reporter_adds(intake: httpx.AsyncClient, code: str, data: bytes, name: str) -> Any:
    response = await intake.post(
        "/v1/receipts/attachments",
        data={"receipt_code": code},
        files={"file": (name, data, "image/jpeg")},
        headers=anonymous(),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def substantiate(intake: httpx.AsyncClient, intake_auth: Auth, tip_id: str) -> None:
    officer = intake_auth("intake_officer", HANOI)
    for path, body in (
        ("classification", {"trafficking_related": "yes", "priority": "high"}),
        ("verification", {"outcome": "substantiated"}),
    ):
        response = await intake.post(f"/v1/tips/{tip_id}/{path}", json=body, headers=officer)
        assert response.status_code == 200, response.text


@pytest.fixture
async def case(cw: Casework) -> dict[str, Any]:
    return await cw.open()


async def test_an_officers_evidence_is_kept_byte_for_byte_with_its_chain_of_custody(
    cw: Casework, case: dict[str, Any], db: AsyncEngine
) -> None:
    original = evidence.jpeg_with_gps()
    made = await send(cw.client, case["id"], original, "bien-ban-kham-xet.jpg", cw.as_(PROSECUTOR))
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) == {"id", "filename", "media_type", "size", "sha256"}
    assert body["sha256"] == hashlib.sha256(original).hexdigest()
    assert (body["filename"], body["media_type"], body["size"]) == (
        "bien-ban-kham-xet.jpg", "image/jpeg", len(original),
    )  # fmt: skip
    [item] = await listed(cw, case["id"])
    assert item["id"] == body["id"] and item["sha256"] == body["sha256"]
    assert (item["origin"], item["source"], item["tip_id"]) == ("case", "officer", None)
    assert item["uploaded_by"] and item["uploaded_at"]

    download = await cw.client.get(
        f"/v1/evidence/{body['id']}/content", headers={**cw.as_(INVESTIGATOR), **PURPOSE}
    )
    assert download.status_code == 200, download.text
    assert download.content == original  # the GPS EXIF too: an officer's file is not cleaned
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="bien-ban-kham-xet.jpg"'
    )
    assert await audited(db, "casework", "evidence", body["id"]) == [
        ("download", "investigator", PURPOSE["X-Purpose"])
    ]


async def test_the_same_upload_under_one_idempotency_key_is_stored_once(
    cw: Casework, case: dict[str, Any]
) -> None:
    headers = {**cw.as_(INVESTIGATOR), "Idempotency-Key": str(uuid.uuid4())}
    pdf = evidence.pdf_with_author()
    first = await send(cw.client, case["id"], pdf, "a.pdf", headers)
    again = await send(cw.client, case["id"], pdf, "a.pdf", headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert [item["id"] for item in await listed(cw, case["id"])] == [first.json()["id"]]


async def test_a_tips_files_show_on_its_case_whether_added_before_or_after_it_opened(
    cw: Casework,
    intake: httpx.AsyncClient,
    intake_auth: Auth,
    db: AsyncEngine,
) -> None:
    tip = await tip_from_the_public(intake)
    photo = await reporter_adds(intake, tip["receipt_code"], evidence.jpeg_with_gps(), "zalo.jpg")
    await substantiate(intake, intake_auth, tip["id"])
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip["id"])
    later = await intake.post(
        f"/v1/tips/{tip['id']}/attachments",
        files={"file": ("hop-dong.pdf", evidence.pdf_with_author(), "application/pdf")},
        headers=intake_auth("investigator", HANOI),
    )
    assert later.status_code == 201, later.text
    own = await send(
        cw.client, case["id"], evidence.pdf_with_author(), "loi-khai.pdf", cw.as_(INVESTIGATOR)
    )
    assert own.status_code == 201, own.text

    async def all_three() -> list[dict[str, Any]]:
        items = await listed(cw, case["id"], PROSECUTOR)
        return items if len(items) == 3 else []

    items = {item["id"]: item for item in await eventually(all_three, timeout=60)}
    assert {i: (v["origin"], v["source"]) for i, v in items.items()} == {
        photo["id"]: ("tip", "public"),
        later.json()["id"]: ("tip", "officer"),
        own.json()["id"]: ("case", "officer"),
    }
    assert items[photo["id"]]["tip_id"] == tip["id"]
    assert items[photo["id"]]["sha256"] == photo["sha256"]
    assert (items[photo["id"]]["filename"], items[photo["id"]]["media_type"]) == (
        "zalo.jpg", "image/jpeg",
    )  # fmt: skip

    download = await cw.client.get(
        f"/v1/evidence/{photo['id']}/content", headers={**cw.as_(PROSECUTOR), **PURPOSE}
    )
    assert download.status_code == 200, download.text
    assert hashlib.sha256(download.content).hexdigest() == photo["sha256"]
    assert evidence.PHONE_MODEL.encode() not in download.content  # intake cleaned it
    assert download.headers["content-disposition"].startswith('attachment; filename="zalo.jpg"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "image/jpeg"
    # Audited by casework, and by intake, which the caller's own token and purpose reached.
    expected = [("download", "prosecutor", PURPOSE["X-Purpose"])]
    assert await audited(db, "casework", "evidence", photo["id"]) == expected
    assert await audited(db, "intake", "attachment", photo["id"]) == expected


async def test_a_redelivered_attachment_event_lists_the_file_once(
    cw: Casework,
    intake: httpx.AsyncClient,
    intake_auth: Auth,
    casework_settings: CaseworkSettings,
    db: AsyncEngine,
) -> None:
    tip = await tip_from_the_public(intake)
    photo = await reporter_adds(intake, tip["receipt_code"], evidence.jpeg_with_gps(), "a.jpg")
    await substantiate(intake, intake_auth, tip["id"])
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip["id"])
    await eventually(lambda: listed(cw, case["id"]), timeout=60)
    async with db.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT event FROM intake.outbox WHERE key = :k AND type = :t"),
                {"k": tip["id"], "t": "vn.ctip.intake.tip.attachment_added.v1"},
            )
        ).scalar_one()
    added = decrypt_event("intake", stored)
    repeated = {**added, "id": str(uuid.uuid4())}
    producer = AIOKafkaProducer(bootstrap_servers=casework_settings.kafka_bootstrap)
    await producer.start()
    try:
        for value in (added, repeated):
            await producer.send_and_wait(
                casework_settings.topic("intake.tip.v1"),
                json.dumps(value).encode(),
                key=tip["id"].encode(),
            )
    finally:
        await producer.stop()

    async def handled() -> bool:
        async with db.connect() as conn:
            seen = await conn.execute(
                text("SELECT count(*) FROM casework.inbox WHERE event_id = :id"),
                {"id": repeated["id"]},
            )
            return bool(seen.scalar_one() == 1)

    await eventually(handled, timeout=60)
    assert [item["id"] for item in await listed(cw, case["id"])] == [photo["id"]]


@pytest.mark.parametrize(
    ("role", "where", "read", "write"),
    [
        ("court_clerk", HANOI, 403, 403),
        ("supervisor", HANOI, 403, 403),
        ("social_worker", HANOI, 403, 403),
        ("ngo", HANOI, 403, 403),
        ("intake_officer", HANOI, 403, 403),
        ("admin", HANOI, 403, 403),
        ("investigator", HCMC, 404, 403),
        ("prosecutor", OTHER_WARD, 404, 403),
    ],
)
async def test_who_may_not_reach_a_file(
    cw: Casework,
    case: dict[str, Any],
    auth: Auth,
    role: str,
    where: str,
    read: int,
    write: int,
) -> None:
    pdf = evidence.pdf_with_author()
    made = (await send(cw.client, case["id"], pdf, "a.pdf", cw.as_(INVESTIGATOR))).json()
    caller = auth(role, where)
    download = await cw.client.get(f"/v1/evidence/{made['id']}/content", headers=caller)
    assert download.status_code == read, download.text
    assert download.headers["content-type"].startswith("application/problem+json")
    listing = await cw.client.get(f"/v1/cases/{case['id']}/evidence", headers=caller)
    assert listing.status_code == read
    upload = await send(cw.client, case["id"], pdf, "b.pdf", caller)
    assert upload.status_code == write
    assert [item["id"] for item in await listed(cw, case["id"])] == [made["id"]]
    for response in (
        await cw.client.get(f"/v1/evidence/{made['id']}/content"),
        await cw.client.get(f"/v1/cases/{case['id']}/evidence"),
        await send(cw.client, case["id"], pdf, "c.pdf", {}),
    ):
        assert response.status_code == 401


async def test_an_unknown_file_or_case_is_404(cw: Casework) -> None:
    unknown = str(uuid.uuid4())
    headers = cw.as_(INVESTIGATOR)
    for path in (f"/v1/evidence/{unknown}/content", f"/v1/cases/{unknown}/evidence"):
        assert (await cw.client.get(path, headers=headers)).status_code == 404
    made = await send(cw.client, unknown, evidence.pdf_with_author(), "a.pdf", headers)
    assert made.status_code == 404


@pytest.mark.parametrize(
    "make",
    [evidence.html_named_jpg, evidence.jpeg_html_polyglot, evidence.jpeg_zip_polyglot],
    ids=["html named .jpg", "jpeg+html polyglot", "jpeg+zip polyglot"],
)
async def test_a_file_that_is_not_what_it_claims_is_415(
    cw: Casework, case: dict[str, Any], make: Any
) -> None:
    response = await send(cw.client, case["id"], make(), "photo.jpg", cw.as_(INVESTIGATOR))
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await listed(cw, case["id"]) == []


async def test_a_body_over_25_mib_is_413(cw: Casework, case: dict[str, Any]) -> None:
    big = b"\xff\xd8\xff" + bytes(26 * 1024 * 1024)
    response = await send(cw.client, case["id"], big, "big.jpg", cw.as_(INVESTIGATOR))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await listed(cw, case["id"]) == []


async def test_a_closed_case_takes_no_more_evidence(cw: Casework) -> None:
    closed = await cw.case_in("closed")
    response = await send(
        cw.client, closed["id"], evidence.pdf_with_author(), "a.pdf", cw.as_(INVESTIGATOR)
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "the case is closed"


async def test_intake_out_of_reach_is_503_for_a_tips_file_and_nothing_is_audited(
    cw: Casework,
    casework_app: FastAPI,
    intake: httpx.AsyncClient,
    intake_auth: Auth,
    db: AsyncEngine,
) -> None:
    tip = await tip_from_the_public(intake)
    photo = await reporter_adds(intake, tip["receipt_code"], evidence.jpeg_with_gps(), "a.jpg")
    await substantiate(intake, intake_auth, tip["id"])
    case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip["id"])
    await eventually(lambda: listed(cw, case["id"]), timeout=60)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    kept = casework_app.state.intake_transport
    casework_app.state.intake_transport = httpx.MockTransport(refuse)
    try:
        response = await cw.client.get(
            f"/v1/evidence/{photo['id']}/content", headers={**cw.as_(INVESTIGATOR), **PURPOSE}
        )
    finally:
        casework_app.state.intake_transport = kept
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await audited(db, "casework", "evidence", photo["id"]) == []


async def test_at_rest_neither_the_bytes_nor_the_name_of_a_file_is_in_clear(
    cw: Casework,
    case: dict[str, Any],
    intake: httpx.AsyncClient,
    intake_auth: Auth,
    db: AsyncEngine,
) -> None:
    """What ``pg_dump`` would print of casework's file tables holds no run of a file's bytes,
    and no name or type of a case's file or of its tip's."""
    original = evidence.pdf_with_author()
    name = "bien-ban-loi-khai-nan-nhan.pdf"
    made = (await send(cw.client, case["id"], original, name, cw.as_(INVESTIGATOR))).json()
    tip = await tip_from_the_public(intake)
    tip_name = "anh-chup-tin-nhan-moi-gioi.jpg"
    await reporter_adds(intake, tip["receipt_code"], evidence.jpeg_with_gps(), tip_name)
    await substantiate(intake, intake_auth, tip["id"])
    tip_case = await the_case_of(cw.client, cw.as_(INVESTIGATOR), tip["id"])
    await eventually(lambda: listed(cw, tip_case["id"]), timeout=60)
    async with db.connect() as conn:
        chunks = (
            (
                await conn.execute(
                    text("SELECT sealed FROM casework.stored_file_chunks WHERE file_id = :id"),
                    {"id": made["id"]},
                )
            )
            .scalars()
            .all()
        )
        rows = [
            dict(row)
            for query in (
                "SELECT e.*, f.wrapped_key, f.key_id FROM casework.evidence e"
                " JOIN casework.stored_files f ON f.id = e.id WHERE e.id = :id",
                "SELECT * FROM casework.tip_files WHERE tip_id = :tip",
            )
            for row in (
                await conn.execute(text(query), {"id": made["id"], "tip": tip["id"]})
            ).mappings()
        ]
    raw = b"".join(bytes(c) for c in chunks) + repr(rows).encode()
    assert chunks and len(rows) == 2
    for start in range(0, len(original) - 16, 16):
        assert original[start : start + 16] not in raw
    for clear in (name, "bien-ban", tip_name, "anh-chup", "application/pdf", "image/jpeg"):
        assert clear.encode() not in raw
    assert evidence.AUTHOR.encode() not in raw

"""Evidence files of tips: the public's lose their metadata before anything is stored, officers'
are kept byte for byte with their SHA-256, every file is encrypted at rest, and every download is
audited. Files made on the spot (``testkit/evidence.py``)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.common.platform import platform_of
from services.intake.app import create_app
from services.intake.models import metadata
from services.intake.settings import IntakeSettings
from testkit import evidence
from testkit.intake import resident_key
from tests.integration.intake.conftest import Auth
from tests.integration.intake.support import (
    HCMC,
    classify,
    file_tip,
    outbox_events,
    verify,
)
from tests.support import eventually, running

pytestmark = pytest.mark.integration

PURPOSE = {"X-Purpose": "check the reporter's photo"}


async def send(
    client: httpx.AsyncClient,
    data: bytes,
    name: str,
    *,
    code: str | None = None,
    tip_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    files = {"file": (name, data, "application/octet-stream")}
    if code is not None:
        return await client.post(
            "/v1/receipts/attachments",
            data={"receipt_code": code},
            files=files,
            headers={**resident_key(), **(headers or {})},
        )
    return await client.post(f"/v1/tips/{tip_id}/attachments", files=files, headers=headers)


async def stored_bytes(db: AsyncEngine, attachment_id: str) -> bytes:
    """What the store holds, decrypted: the bytes as stored, not as the API reshapes them."""
    store = platform_of(metadata).files
    assert store is not None
    async with AsyncSession(db) as session:
        return b"".join([chunk async for chunk in store.read(session, UUID(attachment_id))])


@pytest.fixture
async def tip(intake: httpx.AsyncClient) -> dict[str, Any]:
    return await file_tip(intake)


async def test_a_reporters_photo_is_stored_without_its_gps_position_or_phone_model(
    intake: httpx.AsyncClient, tip: dict[str, Any], db: AsyncEngine
) -> None:
    original = evidence.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test's premise
    response = await send(intake, original, "IMG_2041.jpg", code=tip["receipt_code"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "filename", "media_type", "size", "sha256"}
    assert (body["filename"], body["media_type"]) == ("IMG_2041.jpg", "image/jpeg")
    stored = await stored_bytes(db, body["id"])
    assert hashlib.sha256(stored).hexdigest() == body["sha256"] and len(stored) == body["size"]
    photo = Image.open(io.BytesIO(stored))
    assert photo.size == (64, 48)
    assert dict(photo.getexif()) == {} and "exif" not in photo.info and "xmp" not in photo.info
    assert evidence.PHONE_MODEL.encode() not in stored


async def test_a_reporters_pdf_loses_its_author(
    intake: httpx.AsyncClient, tip: dict[str, Any], db: AsyncEngine
) -> None:
    response = await send(
        intake, evidence.pdf_with_author(), "hop-dong.pdf", code=tip["receipt_code"]
    )
    assert response.status_code == 201, response.text
    stored = await stored_bytes(db, response.json()["id"])
    document = PdfReader(io.BytesIO(stored))
    assert len(document.pages) == 1
    assert document.metadata is None or document.metadata.author is None
    assert evidence.AUTHOR.encode() not in stored


async def test_a_reporters_video_loses_its_location_atom_and_keeps_its_media_in_place(
    intake: httpx.AsyncClient, tip: dict[str, Any], db: AsyncEngine
) -> None:
    original = evidence.mp4_with_location()
    response = await send(intake, original, "VID_0001.mp4", code=tip["receipt_code"])
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "video/mp4"
    stored = await stored_bytes(db, response.json()["id"])
    assert evidence.ISO6709 not in stored and b"\xa9xyz" not in stored
    assert evidence.PHONE_MAKER.encode() not in stored
    assert len(stored) == len(original)
    assert stored.index(b"mdat") == original.index(b"mdat")
    assert stored[original.index(b"mdat") :] == original[original.index(b"mdat") :]


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (evidence.html_named_jpg, "photo.jpg"),
        (evidence.jpeg_html_polyglot, "photo.jpg"),
        (evidence.jpeg_zip_polyglot, "photo.jpg"),
    ],
    ids=["html named .jpg", "jpeg+html polyglot", "jpeg+zip polyglot"],
)
async def test_a_file_that_is_not_what_it_claims_is_415_for_everyone(
    intake: httpx.AsyncClient,
    tip: dict[str, Any],
    officer: dict[str, str],
    make: Callable[[], bytes],
    name: str,
) -> None:
    public = await send(intake, make(), name, code=tip["receipt_code"])
    assert public.status_code == 415, public.text
    assert public.headers["content-type"].startswith("application/problem+json")
    assert public.headers["content-language"] == "vi"
    official = await send(intake, make(), name, tip_id=tip["id"], headers=officer)
    assert official.status_code == 415
    listed = await intake.get(f"/v1/tips/{tip['id']}/attachments", headers=officer)
    assert listed.json() == []


async def test_a_body_over_25_mib_is_413_before_it_is_read(
    intake: httpx.AsyncClient, tip: dict[str, Any], officer: dict[str, str]
) -> None:
    big = b"\xff\xd8\xff" + bytes(26 * 1024 * 1024)
    response = await send(intake, big, "big.jpg", tip_id=tip["id"], headers=officer)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_streamed_body_over_25_mib_is_413_too(
    intake: httpx.AsyncClient, tip: dict[str, Any], officer: dict[str, str]
) -> None:
    async def body() -> Any:
        """A well-formed part whose file never ends, sent without a Content-Length."""
        yield (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
        )
        for _ in range(27):
            yield bytes(1024 * 1024)

    response = await intake.post(
        f"/v1/tips/{tip['id']}/attachments",
        content=body(),
        headers={**officer, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413


async def test_an_officers_file_is_kept_byte_for_byte_with_its_hash_and_downloads_audited(
    intake: httpx.AsyncClient, tip: dict[str, Any], auth: Auth, db: AsyncEngine
) -> None:
    original = evidence.jpeg_with_gps()
    uploader = auth("investigator", "01")
    response = await send(intake, original, "bien-ban.jpg", tip_id=tip["id"], headers=uploader)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["sha256"] == hashlib.sha256(original).hexdigest()
    listed = (await intake.get(f"/v1/tips/{tip['id']}/attachments", headers=uploader)).json()
    assert [(f["id"], f["source"], f["sha256"]) for f in listed] == [
        (made["id"], "officer", made["sha256"])
    ]
    assert listed[0]["uploaded_by"] and listed[0]["uploaded_at"]
    prosecutor = auth("prosecutor", "01")
    download = await intake.get(
        f"/v1/attachments/{made['id']}/content", headers={**prosecutor, **PURPOSE}
    )
    assert download.status_code == 200
    assert download.content == original
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith('attachment; filename="bien-ban.jpg"')
    async with db.connect() as conn:
        entries = (
            await conn.execute(
                text(
                    "SELECT action, roles, purpose FROM intake.audit_log"
                    " WHERE record_type = 'attachment' AND record_id = :id"
                ),
                {"id": made["id"]},
            )
        ).all()
    assert [(e.action, e.roles, e.purpose) for e in entries] == [
        ("download", "prosecutor", PURPOSE["X-Purpose"])
    ]
    events = await outbox_events(db, tip["id"])
    added = [data for kind, data in events if kind.endswith("attachment_added.v1")]
    assert added and added[0]["sha256"] == made["sha256"]
    assert added[0]["attachment_id"] == made["id"] and added[0]["source"] == "officer"


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [
        ("supervisor", "01", 403),
        ("ngo", "01", 403),
        ("social_worker", "01", 403),
        ("intake_officer", HCMC, 404),
        ("prosecutor", HCMC, 404),
    ],
)
async def test_who_may_not_read_a_file(
    intake: httpx.AsyncClient,
    tip: dict[str, Any],
    officer: dict[str, str],
    auth: Auth,
    role: str,
    where: str,
    status: int,
) -> None:
    made = (
        await send(intake, evidence.pdf_with_author(), "a.pdf", tip_id=tip["id"], headers=officer)
    ).json()
    caller = auth(role, where, org="ngo-a" if role == "ngo" else None)
    download = await intake.get(f"/v1/attachments/{made['id']}/content", headers=caller)
    assert download.status_code == status
    if role != "prosecutor":
        listed = await intake.get(f"/v1/tips/{tip['id']}/attachments", headers=caller)
        assert listed.status_code == status
    anonymous = await intake.get(f"/v1/attachments/{made['id']}/content")
    assert anonymous.status_code == 401


async def test_an_officer_of_another_province_cannot_add_a_file(
    intake: httpx.AsyncClient, tip: dict[str, Any], auth: Auth
) -> None:
    response = await send(
        intake, evidence.pdf_with_author(), "a.pdf", tip_id=tip["id"],
        headers=auth("intake_officer", HCMC),
    )  # fmt: skip
    assert response.status_code == 403


async def test_a_tip_takes_20_files_and_the_21st_is_413(
    intake: httpx.AsyncClient, tip: dict[str, Any], officer: dict[str, str]
) -> None:
    pdf = evidence.pdf_with_author()
    for n in range(20):
        made = await send(intake, pdf, f"{n}.pdf", tip_id=tip["id"], headers=officer)
        assert made.status_code == 201, made.text
    refused = await send(intake, pdf, "21.pdf", code=tip["receipt_code"])
    assert refused.status_code == 413
    assert "20" in refused.json()["detail"]


async def test_at_rest_neither_the_bytes_nor_the_name_of_a_file_is_in_clear(
    intake: httpx.AsyncClient, tip: dict[str, Any], officer: dict[str, str], db: AsyncEngine
) -> None:
    """What ``pg_dump`` would print of the file tables holds no run of the file's bytes."""
    original = evidence.pdf_with_author()
    name = "bien-ban-loi-khai-nan-nhan.pdf"
    made = await send(intake, original, name, tip_id=tip["id"], headers=officer)
    attachment_id = made.json()["id"]
    async with db.connect() as conn:
        chunks = (
            (
                await conn.execute(
                    text("SELECT sealed FROM intake.stored_file_chunks WHERE file_id = :id"),
                    {"id": attachment_id},
                )
            )
            .scalars()
            .all()
        )
        rows = (
            (
                await conn.execute(
                    text(
                        "SELECT a.*, f.wrapped_key, f.key_id FROM intake.attachments a"
                        " JOIN intake.stored_files f ON f.id = a.id WHERE a.id = :id"
                    ),
                    {"id": attachment_id},
                )
            )
            .mappings()
            .all()
        )
    raw = b"".join(bytes(c) for c in chunks) + repr([dict(r) for r in rows]).encode()
    assert chunks and rows
    for start in range(0, len(original) - 16, 16):
        assert original[start : start + 16] not in raw
    for clear in (name.encode(), b"bien-ban", b"application/pdf", evidence.AUTHOR.encode()):
        assert clear not in raw


async def test_the_worker_deletes_the_files_of_an_unsubstantiated_tip_past_retention(
    settings_for: Callable[..., Any], auth: Auth, db: AsyncEngine
) -> None:
    settings = settings_for(IntakeSettings, attachment_purge_seconds=0.2)
    officer = auth("intake_officer", "01")
    async with running(create_app(settings)) as client:
        kept, gone = await file_tip(client), await file_tip(client)
        ids = {}
        for which in (kept, gone):
            made = await send(
                client, evidence.pdf_with_author(), "a.pdf", tip_id=which["id"], headers=officer
            )
            ids[which["id"]] = made.json()["id"]
            await classify(client, officer, which["id"])
            assert (
                await verify(client, officer, which["id"], "unsubstantiated")
            ).status_code == 200
        old = datetime.now(UTC) - timedelta(days=settings.attachment_retention_days + 1)
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE intake.tips SET resolved_at = :old WHERE id = :id"),
                {"old": old, "id": gone["id"]},
            )

        async def purged() -> bool:
            async with db.connect() as conn:
                left = (
                    (
                        await conn.execute(
                            text("SELECT id::text FROM intake.stored_files WHERE id = ANY(:ids)"),
                            {"ids": list(ids.values())},
                        )
                    )
                    .scalars()
                    .all()
                )
            return set(left) == {ids[kept["id"]]}

        await eventually(purged, timeout=20)
    async with db.connect() as conn:
        chunks = (
            await conn.execute(
                text("SELECT count(*) FROM intake.stored_file_chunks WHERE file_id = :id"),
                {"id": ids[gone["id"]]},
            )
        ).scalar_one()
    assert chunks == 0

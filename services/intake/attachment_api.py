"""Intake's routes of evidence files (``api.py`` holds the others): routes only, use cases in
``attachments.py``. The upload routes take multipart bodies of up to :data:`UPLOAD_BODY_BYTES`
(``app.py`` opens the body limit for them alone)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from libs.common import uploads
from libs.common.context import Purpose
from libs.common.files import MAX_FILE_BYTES
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.resident_keys import ResidentIdempotencyKeyHeader, check_random_key
from services.intake import attachments, receipts
from services.intake.access import DEFAULT_PURPOSE, FileReader, Officer, ReceiptHolder
from services.intake.schemas import AttachmentListed, AttachmentOut

router = APIRouter(prefix="/v1")

# One file and a receipt code, with room for the multipart framing; no more.
UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
UPLOAD_PATHS = {
    r"/v1/receipts/attachments": UPLOAD_BODY_BYTES,
    r"/v1/tips/[^/]+/attachments": UPLOAD_BODY_BYTES,
}

FileField = Annotated[
    UploadFile,
    File(
        description="JPEG, PNG, WebP, HEIC, PDF, MP3, M4A, OGG or MP4, at most 25 MiB; the "
        "type is read from the bytes"
    ),
]


@router.post(
    "/receipts/attachments",
    status_code=201,
    response_model=AttachmentOut,
    tags=["receipts"],
)
async def add_receipt_attachment(
    receipt_code: Annotated[str, Form(min_length=1, max_length=64)],
    file: FileField,
    ctx: ReceiptHolder,
    request: Request,
    idempotency_key: ResidentIdempotencyKeyHeader = None,
) -> JSONResponse:
    """The reporter adds a photo, a voice note or a document to their tip. Its metadata (the
    GPS position and the phone model of a photo, a document's author) is removed before it is
    stored. Guessing codes and flooding are limited as on the other receipt routes. An
    ``Idempotency-Key`` is required, a UUID v4 or v7 new for each file."""
    check_random_key(idempotency_key)  # before the code is tried: a refusal costs no guess
    client = await receipts.receipt_client(request)
    if not await receipts.known_code(request, ctx.index, receipt_code):
        raise await receipts.wrong_code(request, client)
    flood = receipts.guard_filing(request, ctx.principal)
    upload = uploads.Upload(file.filename, file.file)
    scope = "receipt:" + receipts.receipt_hash(ctx.index, receipt_code)
    response = await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        scope,
        lambda: attachments.add_from_reporter(ctx, receipt_code, upload),
        fingerprint=await uploads.fingerprint(upload),
        headers={"Cache-Control": "no-store"},
        anonymous=True,
    )
    return receipts.charge_filing(request, flood, response)


@router.post(
    "/tips/{tip_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    tags=["tips"],
)
async def add_tip_attachment(
    tip_id: UUID,
    file: FileField,
    ctx: Officer,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """An officer's evidence, kept byte for byte; the SHA-256 taken on receipt is returned and
    kept with who uploaded it and when (chain of custody)."""
    upload = uploads.Upload(file.filename, file.file)
    return await ctx.idempotency.run(
        ctx.session,
        request,
        idempotency_key,
        ctx.sub,
        lambda: attachments.add_from_officer(ctx, tip_id, upload),
        fingerprint=await uploads.fingerprint(upload),
    )


@router.get("/tips/{tip_id}/attachments", response_model=list[AttachmentListed], tags=["tips"])
async def list_tip_attachments(tip_id: UUID, ctx: Officer) -> list[AttachmentListed]:
    """The tip's files, oldest first, without their content (at most 20)."""
    return await attachments.list_for_tip(ctx, tip_id)


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the bytes"}},
    tags=["tips"],
)
async def download_attachment(
    attachment_id: UUID,
    ctx: FileReader,
    request: Request,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> StreamingResponse:
    """The file's bytes, decrypted as they are sent. Every download is audited (who, which
    file, and why: ``X-Purpose``) before the first byte leaves."""
    attachment = await attachments.open_for_download(ctx, attachment_id, purpose)
    return StreamingResponse(
        uploads.stored_content(request.app.state.db, ctx.files, attachment.id),
        media_type=attachment.media_type,
        headers=uploads.download_headers(attachment.filename, attachment.size),
    )

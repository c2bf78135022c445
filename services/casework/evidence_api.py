"""Casework's routes of evidence files (``api.py`` holds the others): routes only, use cases in
``evidence.py``. The upload route takes multipart bodies of up to :data:`UPLOAD_BODY_BYTES`
(``app.py`` opens the body limit for it alone)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from libs.common import uploads
from libs.common.context import Purpose
from libs.common.files import MAX_FILE_BYTES
from libs.common.idempotency import IdempotencyKeyHeader
from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from services.casework import evidence
from services.casework.access import EvidenceOfficer
from services.casework.schemas import EvidenceListed, EvidenceOut

router = APIRouter(prefix="/v1")
DEFAULT_PURPOSE = "case handling"

# One file, with room for the multipart framing; no more.
UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
UPLOAD_PATHS = {r"/v1/cases/[^/]+/evidence": UPLOAD_BODY_BYTES}

FileField = Annotated[
    UploadFile,
    File(
        description="JPEG, PNG, WebP, HEIC, PDF, MP3, M4A, OGG or MP4, at most 25 MiB; the "
        "type is read from the bytes"
    ),
]


@router.post(
    "/cases/{case_id}/evidence", status_code=201, response_model=EvidenceOut, tags=["evidence"]
)
async def add_evidence(
    case_id: UUID,
    file: FileField,
    ctx: EvidenceOfficer,
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
        lambda: evidence.add(ctx, case_id, upload),
        fingerprint=await uploads.fingerprint(upload),
    )


@router.get("/cases/{case_id}/evidence", response_model=Page[EvidenceListed], tags=["evidence"])
async def list_evidence(
    case_id: UUID, ctx: EvidenceOfficer, limit: Limit = 50, cursor: Cursor = None
) -> Page[EvidenceListed]:
    """The case's files and those of the tip that opened it (``origin``), newest first, without
    their content."""
    items = await evidence.list_for_case(ctx, case_id, time_keyset(cursor), limit)
    return Page(items=items, next_cursor=time_cursor(items, "uploaded_at", limit))


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the bytes"}},
    tags=["evidence"],
)
async def download_evidence(
    evidence_id: UUID,
    ctx: EvidenceOfficer,
    request: Request,
    purpose: Purpose = DEFAULT_PURPOSE,
) -> StreamingResponse:
    """The file's bytes, decrypted as they are sent (a tip's file comes from intake). Every
    download is audited (who, which file, and why: ``X-Purpose``) before the first byte
    leaves."""
    found = await evidence.download(
        ctx,
        evidence_id,
        purpose,
        db=request.app.state.db,
        authorization=request.headers["authorization"],
        language=request.headers.get("accept-language"),
        transport=getattr(request.app.state, "intake_transport", None),
    )
    return StreamingResponse(
        found.content,
        media_type=found.media_type,
        headers=uploads.download_headers(found.filename, found.size),
    )

"""Evidence files of cases. An investigator's or a prosecutor's file is kept as it came, with the
SHA-256 taken on receipt, the uploader and the time (chain of custody); its bytes go to the file
store (``ctx.files``), encrypted in chunks. The files of the tip that opened the case are listed
with it: casework keeps their metadata from intake's events and fetches their bytes from intake
when they are downloaded. Every download is audited like every read of personal data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import httpx

from libs.common import files
from libs.common.auth import Principal
from libs.common.db import Database
from libs.common.errors import Conflict, NotFound
from libs.common.ids import new_id
from libs.common.uploads import Upload, chunks_of, stored_content
from libs.contracts.intake import TipAttachmentAdded
from services.casework import access, evidence_repository, intake_files, repository
from services.casework.access import Ctx
from services.casework.domain import CaseStatus
from services.casework.models import Case, Evidence, TipFile
from services.casework.schemas import EvidenceListed, EvidenceOut

CASE, TIP = "case", "tip"


async def add(ctx: Ctx, case_id: UUID, upload: Upload) -> EvidenceOut:
    """An officer's file on a case in their jurisdiction that is not closed: typed from its
    bytes (415 otherwise, 413 past 25 MiB), then streamed to the store as it is."""
    principal = ctx.require_principal()
    found = await repository.get_case(ctx.session, case_id, for_update=True)
    case = access.writable(principal, found)
    if case.status == CaseStatus.closed.value:
        raise Conflict("the case is closed")
    kind = await asyncio.to_thread(files.inspect, upload.file)
    evidence_id = new_id()
    stored = await ctx.files.write(ctx.session, evidence_id, chunks_of(upload.file))
    evidence = Evidence(
        id=evidence_id,
        case_id=case.id,
        filename=files.safe_filename(upload.filename, kind),
        media_type=kind.value,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by=principal.sub,
        uploaded_at=ctx.now,
    )
    await repository.save(ctx.session, evidence)
    return EvidenceOut.model_validate(evidence)


def _listed(row: Evidence | TipFile) -> EvidenceListed:
    if isinstance(row, Evidence):
        return EvidenceListed(
            id=row.id,
            filename=row.filename,
            media_type=row.media_type,
            size=row.size,
            sha256=row.sha256,
            origin=CASE,
            source="officer",
            uploaded_by=row.uploaded_by,
            uploaded_at=row.uploaded_at,
        )
    return EvidenceListed(
        id=row.id,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        origin=TIP,
        source="public" if row.source == "public" else "officer",
        tip_id=row.tip_id,
        uploaded_at=row.uploaded_at,
    )


async def list_for_case(
    ctx: Ctx, case_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[EvidenceListed]:
    """The case's own files and its tip's, newest first, without their content; a case outside
    the caller's jurisdiction reads as one that does not exist."""
    case = access.readable(ctx.require_principal(), await repository.get_case(ctx.session, case_id))
    rows: list[Evidence | TipFile] = list(
        await evidence_repository.of_case(ctx.session, case.id, after, limit)
    )
    if case.tip_id is not None:
        rows += await evidence_repository.of_tip(ctx.session, case.tip_id, after, limit)
    rows.sort(key=lambda row: (row.uploaded_at, row.id), reverse=True)
    return [_listed(row) for row in rows[:limit]]


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    size: int | None
    content: AsyncIterator[bytes]


def _visible(principal: Principal, case: Case) -> None:
    if not principal.covers(case.ward_code):
        raise NotFound("no such file")


async def download(
    ctx: Ctx,
    evidence_id: UUID,
    purpose: str,
    *,
    db: Database,
    authorization: str,
    language: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Download:
    """A file of a case the caller may read, audited (who, which file, why) before any byte
    leaves: the case's own from the store, its tip's from intake with the caller's token."""
    principal = ctx.require_principal()
    own = await evidence_repository.get_evidence(ctx.session, evidence_id)
    if own is not None:
        evidence, case = own
        _visible(principal, case)
        await _audit(ctx, evidence, case, purpose, CASE)
        content = stored_content(db, ctx.files, evidence.id)
        return Download(evidence.filename, evidence.media_type, evidence.size, content)
    found = await evidence_repository.get_tip_file(ctx.session, evidence_id)
    if found is None:
        raise NotFound("no such file")
    tip_file, case = found
    _visible(principal, case)
    await _audit(ctx, tip_file, case, purpose, TIP)
    upstream = await intake_files.open_tip_file(
        ctx.settings,
        tip_file.id,
        authorization=authorization,
        purpose=purpose,
        language=language,
        transport=transport,
    )
    return Download(tip_file.filename, tip_file.media_type, upstream.length, upstream.chunks())


async def _audit(ctx: Ctx, row: Evidence | TipFile, case: Case, purpose: str, origin: str) -> None:
    details = {"case_id": str(case.id), "origin": origin, "sha256": row.sha256, "size": row.size}
    await ctx.record("download", "evidence", row.id, purpose, details)


async def tip_file_added(ctx: Ctx, file: TipAttachmentAdded) -> None:
    """A file joined a tip: its metadata is kept by the tip, so it shows on the tip's case
    whether the case opened before or after it came."""
    await evidence_repository.insert_tip_file(ctx.session, file, ctx.now)

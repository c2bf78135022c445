"""Evidence files of tips: a reporter's, cleaned of its metadata before anything is stored, and an
officer's, kept as it came with the SHA-256 taken on receipt (chain of custody). Bytes go to the
file store (``ctx.files``), encrypted in chunks; the rows and the event go with them in one
transaction. Downloads are audited like every read of personal data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

from libs.common import files
from libs.common.errors import Conflict, Forbidden, NotFound, PayloadTooLarge
from libs.common.ids import new_id
from libs.common.statemachine import RuleViolation
from libs.common.uploads import Upload, chunks_of, pieces
from libs.contracts.intake import TipAttachmentAdded
from services.intake import access, attachment_repository, domain, receipts, repository
from services.intake.access import Ctx
from services.intake.models import Attachment, Tip
from services.intake.schemas import AttachmentListed, AttachmentOut

PUBLIC, OFFICER = "public", "officer"
PURGE_BATCH = 200


async def _tip_for_files(ctx: Ctx, tip: Tip) -> None:
    """The tip takes one more file (409 if its status does not, 413 if it is full)."""
    domain.TIP_LIFECYCLE.take(domain.TipStatus(tip.status), domain.TipAction.attach_file)
    try:
        domain.check_file_count(await attachment_repository.count_of(ctx.session, tip.id))
    except RuleViolation as exc:
        raise PayloadTooLarge(exc.reason) from exc


async def _store(ctx: Ctx, tip: Tip, upload: Upload, source: str) -> AttachmentOut:
    """Typed from its bytes; the public's file cleaned (in a thread: Pillow and pypdf are CPU
    work), the officer's streamed as it is; then the row and the event."""
    kind = await asyncio.to_thread(files.inspect, upload.file)
    content: AsyncIterator[bytes]
    if source == PUBLIC:
        cleaned = await asyncio.to_thread(files.clean, upload.file, kind)
        content = pieces(cleaned)
    else:
        content = chunks_of(upload.file)
    attachment_id = new_id()
    stored = await ctx.files.write(ctx.session, attachment_id, content)
    attachment = Attachment(
        id=attachment_id,
        tip_id=tip.id,
        filename=files.safe_filename(upload.filename, kind),
        media_type=kind.value,
        size=stored.size,
        sha256=stored.sha256,
        source=source,
        uploaded_by=ctx.principal.sub if ctx.principal is not None else None,
        uploaded_at=ctx.now,
    )
    receipts.touch(tip, ctx)
    await repository.save(ctx.session, attachment, tip)
    await ctx.emit(
        "intake.tip.attachment_added",
        tip.id,
        TipAttachmentAdded(
            attachment_id=attachment.id,
            tip_id=tip.id,
            filename=attachment.filename,
            media_type=attachment.media_type,
            size=attachment.size,
            sha256=attachment.sha256,
            source=source,
            uploaded_at=ctx.now,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
        ),
    )
    return AttachmentOut.model_validate(attachment)


async def add_from_reporter(ctx: Ctx, code: str, upload: Upload) -> AttachmentOut:
    """The reporter's file, with the receipt code as the only credential."""
    receipt = await repository.receipt_by_hash(ctx.session, receipts.receipt_hash(ctx.index, code))
    if receipt is None:
        raise NotFound("no report with this receipt code")
    if receipt.subject_kind != "tip":
        raise Conflict("files are added to tips; a missing-person report takes none")
    tip = await repository.get_tip(ctx.session, receipt.subject_id, for_update=True)
    assert tip is not None
    await _tip_for_files(ctx, tip)
    return await _store(ctx, tip, upload, PUBLIC)


async def add_from_officer(ctx: Ctx, tip_id: UUID, upload: Upload) -> AttachmentOut:
    principal = ctx.require_principal()
    tip = await repository.get_tip(ctx.session, tip_id, for_update=True)
    if tip is None:
        raise NotFound("no such tip")
    if not access.can_see(principal, tip, ctx.settings.triage_province):
        raise Forbidden("this tip is outside your jurisdiction")
    await _tip_for_files(ctx, tip)
    return await _store(ctx, tip, upload, OFFICER)


async def list_for_tip(ctx: Ctx, tip_id: UUID) -> list[AttachmentListed]:
    """A tip's files, oldest first, without their content."""
    principal = ctx.require_principal()
    tip = await repository.get_tip(ctx.session, tip_id)
    if tip is None or not access.can_see(principal, tip, ctx.settings.triage_province):
        raise NotFound("no such tip")
    rows = await attachment_repository.of_tip(ctx.session, tip.id)
    return [AttachmentListed.model_validate(row) for row in rows]


async def open_for_download(ctx: Ctx, attachment_id: UUID, purpose: str) -> Attachment:
    """The file's row, once the caller may read its tip; the download is audited before any
    byte leaves (who, which file, why)."""
    principal = ctx.require_principal()
    found = await attachment_repository.get(ctx.session, attachment_id)
    if found is None or not access.can_see(principal, found[1], ctx.settings.triage_province):
        raise NotFound("no such file")
    attachment, tip = found
    await ctx.record(
        "download",
        "attachment",
        attachment.id,
        purpose,
        {"tip_id": str(tip.id), "sha256": attachment.sha256, "size": attachment.size},
    )
    return attachment


async def purge_past_retention(ctx: Ctx) -> int:
    """The worker's part: files of tips closed as unsubstantiated past the retention period
    are deleted, rows and chunks, a batch per run."""
    cutoff = domain.files_purge_cutoff(ctx.now, ctx.settings.attachment_retention_days)
    ids = await attachment_repository.past_retention(ctx.session, cutoff, PURGE_BATCH)
    if ids:
        await attachment_repository.delete_rows(ctx.session, ids)
        await ctx.files.delete(ctx.session, ids)
    return len(ids)

"""Casework's queries of evidence files: a case's own (their rows; the bytes are the file
store's) and the metadata of its tip's files (the bytes are intake's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.contracts.intake import TipAttachmentAdded
from services.casework.models import Case, Evidence, TipFile


async def insert_tip_file(session: AsyncSession, file: TipAttachmentAdded, now: datetime) -> None:
    """Once per file, however often intake's event is seen."""
    await session.execute(
        insert(TipFile)
        .values(
            id=file.attachment_id,
            tip_id=file.tip_id,
            filename=file.filename,
            media_type=file.media_type,
            size=file.size,
            sha256=file.sha256,
            source=file.source,
            uploaded_at=file.uploaded_at,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=[TipFile.id])
    )


async def of_case(
    session: AsyncSession, case_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Evidence]:
    """A case's own files, newest first, after ``after``."""
    query = select(Evidence).where(Evidence.case_id == case_id)
    if after is not None:
        query = query.where(tuple_(Evidence.uploaded_at, Evidence.id) < tuple_(*after))
    query = query.order_by(Evidence.uploaded_at.desc(), Evidence.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def of_tip(
    session: AsyncSession, tip_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[TipFile]:
    """A tip's files, newest first, after ``after``."""
    query = select(TipFile).where(TipFile.tip_id == tip_id)
    if after is not None:
        query = query.where(tuple_(TipFile.uploaded_at, TipFile.id) < tuple_(*after))
    query = query.order_by(TipFile.uploaded_at.desc(), TipFile.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def get_evidence(session: AsyncSession, evidence_id: UUID) -> tuple[Evidence, Case] | None:
    query = select(Evidence, Case).join(Case, Case.id == Evidence.case_id)
    row = (await session.execute(query.where(Evidence.id == evidence_id))).first()
    return None if row is None else (row[0], row[1])


async def get_tip_file(session: AsyncSession, file_id: UUID) -> tuple[TipFile, Case] | None:
    """A tip's file with the case its tip opened; None if the tip has no case here."""
    query = select(TipFile, Case).join(Case, Case.tip_id == TipFile.tip_id)
    row = (await session.execute(query.where(TipFile.id == file_id))).first()
    return None if row is None else (row[0], row[1])

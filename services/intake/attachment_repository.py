"""Intake's queries of evidence files (their rows; the bytes are the file store's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.domain import TipStatus, VerificationOutcome
from services.intake.models import Attachment, Tip


async def count_of(session: AsyncSession, tip_id: UUID) -> int:
    query = select(func.count()).select_from(Attachment).where(Attachment.tip_id == tip_id)
    return int((await session.execute(query)).scalar_one())


async def of_tip(session: AsyncSession, tip_id: UUID) -> Sequence[Attachment]:
    query = (
        select(Attachment)
        .where(Attachment.tip_id == tip_id)
        .order_by(Attachment.uploaded_at, Attachment.id)
    )
    return (await session.execute(query)).scalars().all()


async def get(session: AsyncSession, attachment_id: UUID) -> tuple[Attachment, Tip] | None:
    query = select(Attachment, Tip).join(Tip, Tip.id == Attachment.tip_id)
    row = (await session.execute(query.where(Attachment.id == attachment_id))).first()
    return None if row is None else (row[0], row[1])


async def past_retention(session: AsyncSession, cutoff: datetime, limit: int) -> list[UUID]:
    """Files of tips closed as unsubstantiated before ``cutoff``, oldest first."""
    query = (
        select(Attachment.id)
        .join(Tip, Tip.id == Attachment.tip_id)
        .where(
            Tip.status == TipStatus.closed.value,
            Tip.verification_outcome == VerificationOutcome.unsubstantiated.value,
            Tip.resolved_at < cutoff,
        )
        .order_by(Tip.resolved_at, Attachment.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars().all())


async def delete_rows(session: AsyncSession, ids: Sequence[UUID]) -> None:
    await session.execute(delete(Attachment).where(Attachment.id.in_(ids)))

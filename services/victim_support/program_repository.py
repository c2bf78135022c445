"""SQL of the NGO programs: programs, enrollments, deliveries and the consents they rest on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.victim_support.models import Consent, Enrollment, Program, Support


@dataclass(frozen=True)
class Stored:
    """A delivery recorded earlier under an ``external_id``, as a batch's answer names it."""

    support_id: UUID
    victim_id: UUID
    type: str
    amount_vnd: int
    delivered_on: date
    version: int


async def get_program(session: AsyncSession, program_id: UUID) -> Program | None:
    return await session.get(Program, program_id)


async def list_programs(
    session: AsyncSession, *, org: str | None, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Program]:
    """Newest first; only ``org``'s when it is given (an NGO lists its own)."""
    query = select(Program)
    if org is not None:
        query = query.where(Program.org == org)
    if after is not None:
        query = query.where(tuple_(Program.created_at, Program.id) < tuple_(*after))
    query = query.order_by(Program.created_at.desc(), Program.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def enrollments_of(session: AsyncSession, program_id: UUID) -> Sequence[Enrollment]:
    query = (
        select(Enrollment)
        .where(Enrollment.program_id == program_id)
        .order_by(Enrollment.enrolled_at)
    )
    return (await session.execute(query)).scalars().all()


async def enrolled_victims(
    session: AsyncSession, program_id: UUID, victim_ids: list[UUID]
) -> set[UUID]:
    if not victim_ids:
        return set()
    rows = await session.execute(
        select(Enrollment.victim_id).where(
            Enrollment.program_id == program_id, Enrollment.victim_id.in_(victim_ids)
        )
    )
    return set(rows.scalars())


async def enrollment_by_external_id(
    session: AsyncSession, program_id: UUID, external_id: str
) -> Enrollment | None:
    query = select(Enrollment).where(
        Enrollment.program_id == program_id, Enrollment.external_id == external_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def enrolled_by_external_ids(
    session: AsyncSession, program_id: UUID, external_ids: list[str]
) -> dict[str, UUID]:
    """The people the NGO enrolled under these references of its own: reference -> person."""
    if not external_ids:
        return {}
    rows = await session.execute(
        select(Enrollment.external_id, Enrollment.victim_id).where(
            Enrollment.program_id == program_id, Enrollment.external_id.in_(external_ids)
        )
    )
    return {external_id: victim_id for external_id, victim_id in rows.all()}


async def enrollment_external_id(
    session: AsyncSession, program_id: UUID, victim_id: UUID
) -> str | None:
    """The NGO's own reference for an enrolled person."""
    query = select(Enrollment.external_id).where(
        Enrollment.program_id == program_id, Enrollment.victim_id == victim_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def support_by_external_id(
    session: AsyncSession, program_id: UUID, external_id: str, *, for_update: bool = False
) -> Support | None:
    query = select(Support).where(
        Support.program_id == program_id, Support.external_id == external_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def deliveries_recorded(
    session: AsyncSession, program_id: UUID, external_ids: list[str]
) -> dict[str, Stored]:
    """The program's deliveries under these ``external_id``s, as a batch's answers name them."""
    if not external_ids:
        return {}
    rows = await session.execute(
        select(
            Support.external_id,
            Support.id,
            Support.victim_id,
            Support.type,
            Support.amount_vnd,
            Support.provided_on,
            Support.version,
        ).where(Support.program_id == program_id, Support.external_id.in_(external_ids))
    )
    return {
        row.external_id: Stored(
            row.id, row.victim_id, row.type, row.amount_vnd, row.provided_on, row.version
        )
        for row in rows.all()
        if row.external_id is not None
    }


async def delete_supports(session: AsyncSession, ids: list[UUID]) -> None:
    """Take back supports this transaction inserted (a batch that lost a race judges again)."""
    if ids:
        await session.execute(delete(Support).where(Support.id.in_(ids)))


async def program_report_rows(session: AsyncSession, program_id: UUID) -> list[tuple[Any, ...]]:
    """(type, month, count, amount) of the supports delivered under a program."""
    month = func.to_char(Support.provided_on, "YYYY-MM").label("month")
    rows = await session.execute(
        select(
            Support.type,
            month,
            func.count(),
            func.coalesce(func.sum(Support.amount_vnd), 0),
            func.count(func.distinct(Support.victim_id)),
        )
        .where(Support.program_id == program_id)
        .group_by(Support.type, month)
        .order_by(month, Support.type)
    )
    return [tuple(r) for r in rows.all()]


async def program_people(session: AsyncSession, program_id: UUID) -> int:
    """The people a program served, each counted once however many supports they received."""
    query = select(func.count(func.distinct(Support.victim_id))).where(
        Support.program_id == program_id
    )
    return int((await session.execute(query)).scalar_one())


async def consent_active(session: AsyncSession, victim_id: UUID, scope: str, org: str) -> bool:
    latest = (
        await session.execute(
            select(Consent.granted)
            .where(Consent.victim_id == victim_id, Consent.scope == scope, Consent.org == org)
            .order_by(Consent.recorded_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return bool(latest)


async def consents_for_org(
    session: AsyncSession, victim_ids: list[UUID], scope: str, org: str
) -> dict[UUID, bool]:
    if not victim_ids:
        return {}
    rows = await session.execute(
        select(Consent.victim_id, Consent.granted)
        .where(Consent.victim_id.in_(victim_ids), Consent.scope == scope, Consent.org == org)
        .order_by(Consent.victim_id, Consent.recorded_at.desc())
        .ext(distinct_on(Consent.victim_id))
    )
    return {victim_id: granted for victim_id, granted in rows.all()}


async def insert_enrollment(session: AsyncSession, enrollment: Enrollment) -> bool:
    """False when a concurrent enrollment of the person or the external_id won the race."""
    values = {col.key: getattr(enrollment, col.key) for col in Enrollment.__table__.columns}
    inserted = await session.execute(
        insert(Enrollment).values(**values).on_conflict_do_nothing().returning(Enrollment.id)
    )
    return inserted.first() is not None

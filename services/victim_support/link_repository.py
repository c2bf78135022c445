"""SQL of the links between two records of one person kept by two jurisdictions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.victim_support.domain import LinkStatus
from services.victim_support.models import Victim, VictimLink


async def places_of(
    session: AsyncSession, victim_ids: list[UUID]
) -> dict[UUID, tuple[str | None, str]]:
    """Where each person was received (ward, province): codes only, nothing decrypted."""
    if not victim_ids:
        return {}
    rows = await session.execute(
        select(Victim.id, Victim.ward_code, Victim.province_code).where(Victim.id.in_(victim_ids))
    )
    return {victim_id: (ward, province) for victim_id, ward, province in rows.all()}


async def get_link(
    session: AsyncSession, link_id: UUID, *, for_update: bool = False
) -> VictimLink | None:
    query = select(VictimLink).where(VictimLink.id == link_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def link_between(
    session: AsyncSession, victim_id: UUID, other_victim_id: UUID, *, for_update: bool = False
) -> VictimLink | None:
    query = select(VictimLink).where(
        VictimLink.victim_id == victim_id, VictimLink.other_victim_id == other_victim_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_links(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    victim_id: UUID | None,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[VictimLink]:
    """Links an office may know of: those whose first record it covers (its proposals, and the
    suggestions made to it), and those proposed to a record it covers (never a suggestion made
    to the other office, which would tell it that its person is known elsewhere)."""
    covered = select(Victim.id).where(scope)
    conditions: list[ColumnElement[bool]] = [
        or_(
            VictimLink.victim_id.in_(covered),
            and_(
                VictimLink.other_victim_id.in_(covered),
                VictimLink.status != LinkStatus.suggested.value,
            ),
        )
    ]
    if victim_id is not None:
        conditions.append(
            or_(VictimLink.victim_id == victim_id, VictimLink.other_victim_id == victim_id)
        )
    if status is not None:
        conditions.append(VictimLink.status == status)
    if after is not None:
        conditions.append(tuple_(VictimLink.created_at, VictimLink.id) < tuple_(*after))
    query = (
        select(VictimLink)
        .where(*conditions)
        .order_by(VictimLink.created_at.desc(), VictimLink.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def insert_proposal(session: AsyncSession, link: VictimLink) -> VictimLink | None:
    """The proposal, unless one between the same records was stored meanwhile (then None)."""
    values = {col.key: getattr(link, col.key) for col in VictimLink.__table__.columns}
    inserted = await session.execute(
        insert(VictimLink).values(**values).on_conflict_do_nothing().returning(VictimLink.id)
    )
    link_id = inserted.scalar_one_or_none()
    return None if link_id is None else await get_link(session, link_id)


async def settle_suggestion(
    session: AsyncSession, link: VictimLink, status: str, by: str, at: datetime
) -> None:
    """A suggestion between the same two records, the other way round, gets the same decision."""
    await session.execute(
        update(VictimLink)
        .where(
            VictimLink.victim_id == link.other_victim_id,
            VictimLink.other_victim_id == link.victim_id,
            VictimLink.status == LinkStatus.suggested.value,
        )
        .values(status=status, decided_by=by, decided_at=at)
    )

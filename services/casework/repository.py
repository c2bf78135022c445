"""Casework queries. Only this module builds SQL for casework's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from libs.common.auth import Principal
from libs.common.db import save as save  # the one writer of rows, used by the use cases
from libs.common.figures import tally
from libs.common.scoping import jurisdiction_clause
from libs.contracts.intake import TipReceived, TipVerified
from services.casework.models import (
    Case,
    CaseEvent,
    Party,
    PartyIndex,
    Ring,
    RingCase,
    TipRef,
)


def case_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(principal, Case.ward_code, Case.province_code)


async def insert_case_once(session: AsyncSession, case: Case) -> bool:
    """Insert the case unless its tip already has one (``tip_id`` is unique): concurrent
    openings of one tip give one case, never an integrity error."""
    values = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key != "updated_at"}
    inserted = await session.execute(
        insert(Case)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Case.tip_id])
        .returning(Case.id)
    )
    return inserted.first() is not None


async def get_case(
    session: AsyncSession, case_id: UUID, *, for_update: bool = False
) -> Case | None:
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def tip_ref(session: AsyncSession, tip_id: UUID) -> TipRef | None:
    """Casework's read model of a tip (from intake's events), or None if it never arrived."""
    return await session.get(TipRef, tip_id)


async def tip_received(session: AsyncSession, tip: TipReceived, now: datetime) -> None:
    await session.execute(
        insert(TipRef)
        .values(
            tip_id=tip.tip_id,
            status=tip.status,
            channel=tip.channel,
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            received_at=tip.received_at,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[TipRef.tip_id])
    )


async def update_tip(session: AsyncSession, tip_id: UUID, now: datetime, **values: Any) -> None:
    await session.execute(
        update(TipRef).where(TipRef.tip_id == tip_id).values(updated_at=now, **values)
    )


async def tip_verified(session: AsyncSession, tip: TipVerified, now: datetime) -> None:
    """The tip's outcome, whether or not its ``received`` event arrived first."""
    await session.execute(
        insert(TipRef)
        .values(
            tip_id=tip.tip_id,
            status=tip.status,
            channel="unknown",
            incident_ward_code=tip.incident_ward_code,
            province_code=tip.province_code,
            outcome=tip.outcome,
            received_at=tip.received_at,
            verified_at=tip.verified_at,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=[TipRef.tip_id],
            set_={
                "status": tip.status,
                "outcome": tip.outcome,
                "verified_at": tip.verified_at,
                "incident_ward_code": tip.incident_ward_code,
                "province_code": tip.province_code,
                "updated_at": now,
            },
        )
    )


async def parties_of(session: AsyncSession, case_id: UUID) -> Sequence[Party]:
    query = select(Party).where(Party.case_id == case_id).order_by(Party.added_at, Party.id)
    return (await session.execute(query)).scalars().all()


async def timeline_of(session: AsyncSession, case_id: UUID) -> Sequence[CaseEvent]:
    query = (
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
    )
    return (await session.execute(query)).scalars().all()


async def list_cases(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    status: str | None,
    tip_id: UUID | None,
    ward_code: str | None,
    overdue: bool | None,
    assignee: str | None,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
    clocks: Select[tuple[UUID]] | None = None,
) -> Sequence[Case]:
    """Newest first; ``clocks``: only these ids (a deadline window's)."""
    conditions: list[ColumnElement[bool]] = [scope]
    if assignee:
        conditions.append(Case.assignee == assignee)
    if status:
        conditions.append(Case.status == status)
    if tip_id:
        conditions.append(Case.tip_id == tip_id)
    if ward_code:
        conditions.append(Case.ward_code == ward_code)
    if overdue is not None:
        late = and_(
            Case.status != "closed", Case.stage_due_at.is_not(None), Case.stage_due_at < now
        )
        conditions.append(late if overdue else ~late)
    if clocks is not None:
        conditions.append(Case.id.in_(clocks))
    if after is not None:
        conditions.append(tuple_(Case.opened_at, Case.id) < tuple_(*after))
    query = (
        select(Case).where(*conditions).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def related_cases(
    session: AsyncSession, case_id: UUID, scope: ColumnElement[bool], limit: int = 200
) -> dict[UUID, set[str]]:
    """Other cases (within ``scope``) whose parties share a blind-indexed identifier."""
    mine = aliased(PartyIndex)
    theirs = aliased(PartyIndex)
    rows = await session.execute(
        select(theirs.case_id, theirs.kind)
        .join(mine, and_(mine.kind == theirs.kind, mine.digest == theirs.digest))
        .join(Case, Case.id == theirs.case_id)
        .where(mine.case_id == case_id, theirs.case_id != case_id, scope)
        .distinct()
        .limit(limit)
    )
    related: dict[UUID, set[str]] = {}
    for other, kind in rows.all():
        related.setdefault(other, set()).add(kind)
    return related


async def cases_by_ids(session: AsyncSession, ids: list[UUID]) -> Sequence[Case]:
    if not ids:
        return []
    query = select(Case).where(Case.id.in_(ids)).order_by(Case.opened_at.desc())
    return (await session.execute(query)).scalars().all()


async def get_ring(
    session: AsyncSession, ring_id: UUID, *, for_update: bool = False
) -> Ring | None:
    query = select(Ring).where(Ring.id == ring_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def add_ring_case(
    session: AsyncSession, ring_id: UUID, case_id: UUID, at: datetime, by: str
) -> None:
    await session.execute(
        insert(RingCase)
        .values(ring_id=ring_id, case_id=case_id, added_at=at, added_by=by)
        .on_conflict_do_nothing()
    )


async def ring_case_ids(session: AsyncSession, ring_id: UUID) -> list[UUID]:
    rows = await session.execute(select(RingCase.case_id).where(RingCase.ring_id == ring_id))
    return list(rows.scalars())


async def digests_of(session: AsyncSession, party_ids: list[UUID]) -> dict[UUID, dict[str, str]]:
    if not party_ids:
        return {}
    rows = await session.execute(
        select(PartyIndex.party_id, PartyIndex.kind, PartyIndex.digest).where(
            PartyIndex.party_id.in_(party_ids)
        )
    )
    found: dict[UUID, dict[str, str]] = {}
    for party_id, kind, digest in rows.all():
        found.setdefault(party_id, {})[kind] = digest
    return found


HOTSPOT_WARDS = 100  # the wards with the most cases opened, most first (then by code)


async def case_figures(
    session: AsyncSession,
    scope: ColumnElement[bool],
    period: tuple[datetime | None, datetime | None],
    ward_code: str | None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The counts behind the casework KPIs, each cohort taken by when its stage began, and the
    hotspots of the cases opened in the period: the counters, the wards, the destination
    countries and the trials per type in one pass over the area's cases (``tally``), the
    exploitation types in another (a case counts once for each type it lists)."""
    start, end = period

    def within(column: Any) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [column.is_not(None)]
        if start is not None:
            clauses.append(column >= start)
        if end is not None:
            clauses.append(column < end)
        return clauses

    base: list[ColumnElement[bool]] = [scope]
    if ward_code:
        base.append(Case.ward_code == ward_code)
    initiated, indicted = within(Case.initiated_at), within(Case.indicted_at)
    tried = Case.verdict_outcome.in_(["convicted", "acquitted"])
    counted = await tally(
        session,
        {
            "opened": within(Case.opened_at),
            "initiated": initiated,
            "initiated_then_indicted": [*initiated, Case.indicted_at.is_not(None)],
            "indicted": indicted,
            "indicted_then_tried": [*indicted, tried],
            "overdue": [Case.status != "closed", Case.stage_due_at < now],
            "trials": within(Case.trial_scheduled_for),
        },
        keys=(Case.ward_code, Case.destination_country, Case.trial_type),
        where=base,
    )
    counts: dict[str, Any] = dict(counted.total)
    # every trial type, zero or more (kpis lists them all)
    counts["trials"] = {t: c["trials"] for t, c in counted.per[2].items() if t}
    kind = func.unnest(Case.exploitation_types).label("kind")
    by_type = await session.execute(
        select(kind, func.count()).where(*base, *within(Case.opened_at)).group_by(kind)
    )
    hotspots = {
        "by_ward": [
            {"ward_code": w, "cases": n} for w, n in counted.ranked(0, "opened", HOTSPOT_WARDS)
        ],
        "by_exploitation_type": {k: n for k, n in by_type.all()},
        "by_destination_country": dict(counted.ranked(1, "opened")),
    }
    return counts, hotspots


async def substantiated_tip_figures(
    session: AsyncSession,
    principal: Principal,
    period: tuple[datetime | None, datetime | None],
    ward_code: str | None,
) -> tuple[int, int]:
    """(substantiated tips verified in the period, how many of them have an initiated case)."""
    start, end = period
    conditions: list[ColumnElement[bool]] = [
        jurisdiction_clause(principal, TipRef.incident_ward_code, TipRef.province_code),
        TipRef.outcome == "substantiated",
    ]
    if ward_code:
        conditions.append(TipRef.incident_ward_code == ward_code)
    if start is not None:
        conditions.append(TipRef.verified_at >= start)
    if end is not None:
        conditions.append(TipRef.verified_at < end)
    # Both sides index-only for a ward: ix_tip_refs_substantiated_ward, ix_cases_initiated_tip.
    initiated = and_(Case.tip_id == TipRef.tip_id, Case.initiated_at.is_not(None))
    row = (
        await session.execute(
            select(func.count(TipRef.tip_id), func.count(Case.tip_id))
            .select_from(TipRef)
            .outerjoin(Case, initiated)
            .where(*conditions)
        )
    ).one()
    return int(row[0]), int(row[1])


async def overdue_by_status(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Open cases past their stage deadline, counted per stage, across the whole country."""
    query = (
        select(Case.status, func.count())
        .where(Case.status != "closed", Case.stage_due_at.is_not(None), Case.stage_due_at < now)
        .group_by(Case.status)
    )
    return {str(status): int(n) for status, n in (await session.execute(query)).all()}

"""victim_support queries. Only this module builds SQL for the service's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.scoping import jurisdiction_clause
from services.victim_support.domain import PRESUMED, LinkStatus
from services.victim_support.models import (
    Consent,
    Enrollment,
    Program,
    ProtectionMeasure,
    Reintegration,
    Support,
    Victim,
    VictimEvent,
    VictimIndex,
    VictimLink,
)


def victim_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(principal, Victim.ward_code, Victim.province_code)


async def get_victim(
    session: AsyncSession, victim_id: UUID, *, for_update: bool = False
) -> Victim | None:
    query = select(Victim).where(Victim.id == victim_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


@dataclass(frozen=True)
class Match:
    """A person already received whom a new reception's identifiers match."""

    victim_id: UUID
    ward_code: str | None
    province_code: str
    in_scope: bool
    matched_on: list[str]


MAX_MATCHES = 20


async def matches_by_digests(
    session: AsyncSession, digests: dict[str, str], scope: ColumnElement[bool]
) -> list[Match]:
    """Persons already received with the same ID number or name + date of birth, oldest first,
    each marked with whether ``scope`` (the receiving jurisdiction) covers it. One query, the
    same whatever it finds, so that a match elsewhere costs no more time than one here."""
    if not digests:
        return []
    pairs = list(digests.items())
    rows = await session.execute(
        select(
            Victim.id,
            Victim.ward_code,
            Victim.province_code,
            scope.label("in_scope"),
            func.array_agg(VictimIndex.kind),
        )
        .join(VictimIndex, VictimIndex.victim_id == Victim.id)
        .where(tuple_(VictimIndex.kind, VictimIndex.digest).in_(pairs))
        .group_by(Victim.id)
        .order_by(Victim.received_at, Victim.id)
        .limit(MAX_MATCHES)
    )
    return [
        Match(victim_id, ward, province, bool(in_scope), sorted(set(kinds)))
        for victim_id, ward, province, in_scope, kinds in rows.all()
    ]


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


async def timeline_of(session: AsyncSession, victim_id: UUID) -> Sequence[VictimEvent]:
    query = (
        select(VictimEvent)
        .where(VictimEvent.victim_id == victim_id)
        .order_by(VictimEvent.at, VictimEvent.id)
    )
    return (await session.execute(query)).scalars().all()


async def protection_of(session: AsyncSession, victim_id: UUID) -> Sequence[ProtectionMeasure]:
    query = (
        select(ProtectionMeasure)
        .where(ProtectionMeasure.victim_id == victim_id)
        .order_by(ProtectionMeasure.recorded_at)
    )
    return (await session.execute(query)).scalars().all()


async def supports_of(session: AsyncSession, victim_id: UUID) -> Sequence[Support]:
    query = select(Support).where(Support.victim_id == victim_id).order_by(Support.provided_on)
    return (await session.execute(query)).scalars().all()


async def reintegration_of(session: AsyncSession, victim_id: UUID) -> Sequence[Reintegration]:
    query = (
        select(Reintegration)
        .where(Reintegration.victim_id == victim_id)
        .order_by(Reintegration.checked_on)
    )
    return (await session.execute(query)).scalars().all()


async def consents_in_force(session: AsyncSession, victim_id: UUID) -> list[Consent]:
    """The latest consent entry per (scope, org)."""
    rows = (
        (
            await session.execute(
                select(Consent)
                .where(Consent.victim_id == victim_id)
                .order_by(Consent.scope, Consent.org, Consent.recorded_at.desc())
                .ext(distinct_on(Consent.scope, Consent.org))
            )
        )
        .scalars()
        .all()
    )
    return list(rows)


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


async def list_victims(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    status: str | None,
    case_id: UUID | None,
    source: str | None,
    overdue: bool | None,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Victim]:
    conditions: list[ColumnElement[bool]] = [scope]
    if status:
        conditions.append(Victim.status == status)
    if case_id:
        conditions.append(Victim.case_ids.contains([case_id]))
    if source:
        conditions.append(Victim.source == source)
    if overdue is not None:
        late = and_(
            Victim.status.in_([s.value for s in PRESUMED]), Victim.verification_due_at < now
        )
        conditions.append(late if overdue else ~late)
    if after is not None:
        conditions.append(tuple_(Victim.received_at, Victim.id) < tuple_(*after))
    query = (
        select(Victim)
        .where(*conditions)
        .order_by(Victim.received_at.desc(), Victim.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def get_program(session: AsyncSession, program_id: UUID) -> Program | None:
    return await session.get(Program, program_id)


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


async def victims_by_ids(
    session: AsyncSession, ids: list[UUID], *, for_update: bool = False
) -> dict[UUID, Victim]:
    """The persons by id; ``for_update`` locks them in id order (no deadlock between batches)."""
    if not ids:
        return {}
    query = select(Victim).where(Victim.id.in_(ids)).order_by(Victim.id)
    if for_update:
        query = query.with_for_update()
    rows = await session.execute(query)
    return {v.id: v for v in rows.scalars()}


async def supports_by_external_ids(
    session: AsyncSession, program_id: UUID, external_ids: list[str]
) -> dict[str, Support]:
    if not external_ids:
        return {}
    rows = await session.execute(
        select(Support).where(
            Support.program_id == program_id, Support.external_id.in_(external_ids)
        )
    )
    return {s.external_id: s for s in rows.scalars() if s.external_id}


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


async def victim_figures(
    session: AsyncSession, conditions: list[ColumnElement[bool]], now: datetime
) -> dict[str, Any]:
    decided = Victim.identification_outcome.is_not(None)
    identified = Victim.identification_outcome == "identified"
    presumed = Victim.status.in_([s.value for s in PRESUMED])
    with_needs = func.cardinality(Victim.needs) > 0
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(decided),
                func.count().filter(decided, Victim.identified_at <= Victim.verification_due_at),
                func.count().filter(presumed, Victim.verification_due_at < now),
                func.count().filter(identified),
                func.count().filter(identified, Victim.first_protected_at.is_not(None)),
                func.count().filter(identified, with_needs),
                func.count().filter(identified, with_needs, Victim.first_supported_at.is_not(None)),
            ).where(*conditions)
        )
    ).one()
    by_status = await session.execute(
        select(Victim.status, func.count()).where(*conditions).group_by(Victim.status)
    )
    by_ward = await session.execute(
        select(Victim.ward_code, func.count())
        .where(*conditions, Victim.ward_code.is_not(None))
        .group_by(Victim.ward_code)
        .order_by(func.count().desc())
        .limit(100)
    )
    by_source = await session.execute(
        select(Victim.source, func.count()).where(*conditions).group_by(Victim.source)
    )
    kind = func.unnest(Victim.exploitation_types).label("kind")
    by_type = await session.execute(select(kind, func.count()).where(*conditions).group_by(kind))
    keys = (
        "received",
        "decided",
        "decided_in_time",
        "overdue",
        "identified",
        "protected",
        "with_needs",
        "supported",
    )
    return {
        **dict(zip(keys, row, strict=True)),
        "by_status": {s: n for s, n in by_status.all()},
        "hotspots": {
            "by_ward": [{"ward_code": w, "victims_received": n} for w, n in by_ward.all()],
            "by_source": {s: n for s, n in by_source.all()},
            "by_exploitation_type": {k: n for k, n in by_type.all()},
        },
    }

"""SQL of the people received: the records, what hangs off them, how a returning person is
recognised, and the plan's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import save as save  # the one writer of rows, used by the use cases
from libs.common.scoping import jurisdiction_clause
from services.victim_support.domain import PRESUMED
from services.victim_support.models import (
    Consent,
    ProtectionMeasure,
    Reintegration,
    Support,
    Victim,
    VictimEvent,
    VictimIndex,
    VictimSource,
)


@dataclass
class Person:
    """A locked person as a delivery batch reads it and moves it along, delivery after
    delivery: what the rules and the ``victim_support.victim.supported`` event need."""

    id: UUID
    status: str
    version: int
    first_supported_at: datetime | None
    source: str
    ward_code: str | None
    province_code: str
    nationality: str
    is_minor: bool | None
    case_ids: list[UUID]


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
    ward_code: str | None = None,
    clocks: Select[tuple[UUID]] | None = None,
) -> Sequence[Victim]:
    """Newest first; ``clocks``: only these ids (a deadline window's)."""
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
    if ward_code:
        conditions.append(Victim.ward_code == ward_code)
    if clocks is not None:
        conditions.append(Victim.id.in_(clocks))
    if after is not None:
        conditions.append(tuple_(Victim.received_at, Victim.id) < tuple_(*after))
    query = (
        select(Victim)
        .where(*conditions)
        .order_by(Victim.received_at.desc(), Victim.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


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


async def people_for_deliveries(session: AsyncSession, ids: list[UUID]) -> dict[UUID, Person]:
    """The persons by id, locked in id order (no deadlock between batches), as a delivery batch
    reads them: two personal fields decrypted (nationality, minor), not the whole record."""
    if not ids:
        return {}
    v = Victim
    query = (
        select(
            v.id,
            v.status,
            v.version,
            v.first_supported_at,
            v.source,
            v.ward_code,
            v.province_code,
            v.nationality,
            v.is_minor,
            v.case_ids,
        )
        .where(v.id.in_(ids))
        .order_by(v.id)
        .with_for_update()
    )
    return {
        row.id: Person(
            id=row.id,
            status=row.status,
            version=row.version,
            first_supported_at=row.first_supported_at,
            source=row.source,
            ward_code=row.ward_code,
            province_code=row.province_code,
            nationality=row.nationality,
            is_minor=row.is_minor,
            case_ids=list(row.case_ids or []),
        )
        for row in (await session.execute(query)).all()
    }


HOTSPOT_WARDS = 100  # the wards that received the most people, most first (then by code)


async def victim_figures(
    session: AsyncSession,
    principal: Principal,
    *,
    ward_code: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The cohort received in [start, end) in the caller's jurisdiction (and ward), counted."""
    conditions: list[ColumnElement[bool]] = [victim_scope(principal)]
    if ward_code:
        conditions.append(Victim.ward_code == ward_code)
    if start is not None:
        conditions.append(Victim.received_at >= start)
    if end is not None:
        conditions.append(Victim.received_at < end)
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
        .order_by(func.count().desc(), Victim.ward_code)
        .limit(HOTSPOT_WARDS)
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


def receiving_scope(principal: Principal | None, province_code: str) -> ColumnElement[bool]:
    """Whose records a reception may link to: those the receiving social worker may see; for a
    reception from an event, those of the province the person is received in (issue 13)."""
    if principal is not None:
        return victim_scope(principal)
    return Victim.province_code == province_code


async def source_victim(session: AsyncSession, kind: str, ref: str) -> UUID | None:
    """The person an event's source (a case party, a partner's alert) was received as."""
    found = await session.get(VictimSource, (kind, ref))
    return None if found is None else found.victim_id


async def claim_source(
    session: AsyncSession, kind: str, ref: str, victim_id: UUID, at: datetime
) -> None:
    await session.execute(
        insert(VictimSource)
        .values(source_kind=kind, source_ref=ref, victim_id=victim_id, linked_at=at)
        .on_conflict_do_nothing()
    )


async def index_person(session: AsyncSession, victim_id: UUID, digests: dict[str, str]) -> None:
    """Remember how to recognise the person, including identifiers first given on a link."""
    for kind, digest in digests.items():
        await session.execute(
            insert(VictimIndex)
            .values(victim_id=victim_id, kind=kind, digest=digest)
            .on_conflict_do_nothing()
        )

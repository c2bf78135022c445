"""Intake queries. Only this module builds SQL for intake's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Table,
    and_,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.bulk import InsertTogether
from libs.common.db import save as save  # the one writer of rows, used by the use cases
from libs.common.deadlines import DeadlineWatch
from libs.common.outbox import Outbox
from libs.common.scoping import jurisdiction_clause
from services.intake import access
from services.intake.domain import BASE_PERIOD, DUE_SOON, OPEN_STATUSES
from services.intake.filing_rows import (
    Filing,
    NewPersonDigest,
    NewReceipt,
    NewTip,
    NewTipPerson,
    columns,
)
from services.intake.models import (
    Message,
    MissingPerson,
    PersonIndex,
    PossibleMatch,
    Receipt,
    Tip,
    TipExtension,
    TipPerson,
)

# A literal, not bound parameters: prepared statements get generic plans, and only a literal lets
# the planner use the partial indexes on open tips (ix_tips_open_*).
OPEN_TIP: ColumnElement[bool] = literal_column(
    "tips.status IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES)) + ")", Boolean
)


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


FILING_TIP_COLUMNS = columns(NewTip)
FILING_PERSON_COLUMNS = columns(NewTipPerson)
FILING_INDEX_COLUMNS = columns(NewPersonDigest)
FILING_RECEIPT_COLUMNS = columns(NewReceipt)


@cache
def _filing(outbox: Table, watches: Table) -> InsertTogether:
    return InsertTogether(
        [
            (_table(Tip), FILING_TIP_COLUMNS, False),
            (_table(TipPerson), FILING_PERSON_COLUMNS, True),
            (_table(PersonIndex), FILING_INDEX_COLUMNS, True),
            (_table(Receipt), FILING_RECEIPT_COLUMNS, False),
            (outbox, Outbox.INSERT_COLUMNS, False),
            (watches, DeadlineWatch.INSERT_COLUMNS, True),
        ]
    )


async def insert_filing(
    session: AsyncSession, outbox: Table, watches: Table, filing: Filing, event: dict[str, Any]
) -> None:
    """A new tip, its persons and their blind indexes, its receipt, its outbox event and the
    watches of its clocks, with one round trip."""
    rows = [[vars(filing.tip)], [vars(p) for p in filing.persons]]
    rows += [[vars(d) for d in filing.digests], [vars(filing.receipt)], [event], filing.watches]
    await _filing(outbox, watches).execute(session, rows)


def tip_scope(principal: Principal, triage_province: str | None = None) -> ColumnElement[bool]:
    """Tips inside the caller's jurisdiction, and the unlocated triage queue for its officers."""
    clause = jurisdiction_clause(principal, Tip.incident_ward_code, Tip.province_code)
    if access.triages(principal, triage_province):
        return or_(clause, Tip.incident_ward_code.is_(None))
    return clause


def missing_person_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(
        principal, MissingPerson.last_seen_ward_code, MissingPerson.province_code
    )


async def get_tip(session: AsyncSession, tip_id: UUID, *, for_update: bool = False) -> Tip | None:
    query = select(Tip).where(Tip.id == tip_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def persons_of(session: AsyncSession, tip_id: UUID) -> Sequence[TipPerson]:
    query = select(TipPerson).where(TipPerson.tip_id == tip_id).order_by(TipPerson.position)
    return (await session.execute(query)).scalars().all()


async def extensions_of(session: AsyncSession, tip_id: UUID) -> Sequence[TipExtension]:
    query = (
        select(TipExtension).where(TipExtension.tip_id == tip_id).order_by(TipExtension.granted_at)
    )
    return (await session.execute(query)).scalars().all()


async def messages_of(session: AsyncSession, kind: str, subject_id: UUID) -> Sequence[Message]:
    query = (
        select(Message)
        .where(Message.subject_kind == kind, Message.subject_id == subject_id)
        .order_by(Message.created_at, Message.id)
    )
    return (await session.execute(query)).scalars().all()


def add_receipt(session: AsyncSession, receipt: NewReceipt) -> None:
    session.add(Receipt(**vars(receipt)))


async def receipt_by_hash(session: AsyncSession, code_hash: str) -> Receipt | None:
    return await session.get(Receipt, code_hash)


async def possible_duplicates(
    session: AsyncSession, tip_id: UUID, visible: ColumnElement[bool]
) -> dict[UUID, list[str]]:
    """Other tips (visible to the caller) whose persons share a blind-indexed identifier."""
    mine = select(PersonIndex.kind, PersonIndex.digest).where(PersonIndex.tip_id == tip_id)
    rows = (
        await session.execute(
            select(PersonIndex.tip_id, PersonIndex.kind)
            .join(Tip, Tip.id == PersonIndex.tip_id)
            .where(
                tuple_(PersonIndex.kind, PersonIndex.digest).in_(mine),
                PersonIndex.tip_id != tip_id,
                visible,
            )
            .distinct()
            .order_by(PersonIndex.tip_id)
            .limit(200)
        )
    ).all()
    found: dict[UUID, list[str]] = {}
    for other, kind in rows:
        found.setdefault(other, []).append(kind)
    return {k: sorted(v) for k, v in found.items()}


async def list_tips(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    status: str | None,
    ward_code: str | None,
    priority: str | None,
    overdue: bool | None,
    due_soon: bool | None,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
    assignee: str | None = None,
    clocks: Select[tuple[UUID]] | None = None,
) -> Sequence[Tip]:
    """Newest first, keyset-paginated on (received_at, id); ``clocks``: only these ids."""
    conditions: list[ColumnElement[bool]] = [scope]
    if status:
        conditions.append(Tip.status == status)
    if assignee:
        conditions.append(Tip.assignee == assignee)
    if ward_code:
        conditions.append(Tip.incident_ward_code == ward_code)
    if priority:
        conditions.append(Tip.priority == priority)
    open_tip = OPEN_TIP
    if overdue is not None:
        late = and_(open_tip, Tip.resolution_due_at < now)
        conditions.append(late if overdue else ~late)
        if overdue:
            # Redundant but cheap: a deadline is never earlier than 20 days after receipt, so
            # the newest-first scan can start 20 days back.
            conditions.append(Tip.received_at < now - BASE_PERIOD)
    if due_soon is not None:
        soon = and_(open_tip, Tip.resolution_due_at >= now, Tip.resolution_due_at <= now + DUE_SOON)
        conditions.append(soon if due_soon else ~soon)
    if clocks is not None:
        conditions.append(Tip.id.in_(clocks))
    if after is not None:
        conditions.append(tuple_(Tip.received_at, Tip.id) < tuple_(*after))
    query = (
        select(Tip).where(*conditions).order_by(Tip.received_at.desc(), Tip.id.desc()).limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def get_missing_person(
    session: AsyncSession, mp_id: UUID, *, for_update: bool = False
) -> MissingPerson | None:
    query = select(MissingPerson).where(MissingPerson.id == mp_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def matches_of(session: AsyncSession, mp_id: UUID) -> Sequence[PossibleMatch]:
    query = (
        select(PossibleMatch)
        .where(PossibleMatch.missing_person_id == mp_id)
        .order_by(PossibleMatch.score.desc())
    )
    return (await session.execute(query)).scalars().all()


async def insert_possible_match(session: AsyncSession, values: dict[str, Any]) -> None:
    """A candidate, once (a redelivered ``match.found`` adds nothing)."""
    await session.execute(
        insert(PossibleMatch)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[PossibleMatch.id])
    )


async def decide_possible_match(
    session: AsyncSession,
    match_id: UUID,
    missing_person_id: UUID,
    *,
    status: str,
    decided_at: datetime,
) -> None:
    await session.execute(
        update(PossibleMatch)
        .where(PossibleMatch.id == match_id, PossibleMatch.missing_person_id == missing_person_id)
        .values(status=status, decided_at=decided_at)
    )


async def match_counts(session: AsyncSession, ids: list[UUID]) -> dict[UUID, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(PossibleMatch.missing_person_id, func.count())
        .where(PossibleMatch.missing_person_id.in_(ids))
        .group_by(PossibleMatch.missing_person_id)
    )
    return {mp_id: count for mp_id, count in rows.all()}


async def list_missing_persons(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    status: str | None,
    ward_code: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    publication: str | None = None,
) -> Sequence[MissingPerson]:
    conditions: list[ColumnElement[bool]] = [scope]
    if status:
        conditions.append(MissingPerson.status == status)
    if publication:
        conditions.append(MissingPerson.publication == publication)
    if ward_code:
        conditions.append(MissingPerson.last_seen_ward_code == ward_code)
    if after is not None:
        conditions.append(tuple_(MissingPerson.reported_at, MissingPerson.id) < tuple_(*after))
    query = (
        select(MissingPerson)
        .where(*conditions)
        .order_by(MissingPerson.reported_at.desc(), MissingPerson.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()

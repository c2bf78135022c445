"""Interagency queries of the missing-person read model and the matches; the rest of its SQL is
in ``repository.py``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, ColumnElement, cast, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.scoping import jurisdiction_clause
from services.interagency.models import Match, MatchKey, MissingPersonRef


async def upsert_missing_person(
    session: AsyncSession, values: dict[str, Any], name_keys: Collection[int]
) -> None:
    """Keep a reported missing person and its blocking keys (a report seen again changes
    nothing)."""
    statement = insert(MissingPersonRef).values(**values)
    added = await session.execute(
        statement.on_conflict_do_nothing(
            index_elements=[MissingPersonRef.missing_person_id]
        ).returning(MissingPersonRef.missing_person_id)
    )
    if added.first() is not None and name_keys:
        await session.execute(
            insert(MatchKey).on_conflict_do_nothing(),
            [{"digest": d, "missing_person_id": values["missing_person_id"]} for d in name_keys],
        )


async def close_missing_person(
    session: AsyncSession, missing_person_id: UUID, status: str, at: datetime
) -> None:
    """A resolved report is matched no more: its blocking keys go."""
    await session.execute(
        update(MissingPersonRef)
        .where(MissingPersonRef.missing_person_id == missing_person_id)
        .values(status=status, updated_at=at)
    )
    await session.execute(delete(MatchKey).where(MatchKey.missing_person_id == missing_person_id))


async def match_candidates(
    session: AsyncSession,
    *,
    name_keys: Collection[int],
    sex: str | None,
    birth_year: int | None,
    id_digest: str | None,
    phone_digest: str | None,
    limit: int,
    year_window: int = 5,
) -> list[MissingPersonRef]:
    """Open missing persons worth scoring: the same ID or phone digest, or a blocking key shared
    with the probe where sex and birth year (when known) agree; nearest birth years first."""
    found: dict[UUID, MissingPersonRef] = {}
    exact = [
        condition
        for condition in (
            MissingPersonRef.id_digest == id_digest if id_digest else None,
            MissingPersonRef.phone_digest == phone_digest if phone_digest else None,
        )
        if condition is not None
    ]
    if exact:
        rows = await session.execute(
            select(MissingPersonRef)
            .where(MissingPersonRef.status == "open", or_(*exact))
            .limit(limit)
        )
        found.update({r.missing_person_id: r for r in rows.scalars()})
    if name_keys:
        keyed = select(MatchKey.missing_person_id).where(
            MatchKey.digest == func.any(cast(list(name_keys), ARRAY(BigInteger)))
        )
        conditions: list[ColumnElement[bool]] = [
            MissingPersonRef.missing_person_id.in_(keyed),
            MissingPersonRef.status == "open",
        ]
        if sex in ("female", "male"):
            conditions.append(MissingPersonRef.sex.in_([sex, "other", "unknown"]))
        query = select(MissingPersonRef).where(*conditions)
        if birth_year is not None:
            query = query.where(
                or_(
                    MissingPersonRef.birth_year.is_(None),
                    MissingPersonRef.birth_year.between(
                        birth_year - year_window, birth_year + year_window
                    ),
                )
            ).order_by(func.abs(MissingPersonRef.birth_year - birth_year).nulls_last())
        rows = await session.execute(query.limit(limit))
        for ref in rows.scalars():
            found.setdefault(ref.missing_person_id, ref)
    return list(found.values())


async def insert_match(session: AsyncSession, values: dict[str, Any]) -> bool:
    result = await session.execute(
        insert(Match)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Match.missing_person_id, Match.alert_id])
        .returning(Match.id)
    )
    return result.first() is not None


async def get_match(
    session: AsyncSession, match_id: UUID, *, for_update: bool = False
) -> Match | None:
    query = select(Match).where(Match.id == match_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_missing_person(session: AsyncSession, mp_id: UUID) -> MissingPersonRef | None:
    return await session.get(MissingPersonRef, mp_id)


async def list_matches(
    session: AsyncSession,
    principal: Principal,
    *,
    missing_person_id: UUID | None,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Match]:
    query = select(Match).join(
        MissingPersonRef, MissingPersonRef.missing_person_id == Match.missing_person_id
    )
    query = query.where(
        jurisdiction_clause(
            principal, MissingPersonRef.last_seen_ward_code, MissingPersonRef.province_code
        )
    )
    if missing_person_id:
        query = query.where(Match.missing_person_id == missing_person_id)
    if status:
        query = query.where(Match.status == status)
    if after is not None:
        query = query.where(tuple_(Match.created_at, Match.id) < tuple_(*after))
    query = query.order_by(Match.created_at.desc(), Match.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()

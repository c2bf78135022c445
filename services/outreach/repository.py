"""outreach queries. Only this module builds SQL for the service's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import save as save  # the one writer of rows, used by the use cases
from libs.common.scoping import jurisdiction_clause
from services.outreach.domain import MASS_MEDIA
from services.outreach.models import (
    Activity,
    Campaign,
    Commendation,
    TargetGroup,
    WardPopulation,
)


def _activity_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(principal, Activity.ward_code, Activity.province_code)


def _activities_in(
    principal: Principal, held_from: date | None, held_to: date | None, ward_code: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_activity_scope(principal)]
    if held_from:
        conditions.append(Activity.held_on >= held_from)
    if held_to:
        conditions.append(Activity.held_on <= held_to)
    if ward_code:
        conditions.append(Activity.ward_code == ward_code)
    return conditions


def _population_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(principal, WardPopulation.ward_code, WardPopulation.province_code)


def _campaign_scope(principal: Principal) -> ColumnElement[bool]:
    return jurisdiction_clause(principal, Campaign.jurisdiction_code, Campaign.province_code)


async def campaign(session: AsyncSession, campaign_id: UUID) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def population(session: AsyncSession, ward_code: str, year: int) -> WardPopulation | None:
    return await session.get(WardPopulation, (ward_code, year))


async def target_group(session: AsyncSession, code: str) -> TargetGroup | None:
    return await session.get(TargetGroup, code)


async def list_campaigns(
    session: AsyncSession,
    principal: Principal,
    active_on: date | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Campaign]:
    conditions: list[ColumnElement[bool]] = [_campaign_scope(principal)]
    if active_on is not None:
        conditions += [Campaign.period_start <= active_on, Campaign.period_end >= active_on]
    if after is not None:
        conditions.append(tuple_(Campaign.created_at, Campaign.id) < tuple_(*after))
    query = (
        select(Campaign)
        .where(*conditions)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def list_activities(
    session: AsyncSession,
    principal: Principal,
    *,
    ward_code: str | None,
    campaign_id: UUID | None,
    held_from: date | None,
    held_to: date | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Activity]:
    conditions = _activities_in(principal, held_from, held_to, ward_code)
    if campaign_id:
        conditions.append(Activity.campaign_id == campaign_id)
    if after is not None:
        conditions.append(tuple_(Activity.created_at, Activity.id) < tuple_(*after))
    query = (
        select(Activity)
        .where(*conditions)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def ward_reach(
    session: AsyncSession,
    principal: Principal,
    held_from: date | None,
    held_to: date | None,
    ward_code: str | None,
) -> dict[str, int]:
    """Each ward's reach over the activities of the period, folded as :func:`domain.reached`
    folds a ward's activities: its direct contacts add up, and mass media count once, their
    largest audience. One row per ward comes back (a country's year is 200,000 activities in
    3,321 wards), read through the session's connection: plain rows, which the ORM's row loading
    (made for entities) would cost more to hand over than the database to fold."""
    conditions = _activities_in(principal, held_from, held_to, ward_code)
    mass_media = Activity.kind.in_(sorted(MASS_MEDIA))
    direct = func.coalesce(func.sum(Activity.people_reached).filter(~mass_media), 0)
    largest_audience = func.coalesce(func.max(Activity.people_reached).filter(mass_media), 0)
    connection = await session.connection()
    rows = await connection.execute(
        select(Activity.ward_code, direct + largest_audience)
        .where(*conditions)
        .group_by(Activity.ward_code)
    )
    return {ward: int(people) for ward, people in rows.all()}


async def latest_populations(
    session: AsyncSession, principal: Principal, up_to_year: int, ward_code: str | None
) -> dict[str, tuple[int, int]]:
    """Each ward's latest population dated no later than ``up_to_year``: (population, year)."""
    conditions: list[ColumnElement[bool]] = [
        _population_scope(principal),
        WardPopulation.year <= up_to_year,
    ]
    if ward_code:
        conditions.append(WardPopulation.ward_code == ward_code)
    rows = await session.execute(
        select(WardPopulation.ward_code, WardPopulation.population, WardPopulation.year)
        .where(*conditions)
        .order_by(WardPopulation.ward_code, WardPopulation.year.desc())
        .ext(distinct_on(WardPopulation.ward_code))
    )
    return {ward: (population, year) for ward, population, year in rows.all()}


async def activity_totals(
    session: AsyncSession,
    principal: Principal,
    held_from: date | None,
    held_to: date | None,
    ward_code: str | None,
) -> tuple[int, int, dict[str, int]]:
    """How many activities, the materials they handed out, and the people reached per target
    group, from one scan grouped by the activities' lists of groups (a country's year is 200,000
    activities but a few dozen distinct lists): each list's people count for every group in it,
    as ``unnest`` would count them, without expanding every row."""
    conditions = _activities_in(principal, held_from, held_to, ward_code)
    connection = await session.connection()
    rows = await connection.execute(
        select(
            Activity.target_groups,
            func.count(),
            func.coalesce(func.sum(Activity.materials_distributed), 0),
            func.coalesce(func.sum(Activity.people_reached), 0),
        )
        .where(*conditions)
        .group_by(Activity.target_groups)
    )
    count = materials = 0
    by_group: dict[str, int] = {}
    for groups, activities, handed_out, people in rows.all():
        count += activities
        materials += handed_out
        for group in groups or ():
            by_group[group] = by_group.get(group, 0) + int(people)
    return int(count), int(materials), by_group


async def commendation_count(
    session: AsyncSession, principal: Principal, held_from: date | None, held_to: date | None
) -> int:
    conditions: list[ColumnElement[bool]] = [
        jurisdiction_clause(principal, Commendation.ward_code, Commendation.province_code)
    ]
    if held_from:
        conditions.append(Commendation.awarded_on >= held_from)
    if held_to:
        conditions.append(Commendation.awarded_on <= held_to)
    return int((await session.execute(select(func.count()).where(*conditions))).scalar_one())


async def target_groups(session: AsyncSession) -> Sequence[TargetGroup]:
    return (await session.execute(select(TargetGroup).order_by(TargetGroup.code))).scalars().all()


async def active_group_codes(session: AsyncSession) -> set[str]:
    rows = await session.execute(select(TargetGroup.code).where(TargetGroup.active))
    return set(rows.scalars())

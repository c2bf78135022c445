"""Outreach's figures over whole provinces (``GET /v1/kpis``), summed from the daily rollups
(``REACH_ROLLUP``, ``GROUP_ROLLUP``, kept by triggers: libs/common/rollups.py): what
``repository.ward_reach`` and ``repository.activity_totals`` read from the activities. Mass
media's largest audience, a maximum, is read from the activities' index of it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.rollup_reads import period_slice
from services.outreach.domain import MASS_MEDIA
from services.outreach.models import Activity, reach_rollup, target_group_rollup


async def rolled_up_ward_reach(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> dict[str, int]:
    """Each ward's reach over the activities held in [first, after), in the caller's provinces:
    its direct contacts summed from the rollup, plus its largest mass-media audience."""
    period = period_slice(reach_rollup, first, after)
    connection = await session.connection()
    rows = await connection.execute(
        select(period.c.ward_code, func.sum(period.c.direct))
        .where(period.c.province_code.in_(list(principal.jurisdiction)))
        .group_by(period.c.ward_code)
        .having(func.sum(period.c.activities) != 0)
    )
    reach = {ward: int(direct) for ward, direct in rows.all()}
    for ward, audience in await largest_audiences(session, principal, first, after):
        reach[ward] = reach.get(ward, 0) + audience
    return reach


async def largest_audiences(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> list[tuple[str, int]]:
    """Each ward's largest mass-media audience in [first, after), in the caller's provinces:
    an index-only range per province of ``ix_activities_mass_media_reach``."""
    conditions: list[ColumnElement[bool]] = [
        Activity.kind.in_(sorted(MASS_MEDIA)),
        Activity.province_code.in_(list(principal.jurisdiction)),
    ]
    if first is not None:
        conditions.append(Activity.held_on >= first)
    if after is not None:
        conditions.append(Activity.held_on < after)
    connection = await session.connection()
    rows = await connection.execute(
        select(Activity.ward_code, func.max(Activity.people_reached))
        .where(*conditions)
        .group_by(Activity.ward_code)
    )
    return [(ward, int(audience)) for ward, audience in rows.all()]


async def rolled_up_activity_totals(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> tuple[int, int, dict[str, int]]:
    """How many activities were held in [first, after) in the caller's provinces, the
    materials handed out, and the people reached per target group (a list's people count for
    every group in it), summed per list of groups from the rollup."""
    period = period_slice(target_group_rollup, first, after)
    rows = await session.execute(
        select(
            period.c.target_groups,
            func.sum(period.c.activities),
            func.sum(period.c.materials),
            func.sum(period.c.people),
        )
        .where(period.c.province_code.in_(list(principal.jurisdiction)))
        .group_by(period.c.target_groups)
        .having(func.sum(period.c.activities) != 0)
    )
    count = materials = 0
    by_group: dict[str, int] = {}
    for groups, activities, handed_out, people in rows.all():
        count += int(activities)
        materials += int(handed_out)
        for group in groups:
            by_group[group] = by_group.get(group, 0) + int(people)
    return count, materials, by_group

"""Notifications' figures over whole provinces (``GET /v1/kpis``), summed from the daily rollup
(``NOTIFICATION_ROLLUP``, kept by triggers: libs/common/rollups.py): what
``repository.counts_by_kind`` counts over the rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.rollup_reads import period_slice
from services.notifications.models import notification_rollup


async def rolled_up_counts_by_kind(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> list[tuple[str, int, int]]:
    """(kind, created, read) of the notifications created in [first, after) about records of
    the caller's provinces (a kind may come with zeros, which the figures show anyway)."""
    period = period_slice(notification_rollup, first, after)
    created, read = func.sum(period.c.created), func.sum(period.c.read)
    rows = await session.execute(
        select(period.c.kind, created, read)
        .where(period.c.province_code.in_(list(principal.jurisdiction)))
        .group_by(period.c.kind)
    )
    return [(kind, int(c), int(r)) for kind, c, r in rows.all()]

"""Victim_support's figures over whole provinces (``GET /v1/kpis``), summed from the daily rollups
(``VICTIM_ROLLUP``, ``VICTIM_KIND_ROLLUP``, kept by triggers: libs/common/rollups.py): what
``repository.victim_figures`` counts over the rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.rollup_reads import period_slice, ward_sums
from services.victim_support.models import (
    VICTIM_ROLLUP,
    Victim,
    victim_kind_rollup,
    victim_rollup,
)
from services.victim_support.repository import HOTSPOT_WARDS, victim_scope

# A literal, so that the planner may use the partial index on presumed victims
# (ix_victims_presumed_due).
PRESUMED: ColumnElement[bool] = literal_column(
    "victims.status IN ('received', 'under_verification')", Boolean
)


async def rolled_up_victim_figures(
    session: AsyncSession,
    principal: Principal,
    *,
    first: date | None,
    after: date | None,
    period: tuple[datetime | None, datetime | None],
    now: datetime,
) -> dict[str, Any]:
    """The cohort received in [first, after) in the caller's provinces, counted from the
    rollups, and those of it still presumed past their verification deadline now."""
    provinces = list(principal.jurisdiction)
    rollup = period_slice(victim_rollup, first, after)
    sums = await ward_sums(
        session,
        rollup,
        VICTIM_ROLLUP.counters,
        where=rollup.c.province_code.in_(provinces),
        rank="received",
        limit=HOTSPOT_WARDS,
    )
    kinds = period_slice(victim_kind_rollup, first, after)
    per_kind = await session.execute(
        select(kinds.c.kind, kinds.c.value, func.sum(kinds.c.victims))
        .where(kinds.c.province_code.in_(provinces))
        .group_by(kinds.c.kind, kinds.c.value)
    )
    by_kind: dict[str, dict[str, int]] = {"status": {}, "source": {}, "type": {}}
    for kind, value, n in per_kind.all():
        if n:
            by_kind[kind][value] = int(n)
    return {
        **sums.total,
        "overdue": await overdue_presumed(session, principal, period, now),
        "by_status": by_kind["status"],
        "hotspots": {
            "by_ward": [{"ward_code": w, "victims_received": n["received"]} for w, n in sums.wards],
            "by_source": by_kind["source"],
            "by_exploitation_type": by_kind["type"],
        },
    }


async def overdue_presumed(
    session: AsyncSession,
    principal: Principal,
    period: tuple[datetime | None, datetime | None],
    now: datetime,
) -> int:
    """Victims of the area received in the period, still presumed, past their verification
    deadline (``ix_victims_presumed_due``)."""
    start, end = period
    where = [victim_scope(principal), PRESUMED, Victim.verification_due_at < now]
    if start is not None:
        where.append(Victim.received_at >= start)
    if end is not None:
        where.append(Victim.received_at < end)
    return int((await session.execute(select(func.count()).where(*where))).scalar_one())

"""Casework's figures over whole provinces (``GET /v1/kpis``), summed from the daily rollups
(``CASE_ROLLUP``, ``CASE_KIND_ROLLUP``, ``TIP_REF_ROLLUP``, ``OPEN_CASE_ROLLUP``, kept by triggers:
libs/common/rollups.py): what ``repository.case_figures`` and ``substantiated_tip_figures``
count over the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.figures import day_start
from libs.common.rollup_reads import period_slice, ward_sums
from libs.common.scoping import jurisdiction_clause
from services.casework.models import (
    CASE_ROLLUP,
    Case,
    TipRef,
    case_kind_rollup,
    case_rollup,
    open_case_rollup,
    tip_ref_rollup,
)
from services.casework.repository import HOTSPOT_WARDS

# A literal, so that the planner may use the partial index on open cases (ix_cases_open_due_area).
OPEN_CASE: ColumnElement[bool] = literal_column("cases.status <> 'closed'", Boolean)


async def rolled_up_case_figures(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cohorts (and trials) of [first, after) in the caller's provinces, and the hotspots
    of the cases opened in it."""
    provinces = list(principal.jurisdiction)
    counters = CASE_ROLLUP.counters
    rollup = period_slice(case_rollup, first, after)
    sums = await ward_sums(
        session,
        rollup,
        counters,
        where=rollup.c.province_code.in_(provinces),
        rank="opened",
        limit=HOTSPOT_WARDS,
    )
    totals = sums.total
    kinds = period_slice(case_kind_rollup, first, after)
    per_kind = await session.execute(
        select(kinds.c.kind, kinds.c.value, func.sum(kinds.c.cases))
        .where(kinds.c.province_code.in_(provinces))
        .group_by(kinds.c.kind, kinds.c.value)
        .order_by(func.sum(kinds.c.cases).desc(), kinds.c.value)
    )
    by_kind: dict[str, dict[str, int]] = {"type": {}, "country": {}}
    for kind, value, n in per_kind.all():
        if n:
            by_kind[kind][value] = int(n)
    counts = {
        "opened": totals["opened"],
        "initiated": totals["initiated"],
        "initiated_then_indicted": totals["initiated_then_indicted"],
        "indicted": totals["indicted"],
        "indicted_then_tried": totals["indicted_then_tried"],
        "trials": {t: totals[f"trials_{t}"] for t in ("standard", "mobile", "model")},
    }
    hotspots = {
        "by_ward": [{"ward_code": w, "cases": n["opened"]} for w, n in sums.wards],
        "by_exploitation_type": by_kind["type"],
        "by_destination_country": by_kind["country"],
    }
    return counts, hotspots


async def rolled_up_substantiated_tips(
    session: AsyncSession, principal: Principal, first: date | None, after: date | None
) -> tuple[int, int]:
    """(substantiated tips verified in [first, after) in the caller's provinces, how many of
    them have an initiated case). Over all time, a substantiated tip without a verification
    time (never written so, but counted by the recount) is counted from the rows."""
    rollup = period_slice(tip_ref_rollup, first, after)
    row = (
        await session.execute(
            select(func.sum(rollup.c.substantiated), func.sum(rollup.c.initiated)).where(
                rollup.c.province_code.in_(list(principal.jurisdiction))
            )
        )
    ).one()
    substantiated, initiated = int(row[0] or 0), int(row[1] or 0)
    if first is None and after is None:
        undated = (
            await session.execute(
                select(func.count(TipRef.tip_id), func.count(Case.initiated_at))
                .select_from(TipRef)
                .outerjoin(Case, Case.tip_id == TipRef.tip_id)
                .where(
                    jurisdiction_clause(principal, TipRef.incident_ward_code, TipRef.province_code),
                    TipRef.outcome == "substantiated",
                    TipRef.verified_at.is_(None),
                )
            )
        ).one()
        substantiated, initiated = substantiated + undated[0], initiated + undated[1]
    return substantiated, initiated


async def overdue_cases_of(
    session: AsyncSession, principal: Principal, scope: ColumnElement[bool], now: datetime
) -> int:
    """Open cases of the caller's provinces past their stage deadline: those due before today
    summed from ``open_case_rollup``, those due from today's start to now counted through
    ``ix_cases_open_due_area``, in one statement."""
    today = now.astimezone(UTC).date()
    rows = period_slice(open_case_rollup, None, today)
    before_today = (
        select(func.coalesce(func.sum(rows.c.cases), 0))
        .where(rows.c.province_code.in_(list(principal.jurisdiction)))
        .scalar_subquery()
    )
    query = select(func.count() + before_today).where(
        scope, OPEN_CASE, Case.stage_due_at >= day_start(today), Case.stage_due_at < now
    )
    return int((await session.execute(query)).scalar_one())

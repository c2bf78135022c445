"""The plan's victim figures, each with numerator and denominator, over the people received in
the period (and jurisdiction, and ward if asked); ``deadlines`` are the 3-day verifications still
open now, per ward. Over whole provinces the cohort is summed from the daily rollups
(``over_whole_provinces``), which ``ctip rollups check victim_support`` compares with a recount."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends

from libs.common.figures import (
    ProvinceFilter,
    day_start,
    plan_for_these_values,
    ratio,
    within_province,
)
from libs.common.open_clocks import deadline_figures
from libs.common.rollup_ops import over_whole_provinces
from services.victim_support import domain, figures_repository, repository
from services.victim_support.access import Ctx, Reader, ensure_covers
from services.victim_support.schemas import VictimKpis


def _figures_reader(ctx: Reader, province_code: ProvinceFilter = None) -> Ctx:
    """A reader of the figures, narrowed to the ``province_code`` asked (the plan report)."""
    return within_province(ctx, province_code)


FiguresReader = Annotated[Ctx, Depends(_figures_reader)]


async def victim_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> VictimKpis:
    principal = ctx.require_principal()
    if ward_code is not None:
        ensure_covers(principal, ward_code)
    await plan_for_these_values(ctx.session)
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, ward_code):
        f = await figures_repository.rolled_up_victim_figures(
            ctx.session,
            principal,
            first=period_from,
            after=period_to + timedelta(days=1) if period_to else None,
            period=(start, end),
            now=ctx.now,
        )
    else:
        f = await repository.victim_figures(
            ctx.session, principal, ward_code=ward_code, start=start, end=end, now=ctx.now
        )
    return VictimKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        received=f["received"],
        verified_ratio=ratio(f["decided"], f["received"]),
        identified_within_deadline_ratio=ratio(f["decided_in_time"], f["decided"] + f["overdue"]),
        protected_ratio=ratio(f["protected"], f["identified"]),
        supported_ratio=ratio(f["supported"], f["with_needs"]),
        overdue=f["overdue"],
        by_status=f["by_status"],
        hotspots=f["hotspots"],
        deadlines=await deadline_figures(
            ctx,
            record_type=domain.WATCHED_RECORD,
            kind=domain.VERIFICATION_CLOCK,
            ward_code=ward_code,
        ),
    )

"""The plan's casework figures, each with its numerator and denominator; each cohort is taken by
when its stage began. ``deadlines`` are the open cases' stage clocks of now, per ward. Over whole
provinces the cohorts are summed from the daily rollups (``over_whole_provinces``), which
``ctip rollups check casework`` compares with a recount."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.figures import day_start, plan_for_these_values, ratio
from libs.common.open_clocks import deadline_figures
from libs.common.rollup_ops import over_whole_provinces
from services.casework import domain, figures_repository, repository
from services.casework.access import Ctx, ensure_covers
from services.casework.schemas import CaseworkKpis


async def casework_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> CaseworkKpis:
    principal = ctx.require_principal()
    if ward_code is not None:
        ensure_covers(principal, ward_code)
    await plan_for_these_values(ctx.session)
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    session = ctx.session
    scope = repository.case_scope(principal)
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, ward_code):
        after = period_to + timedelta(days=1) if period_to else None
        counts, hotspots = await figures_repository.rolled_up_case_figures(
            session, principal, period_from, after
        )
        counts["overdue"] = await figures_repository.overdue_cases_of(
            session, principal, scope, ctx.now
        )
        substantiated, initiated = await figures_repository.rolled_up_substantiated_tips(
            session, principal, period_from, after
        )
    else:
        counts, hotspots = await repository.case_figures(
            session, scope, (start, end), ward_code, ctx.now
        )
        substantiated, initiated = await repository.substantiated_tip_figures(
            session, principal, (start, end), ward_code
        )
    trials = {"standard": 0, "mobile": 0, "model": 0, **counts["trials"]}
    return CaseworkKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        cases_opened=counts["opened"],
        initiated_ratio=ratio(initiated, substantiated),
        indicted_ratio=ratio(counts["initiated_then_indicted"], counts["initiated"]),
        tried_ratio=ratio(counts["indicted_then_tried"], counts["indicted"]),
        trials=trials,
        overdue=counts["overdue"],
        hotspots=hotspots,
        deadlines=await deadline_figures(
            ctx, record_type=domain.WATCHED_RECORD, kind=domain.STAGE_CLOCK, ward_code=ward_code
        ),
    )


async def overdue_cases(ctx: Ctx) -> dict[str, float]:
    """What the worker sets ``ctip_deadlines_overdue{kind="case_<stage>"}`` to, every minute."""
    counts = await repository.overdue_by_status(ctx.session, ctx.now)
    return {f"case_{status}": float(n) for status, n in counts.items()}

"""The plan's intake figures, each with its numerator and denominator (on-time resolution counts
tips whose outcome is due; ``overdue``, ``due_soon`` and ``deadlines`` are of now, whatever the
period: ``deadlines`` counts each open tip's ``resolution`` clock once, per ward). Over whole
provinces the period's counts are summed from the daily rollups (``over_whole_provinces``), which
``ctip rollups check intake`` compares with a recount."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.errors import Forbidden
from libs.common.figures import day_start, plan_for_these_values, ratio
from libs.common.open_clocks import deadline_figures
from libs.common.rollup_ops import over_whole_provinces
from services.intake import access, domain
from services.intake import figures_repository as repository
from services.intake.access import Ctx
from services.intake.schemas import IntakeKpis


async def intake_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> IntakeKpis:
    principal = ctx.require_principal()
    if ward_code is not None and not principal.covers(ward_code):
        raise Forbidden("that ward is outside your jurisdiction")
    await plan_for_these_values(ctx.session)
    counts_unlocated = access.unlocated_counted_by(principal, ctx.settings.triage_province)
    start = day_start(period_from) if period_from else None
    end = day_start(period_to + timedelta(days=1)) if period_to else None
    area, tips, reports = repository.figure_conditions(
        principal, counts_unlocated=counts_unlocated, ward_code=ward_code, start=start, end=end
    )
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, ward_code):
        counts, hotspots = await repository.rolled_up_tip_figures(
            ctx.session,
            principal,
            counts_unlocated=counts_unlocated,
            first=period_from,
            after=period_to + timedelta(days=1) if period_to else None,
        )
        of_now = await repository.open_tip_figures(
            ctx.session,
            principal,
            counts_unlocated=counts_unlocated,
            area=area,
            period=(start, end),
            now=ctx.now,
        )
        counts["overdue"] = of_now["overdue_received"]
        open_now = of_now
    else:
        counts, hotspots = await repository.counted_tip_figures(ctx.session, tips, ctx.now)
        open_now = await repository.open_tip_counts(ctx.session, area, ctx.now)
    reported, still_open = await repository.missing_person_figures(ctx.session, reports)
    received = counts["received"]
    return IntakeKpis(
        period_from=period_from,
        period_to=period_to,
        ward_code=ward_code,
        tips_received=received,
        classified_ratio=ratio(counts["classified"], received),
        verified_ratio=ratio(counts["verified"], received),
        resolved_within_deadline_ratio=ratio(
            counts["on_time"], counts["resolved"] + counts["overdue"]
        ),
        overdue=open_now["overdue"],
        due_soon=open_now["due_soon"],
        missing_persons_reported=reported,
        missing_persons_open=still_open,
        hotspots=hotspots,
        deadlines=await deadline_figures(
            ctx,
            record_type=domain.WATCHED_RECORD,
            kind=domain.TipClock.resolution,
            ward_code=ward_code,
        ),
    )

"""The plan's figures for outreach: coverage per ward and overall, and what was done to reach it.
Over whole provinces they are summed from the daily rollups (``figures_repository``), which
``ctip rollups check outreach`` compares with a recount."""

from __future__ import annotations

from datetime import date, timedelta

from libs.common.figures import plan_for_these_values
from libs.common.jurisdiction import name_of
from libs.common.rollup_ops import over_whole_provinces
from services.outreach import coverage, domain, figures_repository, repository
from services.outreach.access import Ctx, ensure_covers
from services.outreach.schemas import OutreachKpis, Place


async def outreach_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> OutreachKpis:
    principal = ctx.require_principal()
    if ward_code is not None:
        ensure_covers(principal, ward_code)
    await plan_for_these_values(ctx.session)
    wards, overall = await coverage.by_ward(
        ctx, period_from=period_from, period_to=period_to, ward_code=ward_code
    )
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, ward_code):
        after = period_to + timedelta(days=1) if period_to else None
        activities, materials, by_group = await figures_repository.rolled_up_activity_totals(
            ctx.session, principal, period_from, after
        )
    else:
        activities, materials, by_group = await repository.activity_totals(
            ctx.session, principal, period_from, period_to, ward_code
        )
    area = [ward_code] if ward_code is not None else list(principal.jurisdiction)
    return OutreachKpis(
        period_from=period_from,
        period_to=period_to,
        area=[Place(code=code, name=name_of(code) or code) for code in area],
        target=domain.TARGET,
        coverage_ratio=overall,
        wards=wards,
        wards_below_target=[w["ward_code"] for w in wards if w["meets_target"] is False],
        wards_without_population=[w["ward_code"] for w in wards if w["population"] is None],
        activities=activities,
        materials_distributed=materials,
        by_target_group=by_group,
        commendations=await repository.commendation_count(
            ctx.session, principal, period_from, period_to
        ),
    )

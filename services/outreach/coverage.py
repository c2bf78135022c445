"""Coverage against the 75% target: the wards' populations (its denominator), the taxonomy of
high-risk groups, and the reach of each ward counted by the domain's rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from libs.common.errors import NotFound
from libs.common.figures import Figure, ratio
from libs.common.jurisdiction import name_of, province_of
from libs.common.rollup_ops import over_whole_provinces
from services.outreach import domain, figures_repository, repository
from services.outreach.access import Ctx, ensure_covers
from services.outreach.models import TargetGroup, WardPopulation
from services.outreach.schemas import (
    PopulationIn,
    PopulationOut,
    TargetGroupIn,
    TargetGroupOut,
    WardCoverage,
)


async def set_population(ctx: Ctx, ward_code: str, data: PopulationIn) -> PopulationOut:
    session = ctx.session
    province = province_of(ward_code)
    if province is None or len(ward_code) != 5:
        raise NotFound("no such ward")
    ensure_covers(ctx.require_principal(), ward_code)
    row = await repository.population(session, ward_code, data.year)
    if row is None:
        row = WardPopulation(ward_code=ward_code, year=data.year, province_code=province)
    row.population = data.population
    row.source = data.source
    row.updated_at = ctx.now
    row.updated_by = ctx.sub
    await repository.save(session, row)
    return PopulationOut.model_validate(row)


async def target_groups(ctx: Ctx) -> Sequence[TargetGroup]:
    return await repository.target_groups(ctx.session)


async def put_target_group(ctx: Ctx, code: str, data: TargetGroupIn) -> TargetGroupOut:
    session = ctx.session
    row = await repository.target_group(session, code) or TargetGroup(code=code)
    row.name_vi, row.name_en, row.active = data.name_vi, data.name_en, data.active
    await repository.save(session, row)
    return TargetGroupOut.model_validate(row)


async def by_ward(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> tuple[list[WardCoverage], Figure]:
    """Each ward's coverage, and the overall ratio over the wards whose population is known.
    Over whole provinces the reach is summed from the daily rollup (``figures_repository``)."""
    session, principal = ctx.session, ctx.require_principal()
    if ctx.settings.kpi_rollups and over_whole_provinces(principal, ward_code):
        after = period_to + timedelta(days=1) if period_to else None
        reaches = await figures_repository.rolled_up_ward_reach(
            session, principal, period_from, after
        )
    else:
        reaches = await repository.ward_reach(session, principal, period_from, period_to, ward_code)
    year = (period_to or ctx.now.date()).year
    populations = await repository.latest_populations(session, principal, year, ward_code)
    wards: list[WardCoverage] = []
    counted = population_total = 0
    for code in sorted(set(reaches) | set(populations)):
        pop, dated = populations.get(code, (None, None))
        cov = domain.Coverage(reaches.get(code, 0), pop)
        if pop:
            counted += cov.counted
            population_total += pop
        wards.append(
            {
                "ward_code": code,
                "ward_name": name_of(code),
                "reached": cov.reached,
                "population": pop,
                "population_year": dated,
                "coverage": {"value": cov.ratio, "numerator": cov.counted, "denominator": pop or 0},
                "meets_target": cov.meets_target,
            }
        )
    # thousands of wards: dictionaries, validated once, by pydantic-core, as OutreachKpis is built
    return wards, ratio(counted, population_total)

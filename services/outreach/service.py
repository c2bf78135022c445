"""Outreach use cases: campaigns, activities, populations, commendations, target groups, and
coverage against the 75% target."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound, Unprocessable
from libs.common.figures import ratio
from libs.common.ids import new_id
from libs.common.jurisdiction import name_of, province_of
from libs.contracts.outreach import ActivityRecorded
from services.outreach import domain, repository
from services.outreach.access import Ctx, ensure_covers
from services.outreach.models import (
    Activity,
    Campaign,
    Commendation,
    TargetGroup,
    WardPopulation,
)
from services.outreach.schemas import (
    ActivityCreate,
    ActivityOut,
    CampaignCreate,
    CampaignOut,
    CommendationCreate,
    CommendationOut,
    OutreachKpis,
    PopulationIn,
    PopulationOut,
    TargetGroupIn,
    TargetGroupOut,
    WardCoverage,
)


async def _known_groups(session: AsyncSession, groups: list[str]) -> list[str]:
    known = await repository.active_group_codes(session)
    unknown = sorted(set(groups) - known)
    if unknown:
        raise Unprocessable(
            "unknown target groups",
            errors=[{"field": "target_groups", "message": f"not in the taxonomy: {unknown}"}],
        )
    return sorted(set(groups))


def campaign_out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        name=c.name,
        period_start=c.period_start,
        period_end=c.period_end,
        organiser=c.organiser,
        funder=c.funder,
        target_groups=c.target_groups,
        jurisdiction_code=c.jurisdiction_code,
        created_at=c.created_at,
    )


def activity_out(a: Activity) -> ActivityOut:
    return ActivityOut(
        id=a.id,
        campaign_id=a.campaign_id,
        ward_code=a.ward_code,
        kind=a.kind,
        held_on=a.held_on,
        people_reached=a.people_reached,
        materials_distributed=a.materials_distributed,
        target_groups=a.target_groups,
        evidence_ref=a.evidence_ref,
        created_at=a.created_at,
    )


async def create_campaign(ctx: Ctx, data: CampaignCreate) -> CampaignOut:
    session = ctx.session
    ensure_covers(ctx.require_principal(), data.jurisdiction_code)
    province = province_of(data.jurisdiction_code)
    assert province is not None
    campaign = Campaign(
        id=new_id(),
        name=data.name,
        period_start=data.period_start,
        period_end=data.period_end,
        organiser=data.organiser,
        funder=data.funder,
        target_groups=await _known_groups(session, data.target_groups),
        jurisdiction_code=data.jurisdiction_code,
        province_code=province,
        created_at=ctx.now,
        created_by=ctx.sub,
    )
    session.add(campaign)
    await session.flush()
    return campaign_out(campaign)


async def record_activity(ctx: Ctx, data: ActivityCreate) -> ActivityOut:
    session, principal = ctx.session, ctx.require_principal()
    ensure_covers(principal, data.ward_code)
    if data.campaign_id is not None:
        campaign = await session.get(Campaign, data.campaign_id)
        if campaign is None or not principal.covers(campaign.jurisdiction_code):
            raise Unprocessable(
                "no such campaign", errors=[{"field": "campaign_id", "message": "no such campaign"}]
            )
        if not campaign.period_start <= data.held_on <= campaign.period_end:
            raise Unprocessable(
                "the activity falls outside the campaign's period",
                errors=[{"field": "held_on", "message": "outside the campaign period"}],
            )
    province = province_of(data.ward_code)
    assert province is not None
    activity = Activity(
        id=new_id(),
        campaign_id=data.campaign_id,
        ward_code=data.ward_code,
        province_code=province,
        kind=data.kind.value,
        held_on=data.held_on,
        people_reached=data.people_reached,
        materials_distributed=data.materials_distributed,
        target_groups=await _known_groups(session, data.target_groups),
        evidence_ref=data.evidence_ref,
        created_at=ctx.now,
        created_by=ctx.sub,
    )
    session.add(activity)
    await session.flush()
    await ctx.emit(
        "outreach.activity.recorded",
        activity.id,
        ActivityRecorded(
            activity_id=activity.id,
            campaign_id=activity.campaign_id,
            ward_code=activity.ward_code,
            province_code=province,
            kind=activity.kind,
            held_on=activity.held_on,
            people_reached=activity.people_reached,
            materials_distributed=activity.materials_distributed,
            target_groups=activity.target_groups,
        ),
    )
    return activity_out(activity)


async def set_population(ctx: Ctx, ward_code: str, data: PopulationIn) -> PopulationOut:
    session = ctx.session
    province = province_of(ward_code)
    if province is None or len(ward_code) != 5:
        raise NotFound("no such ward")
    ensure_covers(ctx.require_principal(), ward_code)
    row = await session.get(WardPopulation, (ward_code, data.year))
    if row is None:
        row = WardPopulation(ward_code=ward_code, year=data.year, province_code=province)
        session.add(row)
    row.population = data.population
    row.source = data.source
    row.updated_at = ctx.now
    row.updated_by = ctx.sub
    await session.flush()
    return PopulationOut(
        ward_code=ward_code,
        year=row.year,
        population=row.population,
        source=row.source,
        updated_at=row.updated_at,
    )


async def commend(ctx: Ctx, data: CommendationCreate) -> CommendationOut:
    ensure_covers(ctx.require_principal(), data.ward_code)
    province = province_of(data.ward_code)
    assert province is not None
    row = Commendation(
        id=new_id(),
        recipient_kind=data.recipient_kind,
        recipient_name=data.recipient_name,
        ward_code=data.ward_code,
        province_code=province,
        reason=data.reason,
        awarded_on=data.awarded_on,
        level=data.level.value,
        created_at=ctx.now,
        created_by=ctx.sub,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    return CommendationOut(
        id=row.id,
        recipient_kind=row.recipient_kind,
        recipient_name=row.recipient_name,
        ward_code=row.ward_code,
        reason=row.reason,
        awarded_on=row.awarded_on,
        level=row.level,
    )


async def put_target_group(ctx: Ctx, code: str, data: TargetGroupIn) -> TargetGroupOut:
    session = ctx.session
    row = await session.get(TargetGroup, code)
    if row is None:
        row = TargetGroup(code=code)
        session.add(row)
    row.name_vi, row.name_en, row.active = data.name_vi, data.name_en, data.active
    await session.flush()
    return TargetGroupOut(code=code, name_vi=row.name_vi, name_en=row.name_en, active=row.active)


async def coverage_kpis(
    ctx: Ctx, *, period_from: date | None, period_to: date | None, ward_code: str | None
) -> OutreachKpis:
    session, principal = ctx.session, ctx.require_principal()
    if ward_code is not None:
        ensure_covers(principal, ward_code)
    scope = repository.activity_scope(principal)
    rows = await repository.reach_rows(session, scope, period_from, period_to, ward_code)
    year = (period_to or ctx.now.date()).year
    populations = await repository.latest_populations(
        session, repository.population_scope(principal), year, ward_code
    )
    by_ward: dict[str, list[domain.Reach]] = defaultdict(list)
    for ward, kind, people in rows:
        by_ward[ward].append(domain.Reach(domain.ActivityKind(kind), people))
    wards: list[WardCoverage] = []
    counted = population_total = 0
    for code in sorted(set(by_ward) | set(populations)):
        pop = populations.get(code)
        cov = domain.coverage(by_ward.get(code, []), pop.population if pop else None)
        if pop is not None and pop.population:
            counted += cov.counted
            population_total += pop.population
        wards.append(
            WardCoverage(
                ward_code=code,
                ward_name=name_of(code),
                reached=cov.reached,
                population=pop.population if pop else None,
                population_year=pop.year if pop else None,
                coverage=ratio(cov.counted, pop.population if pop else 0),
                meets_target=cov.meets_target,
            )
        )
    activities, materials, by_group = await repository.activity_totals(
        session, scope, period_from, period_to, ward_code
    )
    return OutreachKpis(
        period_from=period_from,
        period_to=period_to,
        target=domain.TARGET,
        coverage_ratio=ratio(counted, population_total),
        wards=wards,
        wards_below_target=[w.ward_code for w in wards if w.meets_target is False],
        wards_without_population=[w.ward_code for w in wards if w.population is None],
        activities=activities,
        materials_distributed=materials,
        by_target_group=by_group,
        commendations=await repository.commendation_count(
            session, principal, period_from, period_to
        ),
    )

"""Campaigns and what they do on the ground: activities in the wards, and the commendations of
the people and groups who carried them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import Unprocessable
from libs.common.ids import new_id
from libs.common.jurisdiction import province_of
from libs.contracts.outreach import ActivityRecorded
from services.outreach import repository
from services.outreach.access import Ctx, ensure_covers
from services.outreach.models import Activity, Campaign, Commendation
from services.outreach.schemas import (
    ActivityCreate,
    ActivityOut,
    CampaignCreate,
    CampaignOut,
    CommendationCreate,
    CommendationOut,
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
    await repository.save(session, campaign)
    return CampaignOut.model_validate(campaign)


async def list_campaigns(
    ctx: Ctx, active_on: date | None, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Campaign]:
    return await repository.list_campaigns(
        ctx.session, ctx.require_principal(), active_on, after, limit
    )


async def record_activity(ctx: Ctx, data: ActivityCreate) -> ActivityOut:
    session, principal = ctx.session, ctx.require_principal()
    ensure_covers(principal, data.ward_code)
    if data.campaign_id is not None:
        campaign = await repository.campaign(session, data.campaign_id)
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
    await repository.save(session, activity)
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
    return ActivityOut.model_validate(activity)


async def list_activities(
    ctx: Ctx,
    *,
    ward_code: str | None,
    campaign_id: UUID | None,
    held_from: date | None,
    held_to: date | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> Sequence[Activity]:
    return await repository.list_activities(
        ctx.session,
        ctx.require_principal(),
        ward_code=ward_code,
        campaign_id=campaign_id,
        held_from=held_from,
        held_to=held_to,
        after=after,
        limit=limit,
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
    await repository.save(ctx.session, row)
    return CommendationOut.model_validate(row)
